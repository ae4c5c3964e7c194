// A resumable upload of one file over tus 1.0 (creation, checksum-free core protocol and
// termination), the server being /api/uploads/ (photos/api/uploads.py, docs/API.md).
//
// The transport is given (``request(method, url, headers, body, onProgress)`` resolving to
// ``{status, headers, data}``, status 0 when the connection failed): api.js sends it with the
// session's CSRF token; the unit tests give a fake server. A chunk whose connection drops, or
// that the server could not take for now (5xx, 409, 423, 429), is retried after a pause:
// the server's offset is asked with HEAD and the upload goes on from there, so a dropped
// connection resumes where it stopped instead of starting over.

export const TUS_VERSION = "1.0.0";
export const CHUNK_BYTES = 8 * 1024 * 1024;
export const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000];

// ``Upload-Metadata``: ``key base64(UTF-8 value)`` pairs, comma-separated.
export function encodeMetadata(metadata) {
  return Object.entries(metadata)
    .filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([key, value]) => {
      const bytes = new TextEncoder().encode(String(value));
      let binary = "";
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return `${key} ${btoa(binary)}`;
    })
    .join(",");
}

// Whether a failed request is worth another try (the connection, the server's state) rather
// than a refusal to report (403, 404, 400, 413, 415, 460 ...).
export function retryable(status) {
  return status === 0 || status >= 500 || status === 409 || status === 423 || status === 429;
}

export class TusError extends Error {
  constructor(status, data, stage) {
    super((data && data.detail) || `The server answered ${status}.`);
    this.status = status;
    this.data = data;
    this.stage = stage; // "create", "patch" or "head"
  }
}

const sleepFor = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TusUpload {
  constructor({
    file,
    endpoint,
    metadata,
    request,
    chunkSize = CHUNK_BYTES,
    retryDelays = RETRY_DELAYS_MS,
    onProgress = () => {},
    sleep = sleepFor,
  }) {
    Object.assign(this, { file, endpoint, metadata, request, chunkSize, retryDelays, onProgress, sleep });
    this.url = null;
    this.offset = 0;
    this.retries = 0;
  }

  headers(extra = {}) {
    return { "Tus-Resumable": TUS_VERSION, ...extra };
  }

  async create() {
    const reply = await this.request("POST", this.endpoint, this.headers({
      "Upload-Length": String(this.file.size),
      "Upload-Metadata": encodeMetadata(this.metadata),
    }), null);
    if (reply.status !== 201) throw new TusError(reply.status, reply.data, "create");
    this.url = new URL(reply.headers.location, "http://origin.invalid/").pathname;
    this.offset = 0;
  }

  // The server's offset for this upload (a resume, after a dropped connection).
  async serverOffset() {
    const reply = await this.request("HEAD", this.url, this.headers(), null);
    if (reply.status !== 200) throw new TusError(reply.status, reply.data, "head");
    return Number(reply.headers["upload-offset"]);
  }

  // Send the file from the server's offset to its end; resolves with the last PATCH's
  // reply. A refusal rejects with a TusError.
  async start() {
    if (!this.url) await this.create();
    while (this.offset < this.file.size) {
      const end = Math.min(this.offset + this.chunkSize, this.file.size);
      const chunk = this.file.slice(this.offset, end);
      const start = this.offset;
      const reply = await this.request(
        "PATCH",
        this.url,
        this.headers({ "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream" }),
        chunk,
        (loaded) => this.onProgress(start + Math.min(loaded, end - start), this.file.size),
      );
      if (reply.status === 204) {
        this.offset = Number(reply.headers["upload-offset"]);
        this.retries = 0;
        this.onProgress(this.offset, this.file.size);
        continue;
      }
      if (!retryable(reply.status) || this.retries >= this.retryDelays.length) {
        throw new TusError(reply.status, reply.data, "patch");
      }
      await this.sleep(this.retryDelays[this.retries]);
      this.retries += 1;
      this.offset = await this.resumeOffset();
    }
    return this.url;
  }

  async resumeOffset() {
    for (;;) {
      try {
        return await this.serverOffset();
      } catch (error) {
        if (!(error instanceof TusError) || !retryable(error.status) || this.retries >= this.retryDelays.length) throw error;
        await this.sleep(this.retryDelays[this.retries]);
        this.retries += 1;
      }
    }
  }
}
