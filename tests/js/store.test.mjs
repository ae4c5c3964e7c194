// Unit tests of the workspace's store (photos/static/photos/cull/store.js): selection by
// click, Ctrl/Cmd+click and Shift+click, and the keep items of a revert. Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { Store, revertItems } from "../../photos/static/photos/cull/store.js";

function storeOf(count) {
  const store = new Store({ photosUrl: () => "/api/photos/" });
  for (let id = 1; id <= count; id++) store.add({ id, basename: `IMG_${id}`, taken_at: null });
  return store;
}

const selected = (store) => [...store.selection].sort((a, b) => a - b);

test("a click selects the photo clicked; Ctrl+clicks add to it", () => {
  const store = storeOf(5);
  store.moveTo(1, { select: true });
  assert.deepEqual(selected(store), [2]);
  store.moveTo(3, { add: true, select: true });
  store.moveTo(4, { add: true, select: true });
  assert.deepEqual(selected(store), [2, 4, 5]);
  assert.deepEqual(store.targets().map((p) => p.id).sort(), [2, 4, 5]);
});

test("Ctrl+click removes a selected photo", () => {
  const store = storeOf(4);
  store.moveTo(0, { select: true });
  store.moveTo(2, { add: true });
  store.moveTo(0, { add: true });
  assert.deepEqual(selected(store), [3]);
});

test("Ctrl+click after moving by keyboard keeps the photo under the cursor", () => {
  const store = storeOf(4);
  store.moveTo(1); // An arrow: no selection, the keys act on the cursor's photo.
  assert.deepEqual(selected(store), []);
  store.moveTo(3, { add: true });
  assert.deepEqual(selected(store), [2, 4]);
});

test("Ctrl+click on the photo under the cursor selects it alone", () => {
  const store = storeOf(3);
  store.moveTo(1);
  store.moveTo(1, { add: true });
  assert.deepEqual(selected(store), [2]);
});

test("Shift+click extends from the anchor of the last click", () => {
  const store = storeOf(6);
  store.moveTo(1, { select: true });
  store.moveTo(4, { extend: true });
  assert.deepEqual(selected(store), [2, 3, 4, 5]);
});

test("arrows clear the selection", () => {
  const store = storeOf(3);
  store.moveTo(0, { select: true });
  store.moveTo(1);
  assert.deepEqual(selected(store), []);
  assert.equal(store.targets()[0].id, 2);
});

test("a revert sets only the keep flags that differ from the files present", () => {
  const photos = [
    { id: 1, jpg_available: true, raw_available: true, keep_jpg: true, keep_raw: false },
    { id: 2, jpg_available: true, raw_available: false, keep_jpg: true, keep_raw: false },
    { id: 3, jpg_available: false, raw_available: true, keep_jpg: true, keep_raw: false },
  ];
  assert.deepEqual(revertItems(photos), [
    { photo_id: 1, keep_raw: true },
    { photo_id: 3, keep_jpg: false, keep_raw: true },
  ]);
});
