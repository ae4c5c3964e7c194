// Unit tests of what the empty grid says about an upload (photos/static/photos/cull/upload.js).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { uploadingText } from "../../photos/static/photos/cull/upload.js";

test("while files are being saved the empty grid says it is uploading, not that nothing matches", () => {
  const state = { project: 4, busy: true, files: 25, saved: 10 };
  assert.match(uploadingText(state, "4"), /^Uploading 25 files… 10 saved so far/);
  assert.match(uploadingText({ ...state, files: 1, saved: 0 }, 4), /^Uploading 1 file… 0 saved/);
});

test("after an upload, until its photos show, the grid says they are on their way", () => {
  assert.match(uploadingText({ project: 4, busy: false, files: 3, saved: 2 }, 4), /^2 files uploaded; photos appear/);
});

test("another project, no upload, or nothing saved: the filter's own words", () => {
  assert.equal(uploadingText({ project: 4, busy: true, files: 3, saved: 0 }, 5), null);
  assert.equal(uploadingText(null, 4), null);
  assert.equal(uploadingText({ project: 4, busy: false, files: 3, saved: 0 }, 4), null);
});
