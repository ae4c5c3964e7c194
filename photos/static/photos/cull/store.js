// The photos of the current filter as loaded from the API's cursor pages, the cursor (the
// photo under focus), the selection and the undo stack. Views subscribe to changes.
// The store owns every change of a photo shown: ``apply`` (optimistic, before the server
// answers), ``settle`` (each refused item rolled back, only the fields its change touched),
// ``applyRemote`` (another tab's or device's change, from its event) and the undo stack.

const FIRST_PAGE = 200;
const UNDO_DEPTH = 100;

// Whether a photo has a present file that is not kept (a commit trashes it).
export function pendingDelete(photo) {
  return Boolean((photo.jpg_available && !photo.keep_jpg) || (photo.raw_available && !photo.keep_raw));
}

// How an item of a bulk endpoint changes a photo: ``setFields`` for keep, rating and label,
// ``addTags`` / ``removeTags`` for the tags endpoints.
export function setFields(photo, item) {
  for (const [name, value] of Object.entries(item)) if (name !== "photo_id") photo[name] = value;
  photo.pending_delete = pendingDelete(photo);
}

export function addTags(photo, item) {
  photo.tags = [...new Set([...photo.tags, ...item.tags])].sort();
}

export function removeTags(photo, item) {
  photo.tags = photo.tags.filter((t) => !item.tags.includes(t));
}

// The fields of an ``item`` event the grid shows, as a user's change writes them.
const REMOTE_FIELDS = ["keep_jpg", "keep_raw", "rating", "label", "tags", "visibility"];

export class Store {
  constructor(api) {
    this.api = api;
    this.listeners = new Set();
    this.undoStack = [];
    this.reset({});
  }

