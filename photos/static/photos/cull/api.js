// The REST API as the workspace uses it: session authentication with the CSRF token, DRF's
// error shapes turned into one ApiError, and bulk bodies split at the API's item limit.
// The only module that knows URLs: every path comes from the bootstrap (photos/workspace.py,
// built with Django's reverse()), ``{id}`` standing for an object's id.
// Each write carries an ``X-Request-ID`` of this tab: the events it causes echo it, so the tab
// can tell its own changes (already shown) from those of the user's other tabs and devices.

// The path named ``name`` with ``{id}`` filled in and ``query`` (an object) appended.
export function buildUrl(paths, name, { id, query } = {}) {
  const template = paths[name];
  if (template === undefined) throw new Error(`No API path named ${name}.`);
  const path = id === undefined ? template : template.replace("{id}", encodeURIComponent(String(id)));
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    for (const one of [].concat(value)) params.append(key, String(one));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

// A page's ``next`` link as a path of this origin, ``page_size`` set when given.
export function relativeUrl(next, pageSize) {
  if (!next) return null;
  const url = new URL(next, "http://origin.invalid/");
  if (pageSize) url.searchParams.set("page_size", String(pageSize));
  return url.pathname + url.search;
}

function tabId() {
  const random = globalThis.crypto && globalThis.crypto.randomUUID ? globalThis.crypto.randomUUID() : String(Math.random()).slice(2);
  return `tab-${random.replace(/[^A-Za-z0-9]/g, "").slice(0, 16)}`;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(ApiError.describe(status, body));
    this.status = status;
    this.body = body;
  }

  static describe(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (body && typeof body === "object") {
      const first = Object.entries(body)[0];
      if (first) return `${first[0]}: ${[].concat(first[1]).join(" ")}`;
    }
    if (status === 429) return "Too many requests: wait a moment and try again.";
    return `The server answered ${status}.`;
  }
}

export class Api {
  constructor({ csrf, maxItems, pageSize, paths, tab = tabId() }) {
    this.csrf = csrf;
    this.maxItems = maxItems;
    this.pageSize = pageSize;
    this.paths = paths;
    this.tab = tab;
    this.sent = 0;
  }

  url(name, options) {
    return buildUrl(this.paths, name, options);
  }

  // A new id for a write of this tab.
  requestId() {
    this.sent += 1;
    return `${this.tab}.${this.sent}`;
  }

  // Whether an event was caused by a request of this tab.
  isOwn(event) {
    const id = event && event.payload && event.payload.request_id;
    return typeof id === "string" && id.startsWith(`${this.tab}.`);
  }

