// Unit tests of the grid's pure helpers (photos/static/photos/cull/grid.js). Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { trashedNames } from "../../photos/static/photos/cull/grid.js";

const photo = (fields) => ({ basename: "IMG_0001", ext: "jpg", jpg_available: true, raw_available: true, other_available: false, keep_jpg: true, keep_raw: true, ...fields });

test("a commit trashes the discarded JPG by its name and extension", () => {
  assert.deepEqual(trashedNames(photo({ keep_jpg: false })), ["IMG_0001.jpg"]);
});

test("a RAW beside a JPG is named by its base name", () => {
  assert.deepEqual(trashedNames(photo({ keep_jpg: false, keep_raw: false })), ["IMG_0001.jpg", "IMG_0001 (RAW)"]);
});

test("a RAW alone is named with its own extension", () => {
  assert.deepEqual(trashedNames(photo({ ext: "raf", jpg_available: false, keep_jpg: false, keep_raw: false })), ["IMG_0001.raf"]);
});

test("kept files and missing files are not listed", () => {
  assert.deepEqual(trashedNames(photo({})), []);
  assert.deepEqual(trashedNames(photo({ raw_available: false, keep_raw: false })), []);
});
