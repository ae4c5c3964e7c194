// Unit tests of bursts as stacks, sort orders and hints (photos/static/photos/cull/stacks.js),
// and of the store's stacks (store.js). Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { comparator, hintBadges, softFrames, visibleFrames } from "../../photos/static/photos/cull/stacks.js";
import { Store } from "../../photos/static/photos/cull/store.js";

function frame(id, burst, sharpness, extra = {}) {
  const size = burst === null ? null : 3;
  return { id, basename: `IMG_${id}`, taken_at: null, burst, burst_size: size, burst_sharpest: burst === null ? null : 2, sharpness, ...extra };
}

const shoot = () => [frame(1, 1, 10), frame(2, 1, 90), frame(3, 1, 20), frame(4, null, 50), frame(5, 5, 40, { burst_size: 1 })];

test("a burst shows as its first frame until expanded; a burst of one is no stack", () => {
  const photos = shoot();
  assert.deepEqual(visibleFrames(photos).map((p) => p.id), [1, 4, 5]);
  assert.deepEqual(visibleFrames(photos, { expanded: new Set([1]) }).map((p) => p.id), [1, 2, 3, 4, 5]);
  assert.deepEqual(visibleFrames(photos, { stacking: false }).map((p) => p.id), [1, 2, 3, 4, 5]);
});

test("soft frames are well below their burst's sharpest, or the median when alone", () => {
  const soft = softFrames(shoot());
  assert.deepEqual([...soft].sort(), [1, 3]);
  const badges = (p) => hintBadges(p, { soft }).map((b) => b.key);
  assert.deepEqual(badges(shoot()[1]), ["sharpest"]);
  assert.deepEqual(badges(shoot()[0]), ["soft"]);
  assert.deepEqual(badges(frame(9, null, 50, { highlights_clipped: 0.1, shadows_clipped: 0.03 })), ["highlights", "shadows"]);
  assert.deepEqual(badges(frame(9, null, 50, { highlights_clipped: 0.01 })), []);
});

test("the comparator follows the API: descending, missing values last, then the id", () => {
  const photos = [
    { id: 1, basename: "B", rating: 2, sharpness: null, taken_at: "2025-07-14T09:30:00" },
    { id: 2, basename: "A", rating: 5, sharpness: 10, taken_at: null },
    { id: 3, basename: "C", rating: 5, sharpness: 30, taken_at: "2025-07-14T09:29:00+02:00" },
  ];
  const ids = (ordering) => photos.slice().sort(comparator(ordering)).map((p) => p.id);
  assert.deepEqual(ids(undefined), [3, 1, 2]);
  assert.deepEqual(ids(["basename"]), [2, 1, 3]);
  assert.deepEqual(ids(["-rating", "taken_at"]), [3, 2, 1]);
  assert.deepEqual(ids(["-sharpness"]), [3, 2, 1]);
});

test("the store shows stacks, expands them, keeps the cursor and selects hidden frames with all", () => {
  const store = new Store({ photosUrl: () => "/api/photos/" });
  for (const photo of shoot()) store.add(photo);
  assert.deepEqual(store.photos.map((p) => p.id), [1, 4, 5]);
  store.moveTo(1);
  store.toggleStack(1);
  assert.deepEqual(store.photos.map((p) => p.id), [1, 2, 3, 4, 5]);
  assert.equal(store.photos[store.cursor].id, 4); // The cursor stayed on its photo.
  store.moveTo(2); // Frame 3, inside the burst.
  store.toggleStack(1);
  assert.equal(store.photos[store.cursor].id, 1); // Onto the stack's cover.
  store.selectAll();
  assert.equal(store.selection.size, 5);
  assert.equal(store.get(3).id, 3);
  store.focus = 2;
  assert.deepEqual(store.targets().map((p) => p.id), [2]);
});

test("in another order than capture time the frames are not stacked", () => {
  const store = new Store({ photosUrl: () => "/api/photos/" });
  store.reset({ ordering: "-sharpness,taken_at,basename" });
  for (const photo of shoot()) store.add(photo);
  assert.equal(store.photos.length, 5);
});

test("a step past the loaded photos loads the next page first", async () => {
  const pages = [{ results: [{ id: 3, basename: "C", taken_at: null }], next: null }];
  const store = new Store({ photosUrl: () => "/p1", get: async () => pages.shift(), nextPageUrl: () => null });
  store.add({ id: 1, basename: "A", taken_at: null });
  store.add({ id: 2, basename: "B", taken_at: null });
  store.moveTo(1);
  await store.step(1);
  assert.equal(store.photos[store.cursor].id, 3);
  await store.step(5);
  assert.equal(store.cursor, 2); // The end: it stays on the last photo.
});
