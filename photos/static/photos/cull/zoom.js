// Zoom and pan of the loupe (pure functions, unit-tested in tests/js/zoom.test.mjs).
//
// A view is a box {width, height} in CSS pixels; an image has its full size {width, height}
// in its own pixels (the photo's, which the 100 % view shows one to one). The zoom state is
// shared by every pane of the loupe (compare keeps two photos in step), so it is kept apart
// from any one image's size: ``{zoomed, scale, cx, cy}`` where ``scale`` is screen pixels per
// image pixel (1 = 100 %) and (cx, cy) is the point of the image, as fractions of its width
// and height, at the view's centre. Not zoomed, the image is fitted to the view and centred.

export const FITTED = Object.freeze({ zoomed: false, scale: 1, cx: 0.5, cy: 0.5 });

// The scale at which ``image`` fits ``view`` (small images are enlarged, as a loupe does).
export function fitScale(view, image) {
  if (!image || !image.width || !image.height || !view.width || !view.height) return 1;
  return Math.min(view.width / image.width, view.height / image.height);
}

// Where the image goes in the view: its scale and its top-left corner {scale, x, y}.
export function layout(view, image, state) {
  if (!state.zoomed) {
    const scale = fitScale(view, image);
    return { scale, x: (view.width - image.width * scale) / 2, y: (view.height - image.height * scale) / 2 };
  }
  const scale = state.scale;
  return { scale, x: view.width / 2 - state.cx * image.width * scale, y: view.height / 2 - state.cy * image.height * scale };
}

// The image pixel under the view point (px, py).
export function imagePoint(view, image, state, px, py) {
  const { scale, x, y } = layout(view, image, state);
  return { x: (px - x) / scale, y: (py - y) / scale };
}

// The state at ``scale`` that keeps the image point under (px, py) where it is on screen.
export function zoomAt(view, image, state, px, py, scale = 1) {
  const point = imagePoint(view, image, state, px, py);
  const left = px - point.x * scale;
  const top = py - point.y * scale;
  return {
    zoomed: true,
    scale,
    cx: (view.width / 2 - left) / (image.width * scale),
    cy: (view.height / 2 - top) / (image.height * scale),
  };
}

// The state after a drag of (dx, dy) screen pixels: the image follows the pointer, as far as
// its edge reaching the view's centre (some of the image always stays in view).
export function pan(image, state, dx, dy) {
  if (!state.zoomed) return state;
  const clamp = (v) => Math.min(1, Math.max(0, v));
  return {
    ...state,
    cx: clamp(state.cx - dx / (image.width * state.scale)),
    cy: clamp(state.cy - dy / (image.height * state.scale)),
  };
}

// The survey's grid: the number of columns that gives ``count`` cells of aspect ``aspect``
// (width / height) the largest size in ``view``, and that size {columns, rows, width, height}.
export function surveyGrid(view, count, aspect = 1.5, gap = 8) {
  let best = { columns: 1, rows: Math.max(1, count), width: 0, height: 0 };
  for (let columns = 1; columns <= Math.max(1, count); columns++) {
    const rows = Math.ceil(count / columns);
    const cellWidth = (view.width - gap * (columns + 1)) / columns;
    const cellHeight = (view.height - gap * (rows + 1)) / rows;
    const width = Math.max(0, Math.min(cellWidth, cellHeight * aspect));
    if (width > best.width) best = { columns, rows, width, height: width / aspect };
  }
  return best;
}
