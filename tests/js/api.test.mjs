// Unit tests of the workspace's API client (photos/static/photos/cull/api.js): URL building
// from the bootstrap's paths, request ids, and bulk bodies split at the item limit.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { Api, buildUrl, relativeUrl } from "../../photos/static/photos/cull/api.js";

const paths = {
  photos: "/api/photos",
  photo: "/api/photos/{id}",
  thumbnail: "/api/photos/{id}/thumbnail",
  keep: "/api/photos/keep",
  jobs: "/api/jobs",
  "project-upload": "/api/projects/{id}/upload",
};

test("a path is filled with its id and its query, repeated keys for lists", () => {
  assert.equal(buildUrl(paths, "photo", { id: 7 }), "/api/photos/7");
  assert.equal(buildUrl(paths, "jobs", { query: { status: ["queued", "running"], page_size: 500 } }), "/api/jobs?status=queued&status=running&page_size=500");
  assert.equal(buildUrl(paths, "photos"), "/api/photos");
});

test("an unknown path name is an error, not a guessed URL", () => {
  assert.throws(() => buildUrl(paths, "nope"), /No API path named nope/);
});

test("thumbnails are versioned by the photo's last change", () => {
  const api = new Api({ csrf: "t", maxItems: 2, pageSize: 100, paths, tab: "tab-a" });
  assert.equal(api.imageUrl({ id: 3, updated_at: "2026-01-01T00:00:00+00:00" }), "/api/photos/3/thumbnail?v=2026-01-01T00%3A00%3A00%2B00%3A00");
  assert.equal(api.imageUrl({ id: 3 }), "/api/photos/3/thumbnail");
});

test("the photo list asks for the page size, and next pages keep asking for full pages", () => {
  const api = new Api({ csrf: "t", maxItems: 2, pageSize: 1000, paths, tab: "tab-a" });
  assert.equal(api.photosUrl({ project: "4" }, 200), "/api/photos?project=4&page_size=200");
  assert.equal(api.nextPageUrl("http://testserver/api/photos?cursor=abc&page_size=200"), "/api/photos?cursor=abc&page_size=1000");
  assert.equal(api.nextPageUrl(null), null);
  assert.equal(relativeUrl("https://example.org/api/jobs/7/items/?cursor=x"), "/api/jobs/7/items/?cursor=x");
});

test("each write carries a request id of this tab; events with it are the tab's own", async () => {
  const seen = [];
  globalThis.fetch = async (url, init) => {
    seen.push({ url, init });
    return { ok: true, status: 200, text: async () => JSON.stringify({ updated: 1 }) };
  };
  const api = new Api({ csrf: "tok", maxItems: 2, pageSize: 100, paths, tab: "tab-a" });
  await api.get("/api/photos");
  await api.post("/api/photos/keep", { items: [] });
  await api.post("/api/photos/keep", { items: [] });
  assert.equal(seen[0].init.headers["X-Request-ID"], undefined);
  assert.equal(seen[1].init.headers["X-Request-ID"], "tab-a.1");
  assert.equal(seen[2].init.headers["X-Request-ID"], "tab-a.2");
  assert.equal(seen[1].init.headers["X-CSRFToken"], "tok");
  assert.equal(api.isOwn({ payload: { request_id: "tab-a.2" } }), true);
  assert.equal(api.isOwn({ payload: { request_id: "tab-ab.1" } }), false);
  assert.equal(api.isOwn({ payload: {} }), false);
});

test("bulk splits at the item limit and a refused chunk becomes per-item errors", async () => {
  const bodies = [];
  globalThis.fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    bodies.push({ url, body });
    if (body.items[0].photo_id === 3) return { ok: false, status: 403, text: async () => JSON.stringify({ detail: "Not allowed." }) };
    return { ok: true, status: 200, text: async () => JSON.stringify({ updated: body.items.length, errors: [] }) };
  };
  const api = new Api({ csrf: "t", maxItems: 2, pageSize: 100, paths, tab: "tab-a" });
  const items = [1, 2, 3, 4, 5].map((id) => ({ photo_id: id, keep_jpg: false }));
  const result = await api.bulk("keep", items);
  assert.deepEqual(bodies.map((b) => b.body.items.map((i) => i.photo_id)), [[1, 2], [3, 4], [5]]);
  assert.ok(bodies.every((b) => b.url === "/api/photos/keep"));
  assert.equal(result.updated, 3);
  assert.deepEqual(result.errors, [
    { photo_id: 3, error: "Not allowed." },
    { photo_id: 4, error: "Not allowed." },
  ]);
});
