// Unit tests of the workspace's store (photos/static/photos/cull/store.js): selection by
// click, Ctrl/Cmd+click and Shift+click, and the keep items of a revert. Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { Store, addTags, pendingDelete, removeTags, revertItems } from "../../photos/static/photos/cull/store.js";

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

// --- changes: apply, settle (rollback per field), remote changes, undo ---

function photoStore() {
  const store = new Store({ photosUrl: () => "/api/photos" });
  store.add({ id: 1, basename: "A", taken_at: null, jpg_available: true, raw_available: true, keep_jpg: true, keep_raw: true, rating: 0, label: "none", tags: ["a"], pending_delete: false });
  store.add({ id: 2, basename: "B", taken_at: null, jpg_available: true, raw_available: false, keep_jpg: true, keep_raw: false, rating: 0, label: "none", tags: [], pending_delete: false });
  return store;
}

test("a change shows before the server answers, marked in flight", () => {
  const store = photoStore();
  const emitted = [];
  store.subscribe((kind, detail) => emitted.push([kind, detail]));
  store.apply([{ photo_id: 1, keep_raw: false }]);
  assert.equal(store.get(1).keep_raw, false);
  assert.equal(store.get(1).pending_delete, true);
  assert.equal(store.get(1)._pending, 1);
  assert.deepEqual(emitted, [["photos", [1]]]);
});

test("a refused item rolls back only its fields; an accepted one stays", () => {
  const store = photoStore();
  const rating = store.apply([{ photo_id: 1, rating: 4 }]);
  const keep = store.apply([{ photo_id: 1, keep_jpg: false }, { photo_id: 2, keep_jpg: false }]);
  const applied = store.settle(keep, new Set([1]));
  assert.deepEqual(applied, [{ photo_id: 2, keep_jpg: false }]);
  assert.equal(store.get(1).keep_jpg, true); // Rolled back.
  assert.equal(store.get(1).pending_delete, false);
  assert.equal(store.get(1).rating, 4); // Another change still on its way: untouched.
  assert.equal(store.get(1)._pending, 1);
  assert.equal(store.get(2).keep_jpg, false);
  assert.equal("_pending" in store.get(2), false);
  store.settle(rating);
  assert.equal("_pending" in store.get(1), false);
});

test("tags are added and removed as sets, and rolled back", () => {
  const store = photoStore();
  const change = store.apply([{ photo_id: 1, tags: ["b", "a"] }], addTags);
  assert.deepEqual(store.get(1).tags, ["a", "b"]);
  store.settle(change, new Set([1]));
  assert.deepEqual(store.get(1).tags, ["a"]);
  store.apply([{ photo_id: 1, tags: ["a"] }], removeTags);
  assert.deepEqual(store.get(1).tags, []);
});

test("a change from another tab is applied from its event's fields", () => {
  const store = photoStore();
  assert.equal(store.applyRemote(1, { photo_id: 1, project_id: 9, keep_jpg: false }), true);
  assert.equal(store.get(1).keep_jpg, false);
  assert.equal(store.get(1).pending_delete, true);
  // A worker's event names no field the grid shows: the caller reads the photo.
  assert.equal(store.applyRemote(1, { photo_id: 1, changes: { thumbnail_status: "generated" } }), false);
  assert.equal(store.applyRemote(99, { photo_id: 99, keep_jpg: false }), false);
});

test("undo is last in, first out, and survives a filter change", () => {
  const store = photoStore();
  store.pushUndo({ path: "keep", items: [{ photo_id: 1, keep_jpg: true }] });
  store.pushUndo({ path: "rating", items: [{ photo_id: 1, rating: 0 }] });
  store.reset({ project: "2" });
  assert.equal(store.popUndo().path, "rating");
  assert.equal(store.popUndo().path, "keep");
  assert.equal(store.popUndo(), undefined);
});

test("pendingDelete: a present file that is not kept", () => {
  assert.equal(pendingDelete({ jpg_available: true, keep_jpg: false }), true);
  assert.equal(pendingDelete({ jpg_available: false, keep_jpg: false, raw_available: true, keep_raw: true }), false);
});