  reset(query) {
    this.query = query;
    this.photos = [];
    this.index = new Map(); // id -> position in ``photos``
    // A small first page paints the grid sooner; later pages are full ones.
    this.nextUrl = this.api.photosUrl(query, FIRST_PAGE);
    this.loading = null;
    this.generation = (this.generation || 0) + 1;
    this.selection = new Set();
    this.cursor = 0;
    this.anchor = 0;
    this.emit("reset");
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(kind, detail) {
    for (const fn of this.listeners) fn(kind, detail);
  }

  get complete() {
    return this.nextUrl === null;
  }

  // Fetch the next cursor page (one at a time; a reset meanwhile drops the answer).
  loadMore() {
    if (this.loading || this.nextUrl === null) return this.loading || Promise.resolve();
    const generation = this.generation;
    this.loading = this.api
      .get(this.nextUrl)
      .then((page) => {
        if (generation !== this.generation) return;
        for (const photo of page.results) this.add(photo);
        this.nextUrl = this.api.nextPageUrl(page.next);
        this.emit("loaded");
      })
      .finally(() => {
        if (generation === this.generation) this.loading = null;
      });
    return this.loading;
  }

  async loadAll() {
    while (!this.complete) await this.loadMore();
  }

  add(photo) {
    if (this.index.has(photo.id)) {
      this.photos[this.index.get(photo.id)] = photo;
      return;
    }
    this.index.set(photo.id, this.photos.length);
    this.photos.push(photo);
  }

  get(id) {
    const at = this.index.get(id);
    return at === undefined ? undefined : this.photos[at];
  }

  // A photo changed elsewhere (an event, another user): replace it, or insert it in capture
  // order when it is new and falls within what is loaded.
  upsert(photo) {
    if (this.index.has(photo.id)) {
      this.photos[this.index.get(photo.id)] = photo;
      this.emit("photos", [photo.id]);
      return;
    }
    let at = this.photos.findIndex((other) => compare(photo, other) < 0);
    if (at === -1) {
      if (!this.complete) return; // A later page brings it.
      at = this.photos.length;
    }
    const current = this.photos[this.cursor];
    this.photos.splice(at, 0, photo);
    this.reindex();
    if (current) this.cursor = this.index.get(current.id);
    this.emit("loaded");
  }

  remove(ids) {
    const gone = new Set(ids);
    if (!this.photos.some((p) => gone.has(p.id))) return;
    const current = this.photos[this.cursor];
    this.photos = this.photos.filter((p) => !gone.has(p.id));
    for (const id of gone) this.selection.delete(id);
    this.reindex();
    this.cursor = current && this.index.has(current.id) ? this.index.get(current.id) : Math.min(this.cursor, Math.max(this.photos.length - 1, 0));
    this.emit("loaded");
    this.emit("selection");
  }

  reindex() {
    this.index = new Map(this.photos.map((p, i) => [p.id, i]));
  }

  // --- changes ---

  // Apply ``items`` ([{photo_id, ...}] as the endpoint takes them) to the photos shown, with
  // ``local(photo, item)``, before the server answers. Returns the change for ``settle``.
  apply(items, local = setFields) {
    const before = new Map();
    for (const item of items) {
      const photo = this.get(item.photo_id);
      if (!photo) continue;
      // Keep only the fields this change touches: a rollback must not undo another change
      // that is still on its way.
      const fields = [...Object.keys(item).filter((k) => k !== "photo_id" && k !== "tags"), "pending_delete"];
      if ("tags" in item) fields.push("tags");
      before.set(photo.id, Object.fromEntries(fields.map((f) => [f, structuredClone(photo[f])])));
      local(photo, item);
      photo._pending = (photo._pending || 0) + 1; // Changes in flight for this photo.
    }
    this.emit("photos", [...before.keys()]);
    return { items, before };
  }

  // The server answered ``change``: roll back the items of ``refused`` (photo ids). Returns
  // the items applied.
  settle(change, refused = new Set()) {
    for (const [id, old] of change.before) {
      const photo = this.get(id);
      if (!photo) continue;
      if (refused.has(id)) Object.assign(photo, old);
      photo._pending -= 1;
      if (!(photo._pending > 0)) delete photo._pending;
    }
    this.emit("photos", [...change.before.keys()]);
    return change.items.filter((item) => !refused.has(item.photo_id) && change.before.has(item.photo_id));
  }

  // A change made elsewhere (the user's other tab or device, another user), from its
  // ``item`` event: the fields it names. Returns whether the photo is shown and was updated;
  // false when the event names no field the grid shows (the caller reads the photo).
  applyRemote(id, payload) {
    const photo = this.get(id);
    const fields = REMOTE_FIELDS.filter((name) => name in payload);
    if (!photo || !fields.length) return false;
    for (const name of fields) photo[name] = payload[name];
    photo.pending_delete = pendingDelete(photo);
    this.emit("photos", [id]);
    return true;
  }

  // The undo of a change: ``{path, items, local}`` applied like any change.
  pushUndo(entry) {
    this.undoStack.push(entry);
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
  }

  popUndo() {
    return this.undoStack.pop();
  }

  // --- cursor and selection ---

  // The photos a key acts on: the selection, else the photo under the cursor.
  targets() {
    if (this.selection.size) return [...this.selection].map((id) => this.get(id)).filter(Boolean);
    const photo = this.photos[this.cursor];
    return photo ? [photo] : [];
  }

  // ``extend`` (Shift): the range from the anchor. ``add`` (Ctrl/Cmd+click): add or remove one
  // photo; with no selection yet, the photo under the cursor (what the keys act on until now)
  // joins it, so a click then Ctrl+clicks select every photo clicked. ``select`` (a plain
  // click): the photo becomes the selection. Otherwise (the arrows) the selection is cleared.
  moveTo(position, { extend = false, add = false, select = false } = {}) {
    if (!this.photos.length) return;
    position = Math.max(0, Math.min(this.photos.length - 1, position));
    const previous = this.photos[this.cursor];
    this.cursor = position;
    const id = this.photos[position].id;
    if (extend) {
      const [lo, hi] = [Math.min(this.anchor, position), Math.max(this.anchor, position)];
      this.selection = new Set(this.photos.slice(lo, hi + 1).map((p) => p.id));
    } else if (add) {
      if (!this.selection.size && previous && previous.id !== id) this.selection.add(previous.id);
      if (this.selection.has(id)) this.selection.delete(id);
      else this.selection.add(id);
      this.anchor = position;
    } else {
      this.selection = select ? new Set([id]) : new Set();
      this.anchor = position;
    }
    this.emit("cursor");
    this.emit("selection");
  }

  selectAll() {
    this.selection = new Set(this.photos.map((p) => p.id));
    this.emit("selection");
  }

  clearSelection() {
    this.selection.clear();
    this.anchor = this.cursor;
    this.emit("selection");
  }
}

// The items of ``POST /api/photos/keep`` that set the keep flags of ``photos`` back to the
// files present (a revert), for the photos where they differ.
export function revertItems(photos) {
  return photos
    .map((p) => {
      const item = { photo_id: p.id };
      if (p.keep_jpg !== p.jpg_available) item.keep_jpg = p.jpg_available;
      if (p.keep_raw !== p.raw_available) item.keep_raw = p.raw_available;
      return Object.keys(item).length > 1 ? item : null;
    })
    .filter(Boolean);
}

// The API's order: capture time (missing last), then base name, then id.
export function compare(a, b) {
  if (a.taken_at !== b.taken_at) {
    if (a.taken_at === null) return 1;
    if (b.taken_at === null) return -1;
    // The server orders by the recorded wall clock: compare the strings without their offset.
    const wall = (iso) => iso.replace(/([+-]\d{2}:\d{2}|Z)$/, "");
    const [left, right] = [wall(a.taken_at), wall(b.taken_at)];
    if (left !== right) return left < right ? -1 : 1;
  }
  if (a.basename !== b.basename) return a.basename < b.basename ? -1 : 1;
  return a.id - b.id;
}
