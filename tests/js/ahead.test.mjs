// The loupe's decode-ahead choices (photos/static/photos/cull/ahead.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { aheadPositions, firstPicture } from "../../photos/static/photos/cull/ahead.js";

test("the next two and the previous one, nearest first", () => {
  assert.deepEqual(aheadPositions(5, 20), [6, 4, 7]);
});

test("no position outside the list", () => {
  assert.deepEqual(aheadPositions(0, 20), [1, 2]);
  assert.deepEqual(aheadPositions(19, 20), [18]);
  assert.deepEqual(aheadPositions(18, 20), [19, 17]);
  assert.deepEqual(aheadPositions(0, 1), []);
  assert.deepEqual(aheadPositions(0, 0), []);
});

test("other spans", () => {
  assert.deepEqual(aheadPositions(5, 20, { next: 1, previous: 3 }), [6, 4, 3, 2]);
  assert.deepEqual(aheadPositions(5, 20, { next: 0, previous: 0 }), []);
});

test("the first picture: the sharpest one ready, else the thumbnail, else nothing", () => {
  assert.equal(firstPicture({ zoomed: true, fullReady: true, previewReady: true, thumb: true }), "full");
  assert.equal(firstPicture({ zoomed: false, fullReady: true, previewReady: true, thumb: true }), "preview");
  assert.equal(firstPicture({ zoomed: true, fullReady: false, previewReady: true, thumb: true }), "preview");
  assert.equal(firstPicture({ previewReady: false, thumb: true }), "thumbnail");
  assert.equal(firstPicture({}), "none");
});
