// The page around the grid: the tile size slider, the photo count, the empty grid's text, the
// messages' room and the workspace's height: views, they read the store and the filter. And the
// first page of a filter, read into the store and timed to its paint.

import { tileSize } from "./grid.js";
import { uploadingText } from "./upload.js";

const TILE_SIZE_KEY = "cull.tileSize";

// The tile size slider: remembered in this browser (localStorage), the grid reflows.
export function tileSizeControl(input, grid) {
  const apply = (value, remember = false) => {
    const size = tileSize(value);
    input.value = String(size);
    input.setAttribute("aria-valuetext", `${size} pixels`);
    grid.setSize(size);
    if (!remember) return;
    try {
      localStorage.setItem(TILE_SIZE_KEY, String(size));
    } catch (error) {
      // Storage refused (private mode): the size holds for this page only.
    }
  };
  let stored = null;
  try {
    stored = localStorage.getItem(TILE_SIZE_KEY);
  } catch (error) {
    // No storage: the default size.
  }
  apply(stored);
  input.addEventListener("input", () => apply(input.value, true));
}

// While messages show (bottom right, over everything), the grid and the tray end above them:
// a message never covers a tile.
export function keepRoomForMessages(root, messages) {
  new ResizeObserver(() => {
    const height = messages.childElementCount ? messages.getBoundingClientRect().height + 12 : 0;
    root.style.setProperty("--cull-messages-height", `${height}px`);
  }).observe(messages);
}

// Fill the window below the admin's header whatever its height (it wraps on a tablet).
export function fitToWindow(root) {
  const fit = () => {
    root.style.height = `${Math.max(420, window.innerHeight - root.getBoundingClientRect().top - 8)}px`;
  };
  window.addEventListener("resize", fit);
  fit();
}

// "N photos · M selected" (loaded ones; "+" while more pages wait), stacks counted as one.
export function countText(store) {
  const loaded = store.all.length;
  const selected = store.selection.size;
  const stacks = store.photos.length < loaded ? ` in ${store.photos.length} tiles` : "";
  return `${loaded}${store.complete ? "" : "+"} photo${loaded === 1 ? "" : "s"}${stacks}${selected ? ` · ${selected} selected` : ""}`;
}

// The count and the empty grid's text (``showEmpty()``) follow the store: a page loaded, the
// selection changed, a new filter.
export function showCount(store, count, showEmpty) {
  store.subscribe((kind) => {
    if (kind !== "loaded" && kind !== "selection" && kind !== "reset") return;
    count.textContent = countText(store);
    showEmpty();
  });
}

// A filter's photos (``query``, the API's): the store starts over and reads the first page.
// Once it is painted the page is ready (``data-ready``, which the browser tests wait for), and
// ``metrics`` (window.cullMetrics, reported by the tests, never asserted on time) get the time
// since the page ``started`` (the first time only) and since this filter.
export function loadFirstPage(root, store, query, { metrics, started, say }) {
  store.reset(query);
  const t0 = performance.now();
  store.loadMore().then(() => {
    requestAnimationFrame(() => {
      if (metrics.firstPaintMs === null) metrics.firstPaintMs = performance.now() - started;
      metrics.lastLoadMs = performance.now() - t0;
      root.dataset.ready = "true";
    });
  }, (error) => say(error.message, "error"));
}

// The empty grid says why: an upload on its way, or a filter nothing matches.
export function showEmpty(empty, store, uploader, project) {
  if (store.photos.length && uploader.state && !uploader.state.busy) uploader.state = null; // They came.
  empty.hidden = !(store.complete && store.photos.length === 0);
  const uploading = uploadingText(uploader.state, project);
  empty.textContent = uploading || "No photos match this filter.";
  empty.classList.toggle("cull-empty-uploading", Boolean(uploading));
}
