// The REST API as the workspace uses it: session authentication with the CSRF token, DRF's
// error shapes turned into one ApiError, and bulk bodies split at the API's item limit.

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
  constructor({ csrf, maxItems, pageSize, paths }) {
    this.csrf = csrf;
    this.maxItems = maxItems;
    this.pageSize = pageSize;
    this.paths = paths;
  }

  async request(method, url, body, { form = false } = {}) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRFToken"] = this.csrf;
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
    const params = new URLSearchParams(query);
    params.set("page_size", String(pageSize));
    return `${this.paths.photos}?${params}`;
  }

  // The cursor link of the next page, asking for full pages whatever the first one took.
  nextPageUrl(next) {
    if (!next) return null;
    const url = new URL(next, location.href);
    url.searchParams.set("page_size", String(this.pageSize));
    return url.pathname + url.search;
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
    return this.get(`${this.paths.photos}${id}/`);
  }

  // Split ``items`` into chunks the API accepts and merge the replies: ``updated`` summed,
  // ``errors`` and dry-run items concatenated. A chunk the server refuses as a whole turns
  // every item of it into an error, so the caller can roll those back and keep the rest.
  async bulk(path, items, extra = {}) {
    const merged = { updated: 0, errors: [], per_item: [], replies: [] };
    for (let start = 0; start < items.length; start += this.maxItems) {
      const chunk = items.slice(start, start + this.maxItems);
      try {
        const { data } = await this.post(`${this.paths.photos}${path}`, { items: chunk, ...extra });
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

  pendingDeletes() {
    return this.get(`${this.paths.photos}pending-deletes`);
  }

  activeJobs() {
    return this.get(`${this.paths.jobs}?status=queued&status=running&page_size=500`);
  }

  upload(projectId, files, onProgress) {
    // XMLHttpRequest: fetch() reports no upload progress.
    return new Promise((resolve) => {
      const form = new FormData();
      for (const file of files) form.append("files", file, file.name);
      form.append("all_or_nothing", "false");
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${this.paths.projects}${projectId}/upload`);
      xhr.setRequestHeader("X-CSRFToken", this.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      };
      const finish = () => {
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (error) {
          data = { detail: `The server answered ${xhr.status}.` };
        }
        resolve({ status: xhr.status, data });
      };
      xhr.onload = finish;
      xhr.onerror = () => resolve({ status: 0, data: { detail: "The upload was interrupted." } });
      xhr.send(form);
    });
  }
}
