// Unit tests of the loupe's zoom and pan (photos/static/photos/cull/zoom.js): the point under
// the cursor stays there when zooming, a drag moves the image with the pointer, and the
// survey's grid fits the window. Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { FITTED, fitScale, imagePoint, layout, pan, surveyGrid, zoomAt } from "../../photos/static/photos/cull/zoom.js";

const view = { width: 1000, height: 800 };
const image = { width: 6000, height: 4000 };
const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} != ${b}`);

test("fitted, the image is scaled to the view and centred", () => {
  const { scale, x, y } = layout(view, image, FITTED);
  close(scale, 1000 / 6000, "scale");
  close(x, 0, "x");
  close(y, (800 - 4000 * scale) / 2, "y");
  assert.equal(fitScale(view, { width: 100, height: 100 }), 8); // Small images are enlarged.
});

test("zooming to 100 % keeps the image point under the cursor where it was", () => {
  for (const [px, py] of [[500, 400], [120, 230], [990, 700], [3, 140]]) {
    const before = imagePoint(view, image, FITTED, px, py);
    const zoomed = zoomAt(view, image, FITTED, px, py, 1);
    assert.equal(zoomed.zoomed, true);
    assert.equal(layout(view, image, zoomed).scale, 1);
    const after = imagePoint(view, image, zoomed, px, py);
    close(after.x, before.x, `x at ${px},${py}`);
    close(after.y, before.y, `y at ${px},${py}`);
  }
});

test("zooming again from a zoomed state keeps the point too (200 %)", () => {
  const once = zoomAt(view, image, FITTED, 300, 300, 1);
  const before = imagePoint(view, image, once, 640, 210);
  const twice = zoomAt(view, image, once, 640, 210, 2);
  const after = imagePoint(view, image, twice, 640, 210);
  close(after.x, before.x, "x");
  close(after.y, before.y, "y");
});

test("a drag moves the image with the pointer, never out of the view's centre", () => {
  const zoomed = zoomAt(view, image, FITTED, 500, 400, 1);
  const dragged = pan(image, zoomed, 100, -50);
  const a = layout(view, image, zoomed);
  const b = layout(view, image, dragged);
  close(b.x - a.x, 100, "dx");
  close(b.y - a.y, -50, "dy");
  const far = pan(image, zoomed, 1e6, 1e6);
  assert.deepEqual([far.cx, far.cy], [0, 0]);
  assert.equal(pan(image, FITTED, 10, 10), FITTED); // Nothing to pan when fitted.
});

test("the same state shows two photos of different sizes at the same relative point", () => {
  const state = zoomAt(view, image, FITTED, 250, 200, 1);
  const other = { width: 3000, height: 2000 };
  const a = imagePoint(view, image, state, 500, 400);
  const b = imagePoint(view, other, state, 500, 400);
  close(a.x / image.width, b.x / other.width, "relative x");
  close(a.y / image.height, b.y / other.height, "relative y");
});

test("the survey picks the columns that give the largest cells", () => {
  assert.equal(surveyGrid({ width: 1200, height: 800 }, 1).columns, 1);
  assert.equal(surveyGrid({ width: 1200, height: 800 }, 2).columns, 2);
  const six = surveyGrid({ width: 1200, height: 800 }, 6);
  assert.equal(six.columns, 3);
  assert.equal(six.rows, 2);
  assert.ok(six.width * six.columns <= 1200 && six.height * six.rows <= 800);
  const tall = surveyGrid({ width: 400, height: 1600 }, 4);
  assert.equal(tall.columns, 1);
});
