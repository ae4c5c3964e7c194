// Unit tests of the workspace's trash helpers (photos/static/photos/cull/trash.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

// trash.js imports focus.js, which listens on the document when loaded.
globalThis.document = { addEventListener() {} };
globalThis.location = { href: "http://testserver/admin/cull/" };
const { committedPhotoIds, restoreSummary } = await import("../../photos/static/photos/cull/trash.js");
const { Api } = await import("../../photos/static/photos/cull/api.js");

// The real client, its paths as the bootstrap gives them, answering GETs from ``pages``.
function fakeApi(pages) {
  const api = new Api({ csrf: "t", maxItems: 10, pageSize: 100, paths: { jobs: "/api/jobs", "job-items": "/api/jobs/{id}/items" } });
  api.asked = [];
  api.get = async (url) => {
    api.asked.push(url);
    if (!(url in pages)) throw new Error(`unexpected ${url}`);
    return pages[url];
  };
  return api;
}

test("undo restores exactly the photos its commit trashed: done items of every file_removal job", async () => {
  const api = fakeApi({
    "/api/jobs?task=t-1&type=file_removal&page_size=100": { results: [{ id: 7 }, { id: 8 }] },
    "/api/jobs/7/items?page_size=1000": {
      results: [
        { photo: 11, status: "done" },
        { photo: 12, status: "skipped" },
      ],
      next: "http://testserver/api/jobs/7/items/?page_size=1000&cursor=abc",
    },
    "/api/jobs/7/items/?page_size=1000&cursor=abc": { results: [{ photo: 13, status: "done" }], next: null },
    "/api/jobs/8/items?page_size=1000": { results: [{ photo: null, status: "done" }, { photo: 14, status: "failed" }], next: null },
  });
  assert.deepEqual(await committedPhotoIds(api, "t-1"), [11, 13]);
  assert.equal(api.asked.length, 4);
});

test("a restore reply says whether a task started and which items were refused", () => {
  const refused = [{ photo_id: 3, error: "A photo named 'IMG_3' already exists in the project; nothing was restored." }];
  assert.deepEqual(restoreSummary({ replies: [{ task_id: "x" }], errors: refused }), { started: true, refused });
  assert.deepEqual(restoreSummary({ replies: [], errors: [] }), { started: false, refused: [] });
});