  async request(method, url, body, { form = false } = {}) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") {
      headers["X-CSRFToken"] = this.csrf;
      headers["X-Request-ID"] = this.requestId();
    }
    if (body !== undefined) {
      if (form) {
        init.body = body;
      } else {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw new ApiError(0, { detail: "The server cannot be reached." });
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (error) {
      data = { detail: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return { status: response.status, data };
  }

  get(url) {
    return this.request("GET", url).then((r) => r.data);
  }

  post(url, body) {
    return this.request("POST", url, body);
  }

  photosUrl(query, pageSize = this.pageSize) {
    return this.url("photos", { query: { ...query, page_size: pageSize } });
  }

  // The cursor link of the next page, asking for full pages whatever the first one took.
  nextPageUrl(next) {
    return relativeUrl(next, this.pageSize);
  }

  // The image of a photo (``kind``: thumbnail or preview), versioned by its last change so a
  // new derivative is fetched and an unchanged one comes from the cache.
  imageUrl(photo, kind = "thumbnail") {
    const query = photo.updated_at === undefined ? undefined : { v: photo.updated_at || "" };
    return this.url(kind, { id: photo.id, query });
  }

  // The photos matching ``query`` across cursor pages, up to ``limit`` of them.
  async photosList(query, { limit = Infinity, pageSize = this.pageSize } = {}) {
    const photos = [];
    let url = this.photosUrl(query, Math.min(pageSize, limit));
    while (url && photos.length < limit) {
      const page = await this.get(url);
      photos.push(...page.results);
      url = this.nextPageUrl(page.next);
    }
    return photos.slice(0, limit);
  }

  photo(id) {
    return this.get(this.url("photo", { id }));
  }

  // Split ``items`` into chunks the API accepts and merge the replies: ``updated`` summed,
  // ``errors`` and dry-run items concatenated. A chunk the server refuses as a whole turns
  // every item of it into an error, so the caller can roll those back and keep the rest.
  async bulk(path, items, extra = {}) {
    const merged = { updated: 0, errors: [], per_item: [], replies: [] };
    for (let start = 0; start < items.length; start += this.maxItems) {
      const chunk = items.slice(start, start + this.maxItems);
      try {
        const { data } = await this.post(this.url(path), { items: chunk, ...extra });
        merged.updated += (data && data.updated) || 0;
        merged.errors.push(...((data && data.errors) || []));
        if (data && data.dry_run) merged.per_item.push(...(data.dry_run.per_item || []));
        merged.replies.push(data);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const known = new Set(((error.body && error.body.errors) || []).map((e) => e.photo_id));
        merged.errors.push(...((error.body && error.body.errors) || []));
        for (const item of chunk) {
          if (!known.has(item.photo_id)) merged.errors.push({ photo_id: item.photo_id, error: error.message });
        }
        merged.failed = error;
      }
    }
    return merged;
  }

  // Share links (SPEC §18): the list, a new link (its dry run with ``dry_run: true``), the
  // client's picks of one, and applying them (``{set, dry_run}``, the bulk reply).
  shares() {
    return this.get(this.url("shares", { query: { page_size: 200 } }));
  }

  shareCreate(body) {
    return this.post(this.url("shares"), body).then((r) => r.data);
  }

  sharePicks(id) {
    return this.get(this.url("share-picks", { id, query: { page_size: 1000 } }));
  }

  applyPicks(id, body) {
    return this.post(this.url("share-apply-picks", { id }), body).then((r) => r.data);
  }

  // Projects (POST and PATCH /api/projects/): each resolves to the project as the API returns it.
  createProject(name) {
    return this.post(this.url("projects"), { name }).then((r) => r.data);
  }

  renameProject(id, name) {
    return this.request("PATCH", this.url("project", { id }), { name }).then((r) => r.data);
  }

  // Archived, not deleted: the folder and its photos stay.
  archiveProject(id) {
    return this.request("PATCH", this.url("project", { id }), { status: "archived" }).then((r) => r.data);
  }

  keepSharpest(body, dryRun) {
    return this.post(this.url("bursts-keep-sharpest"), { ...body, dry_run: dryRun }).then((r) => r.data);
  }

  pendingDeletes() {
    return this.get(this.url("pending-deletes"));
  }

  commitChanges(projectIds) {
    return this.post(this.url("commit-changes"), { projects: projectIds }).then((r) => r.data);
  }

  revertChanges(projectIds) {
    return this.post(this.url("revert-changes"), projectIds.length ? { projects: projectIds } : {}).then((r) => r.data);
  }

  activeJobs() {
    return this.get(this.url("jobs", { query: { status: ["queued", "running"], page_size: 500 } }));
  }

  activeTasks() {
    return this.get(this.url("tasks", { query: { status: ["queued", "running"], page_size: 200 } }));
  }

  taskDefinitions() {
    return this.get(this.url("task-definitions"));
  }

  // The jobs of one type of a task (a commit's file_removal step).
  taskJobs(taskId, type) {
    return this.get(this.url("jobs", { query: { task: taskId, type, page_size: 100 } }));
  }

  // Start an export of photos (``body``: items, kind, long_edge, quality, name_template, …).
  exportStart(body) {
    return this.post(this.url("exports"), body).then((r) => r.data);
  }

  exportsOfTask(taskId) {
    return this.get(this.url("exports", { query: { task: taskId } }));
  }

  jobItemsUrl(jobId) {
    return this.url("job-items", { id: jobId, query: { page_size: 1000 } });
  }

  projectTrash(projectId) {
    return this.get(this.url("project-trash", { id: projectId, query: { page_size: 1000 } }));
  }

  // Where resumable uploads are created (photos/static/photos/cull/tus.js).
  uploadsUrl() {
    return this.url("uploads");
  }

  // One request of the tus protocol, with the session's CSRF token: resolves to
  // ``{status, headers, data}`` (status 0 when the connection failed), never rejects.
  // XMLHttpRequest: fetch() reports no upload progress.
  tusRequest(method, url, headers, body, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", this.csrf);
      xhr.setRequestHeader("X-Request-ID", this.requestId());
      xhr.setRequestHeader("Accept", "application/json");
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (onProgress) {
        xhr.upload.onprogress = (event) => {
          if (event.lengthComputable) onProgress(event.loaded, event.total);
        };
      }
      xhr.onload = () => {
        const replyHeaders = {};
        for (const name of ["location", "upload-offset", "upload-length"]) {
          const value = xhr.getResponseHeader(name);
          if (value !== null) replyHeaders[name] = value;
        }
        let data = null;
        try {
          data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch (error) {
          data = { detail: `The server answered ${xhr.status}.` };
        }
        resolve({ status: xhr.status, headers: replyHeaders, data });
      };
      xhr.onerror = () => resolve({ status: 0, headers: {}, data: { detail: "The connection was lost." } });
      xhr.send(body);
    });
  }
}
