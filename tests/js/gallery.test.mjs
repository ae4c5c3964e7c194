// Unit tests of the client gallery's state and gestures (sharing/static/sharing/).
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { Api, ApiError } from "../../photos/static/photos/cull/api.js";
import { keyStep, swipeStep } from "../../sharing/static/sharing/gestures.js";
import { GalleryStore, srcsetOf } from "../../sharing/static/sharing/store.js";

const PATHS = { photos: "/s/tok/api/photos", picks: "/s/tok/api/picks", zip: "/s/tok/download/picks.zip" };

// The workspace's Api with fetch answered by ``answer(method, url, body)``.
function fakeApi(answer) {
  const api = new Api({ csrf: "c", maxItems: 1, pageSize: 0, paths: PATHS, tab: "tab-t" });
  const sent = [];
  globalThis.fetch = async (url, init) => {
    const body = init.body ? JSON.parse(init.body) : undefined;
    sent.push({ method: init.method, url, body, headers: init.headers });
    const [status, data] = answer(init.method, url, body);
    return { ok: status < 400, status, text: async () => JSON.stringify(data) };
  };
  return { api, sent };
}

const PHOTOS = [
  { id: 1, basename: "A", picked: false, comment: "", thumbnail: "/t1", preview: "/p1", width: 6000, height: 4000 },
  { id: 2, basename: "B", picked: true, comment: "nice", thumbnail: "/t2", preview: "/p2", width: 4000, height: 6000 },
];

test("load asks for the named client's picks through the bootstrap path", async () => {
  const { api, sent } = fakeApi(() => [200, { results: structuredClone(PHOTOS) }]);
  const store = new GalleryStore(api);
  const kinds = [];
  store.subscribe((kind) => kinds.push(kind));
  await store.load("Anna Lee");
  assert.equal(sent[0].url, "/s/tok/api/photos?name=Anna+Lee");
  assert.equal(store.photos.length, 2);
  assert.deepEqual(store.picked.map((p) => p.id), [2]);
  assert.deepEqual(kinds, ["photos"]);
});

test("a heart shows at once, is sent with the name and CSRF token, and takes the reply", async () => {
  const { api, sent } = fakeApi((method) =>
    method === "GET" ? [200, { results: structuredClone(PHOTOS) }] : [200, { photo_id: 1, picked: true, comment: "", name: "Anna" }],
  );
  const store = new GalleryStore(api);
  await store.load("Anna");
  const seen = [];
  store.subscribe((kind, photo) => seen.push([kind, photo.picked]));
  const pending = store.togglePick(1);
  assert.equal(store.photos[0].picked, true); // before the server answered
  await pending;
  const post = sent[1];
  assert.equal(post.method, "POST");
  assert.equal(post.url, "/s/tok/api/picks");
  assert.deepEqual(post.body, { photo_id: 1, picked: true, name: "Anna" });
  assert.equal(post.headers["X-CSRFToken"], "c");
  assert.deepEqual(seen, [["pick", true], ["pick", true]]);
});

test("a refused pick is rolled back and the error reaches the caller", async () => {
  const { api } = fakeApi((method) =>
    method === "GET" ? [200, { results: structuredClone(PHOTOS) }] : [403, { detail: "This gallery does not take picks." }],
  );
  const store = new GalleryStore(api);
  await store.load("Anna");
  await assert.rejects(store.setPick(2, { picked: false, comment: "changed" }), (error) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 403);
    assert.equal(error.message, "This gallery does not take picks.");
    return true;
  });
  assert.equal(store.photos[1].picked, true);
  assert.equal(store.photos[1].comment, "nice");
});

test("a comment is sent only when given", async () => {
  const { api, sent } = fakeApi((method, url, body) =>
    method === "GET" ? [200, { results: structuredClone(PHOTOS) }] : [200, { ...body, comment: body.comment ?? "nice" }],
  );
  const store = new GalleryStore(api);
  await store.load("");
  await store.setPick(2, { comment: "Crop tighter" });
  assert.deepEqual(sent[1].body, { photo_id: 2, picked: true, name: "", comment: "Crop tighter" });
  assert.equal(store.photos[1].comment, "Crop tighter");
});

test("the cursor stays within the photos", async () => {
  const { api } = fakeApi(() => [200, { results: structuredClone(PHOTOS) }]);
  const store = new GalleryStore(api);
  await store.load("");
  assert.equal(store.go(0), true);
  assert.equal(store.step(-1), false);
  assert.equal(store.step(1), true);
  assert.equal(store.step(1), false);
  assert.equal(store.current.id, 2);
});

test("srcset offers the thumbnail and the preview at their real widths", () => {
  const boxes = { thumbBox: 800, previewBox: 5000 };
  assert.equal(srcsetOf(PHOTOS[0], boxes), "/t1 800w, /p1 5000w");
  // Portrait: the long edge is the height.
  assert.equal(srcsetOf(PHOTOS[1], boxes), "/t2 533w, /p2 3333w");
  // A photo smaller than the thumbnail box: one size only.
  assert.equal(srcsetOf({ ...PHOTOS[0], width: 640, height: 480 }, boxes), "/t1 640w");
});

test("a quick horizontal swipe steps, a scroll or a slow drag does not", () => {
  assert.equal(swipeStep({ dx: -120, dy: 10, ms: 200 }), 1);
  assert.equal(swipeStep({ dx: 120, dy: -10, ms: 200 }), -1);
  assert.equal(swipeStep({ dx: 20, dy: 0, ms: 100 }), 0);
  assert.equal(swipeStep({ dx: 100, dy: 90, ms: 100 }), 0);
  assert.equal(swipeStep({ dx: 200, dy: 0, ms: 2000 }), 0);
});

test("arrow keys and page keys step", () => {
  assert.equal(keyStep("ArrowLeft"), -1);
  assert.equal(keyStep("ArrowRight"), 1);
  assert.equal(keyStep("PageDown"), 1);
  assert.equal(keyStep("h"), 0);
});
