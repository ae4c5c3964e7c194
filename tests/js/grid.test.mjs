// Unit tests of the grid's pure helpers (photos/static/photos/cull/grid.js). Run: node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { TILE_DEFAULT, TILE_MAX, TILE_MIN, gridMetrics, tileSize, trashedNames } from "../../photos/static/photos/cull/grid.js";

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

test("a larger tile size gives fewer, wider columns; tiles fill the row", () => {
  const small = gridMetrics(1000, 120);
  const large = gridMetrics(1000, 320);
  assert.ok(small.columns > large.columns);
  assert.equal(large.columns, 3);
  for (const { columns, tile } of [small, large]) {
    assert.ok(columns * (tile + 8) <= 992);
    assert.ok(columns * (tile + 8) > 992 - columns - 8);
  }
  assert.equal(small.row - small.tile, large.row - large.tile); // The info lines keep their height.
  assert.equal(gridMetrics(100, 320).columns, 1); // Narrower than a tile: one column.
});

test("a stored tile size is kept within the slider's range", () => {
  assert.equal(tileSize("200"), 200);
  assert.equal(tileSize("5000"), TILE_MAX);
  assert.equal(tileSize("12"), TILE_MIN);
  assert.equal(tileSize(null), TILE_DEFAULT);
  assert.equal(tileSize("big"), TILE_DEFAULT);
});
