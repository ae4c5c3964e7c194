// Unit tests of the page around the workspace's grid (photos/static/photos/cull/page.js): the
// count, and a filter's first page with the measurements the browser tests report.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { loadFirstPage, showCount } from "../../photos/static/photos/cull/page.js";

globalThis.requestAnimationFrame = (paint) => setTimeout(paint);
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

function fakeStore(load = async () => {}) {
  const store = { all: [], photos: [], selection: new Set(), complete: true, reset: (query) => (store.query = query), loadMore: load };
  store.subscribe = (fn) => (store.listener = fn);
  return store;
}

test("the count and the empty text follow loads, the selection and a new filter, not the cursor", () => {
  const store = fakeStore();
  const count = { textContent: "" };
  let empties = 0;
  showCount(store, count, () => (empties += 1));
  store.all = store.photos = [{ id: 1 }, { id: 2 }];
  store.selection = new Set([1]);
  store.listener("cursor");
  assert.deepEqual([count.textContent, empties], ["", 0]);
  for (const kind of ["loaded", "selection", "reset"]) store.listener(kind);
  assert.deepEqual([count.textContent, empties], ["2 photos · 1 selected", 3]);
});

test("a filter's first page: the page is ready once painted, the first paint timed once", async () => {
  const root = { dataset: {} };
  const metrics = { firstPaintMs: null };
  const store = fakeStore();
  loadFirstPage(root, store, { project: "3" }, { metrics, started: performance.now(), say: assert.fail });
  assert.deepEqual(store.query, { project: "3" });
  assert.equal(root.dataset.ready, undefined);
  await settle();
  assert.equal(root.dataset.ready, "true");
  const first = metrics.firstPaintMs;
  assert.ok(first >= 0 && metrics.lastLoadMs >= 0);
  loadFirstPage(root, store, {}, { metrics, started: 0, say: assert.fail });
  await settle();
  assert.equal(metrics.firstPaintMs, first);
});

test("a first page refused is said, and the page is not marked ready", async () => {
  const root = { dataset: {} };
  const said = [];
  const store = fakeStore(async () => {
    throw new Error("Server error");
  });
  loadFirstPage(root, store, {}, { metrics: { firstPaintMs: null }, started: 0, say: (...args) => said.push(args) });
  await settle();
  assert.deepEqual(said, [["Server error", "error"]]);
  assert.equal(root.dataset.ready, undefined);
});
