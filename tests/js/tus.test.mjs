// Unit tests of the resumable upload client (photos/static/photos/cull/tus.js) against a fake
// tus server, and of the upload's sending order (upload.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { TusUpload, encodeMetadata, retryable } from "../../photos/static/photos/cull/tus.js";
import { isSidecar, sendOrder } from "../../photos/static/photos/cull/upload.js";

// A tus server in memory; ``dropPatch(n)`` makes the n-th PATCH lose its connection after
// half its bytes arrived (the server keeps those, as photos/tus.py does).
function fakeServer({ dropPatch = null, refuseCreate = null } = {}) {
  const server = { uploads: new Map(), calls: [], patches: 0 };
  server.request = async (method, url, headers, body) => {
    server.calls.push(`${method} ${url}`);
    assert.equal(headers["Tus-Resumable"], "1.0.0");
    if (method === "POST") {
      if (refuseCreate) return { status: refuseCreate.status, headers: {}, data: refuseCreate.data };
      const id = `u${server.uploads.size + 1}`;
      server.uploads.set(id, { length: Number(headers["Upload-Length"]), bytes: new Uint8Array(0), metadata: headers["Upload-Metadata"] });
      return { status: 201, headers: { location: `/api/uploads/${id}` }, data: null };
    }
    const upload = server.uploads.get(url.split("/").pop());
    if (!upload) return { status: 404, headers: {}, data: { detail: "Not found." } };
    if (method === "HEAD") return { status: 200, headers: { "upload-offset": String(upload.bytes.length) }, data: null };
    if (method === "PATCH") {
      server.patches += 1;
      assert.equal(headers["Content-Type"], "application/offset+octet-stream");
      if (Number(headers["Upload-Offset"]) !== upload.bytes.length) return { status: 409, headers: {}, data: { detail: "offset" } };
      let chunk = new Uint8Array(await body.arrayBuffer());
      const dropped = server.patches === dropPatch;
      if (dropped) chunk = chunk.slice(0, Math.floor(chunk.length / 2));
      const joined = new Uint8Array(upload.bytes.length + chunk.length);
      joined.set(upload.bytes);
      joined.set(chunk, upload.bytes.length);
      upload.bytes = joined;
      if (dropped) return { status: 0, headers: {}, data: { detail: "The connection was lost." } };
      return { status: 204, headers: { "upload-offset": String(upload.bytes.length) }, data: null };
    }
    throw new Error(method);
  };
  return server;
}

const bytes = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251);
const noSleep = async () => {};

test("a file is sent in chunks and arrives whole", async () => {
  const server = fakeServer();
  const data = bytes(1000);
  const seen = [];
  const upload = new TusUpload({
    file: new Blob([data]),
    endpoint: "/api/uploads/",
    metadata: { project: 4, filename: "IMG_1.jpg" },
    request: server.request,
    chunkSize: 300,
    sleep: noSleep,
    onProgress: (done) => seen.push(done),
  });
  assert.equal(await upload.start(), "/api/uploads/u1");
  assert.deepEqual(server.uploads.get("u1").bytes, data);
  assert.equal(server.patches, 4);
  assert.equal(seen.at(-1), 1000);
});

test("a dropped connection resumes from the server's offset, not from the start", async () => {
  const server = fakeServer({ dropPatch: 2 });
  const data = bytes(1000);
  const upload = new TusUpload({
    file: new Blob([data]),
    endpoint: "/api/uploads/",
    metadata: { project: 4, filename: "IMG_1.jpg" },
    request: server.request,
    chunkSize: 400,
    sleep: noSleep,
  });
  await upload.start();
  assert.deepEqual(server.uploads.get("u1").bytes, data);
  // One creation; the HEAD after the drop; the upload went on at 600 (not 0 or 400): three
  // PATCHes, 0-400, 400-800 cut at 600, then 600-1000.
  assert.equal(server.calls.filter((c) => c.startsWith("POST")).length, 1);
  assert.ok(server.calls.includes("HEAD /api/uploads/u1"));
  assert.equal(server.patches, 3);
});

test("a refusal is not retried and carries the server's reasons", async () => {
  const refusal = { status: 409, data: { detail: "A file named 'IMG_1.jpg' already exists in this project." } };
  const server = fakeServer({ refuseCreate: refusal });
  const upload = new TusUpload({
    file: new Blob([bytes(10)]),
    endpoint: "/api/uploads/",
    metadata: { project: 4, filename: "IMG_1.jpg" },
    request: server.request,
    sleep: noSleep,
  });
  await assert.rejects(upload.start(), (error) => error.status === 409 && /already exists/.test(error.message) && error.stage === "create");
  assert.equal(server.calls.length, 1);
});

test("a connection that never comes back gives up after the retry delays", async () => {
  const server = fakeServer();
  const down = async (method, ...rest) => (method === "POST" ? server.request(method, ...rest) : { status: 0, headers: {}, data: { detail: "down" } });
  const upload = new TusUpload({
    file: new Blob([bytes(10)]),
    endpoint: "/api/uploads/",
    metadata: { project: 4, filename: "IMG_1.jpg" },
    request: down,
    retryDelays: [0, 0],
    sleep: noSleep,
  });
  await assert.rejects(upload.start(), (error) => error.status === 0);
});

test("metadata is base64 of UTF-8, empty values left out", () => {
  assert.equal(encodeMetadata({ project: 4, filename: "É.jpg", rename: undefined }), `project ${btoa("4")},filename ${btoa("\xc3\x89.jpg")}`);
});

test("which answers are worth another try", () => {
  for (const status of [0, 409, 423, 429, 500, 503]) assert.ok(retryable(status), status);
  for (const status of [400, 403, 404, 413, 415, 460]) assert.ok(!retryable(status), status);
});

test("sidecars are sent after the photos", () => {
  const item = (name) => ({ file: { name }, path: name });
  const order = sendOrder([item("A.xmp"), item("A.CR2"), item("B.CR2.XMP"), item("B.jpg"), item("A.pp3")]);
  assert.deepEqual(order.map((f) => f.path), ["A.CR2", "B.jpg", "A.xmp", "B.CR2.XMP", "A.pp3"]);
  assert.ok(isSidecar("IMG_1.Xmp"));
  assert.ok(!isSidecar("IMG_1.jpg"));
  assert.ok(!isSidecar(".xmp"));
});
