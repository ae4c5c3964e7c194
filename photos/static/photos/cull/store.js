// The photos of the current filter as loaded from the API's cursor pages, the cursor (the
// photo under focus), the selection and the undo stack. Views subscribe to changes.
// ``all`` holds every loaded photo in the list's order; ``photos`` the ones the grid shows: a
// burst collapsed to its stack's cover (stacks.js) unless expanded, in capture-time order.
// The store owns every change of a photo shown: ``apply`` (optimistic, before the server
// answers), ``settle`` (each refused item rolled back, only the fields its change touched),
// ``applyRemote`` (another tab's or device's change, from its event) and the undo stack.

import { SORTS, comparator, visibleFrames } from "./stacks.js";

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
    this.stacking = true;
    this.expanded = new Set(); // bursts shown frame by frame
    this.focus = null; // a photo the keys act on instead (compare and survey)
    this.reset({});
  }

  reset(query) {
    this.query = query;
    this.order = comparator(query.ordering ? query.ordering.split(",") : SORTS[""]);
    this.all = [];
    this.byId = new Map(); // id -> photo, every loaded one
    this.photos = [];
    this.index = new Map(); // id -> position in ``photos``
    this.expanded = new Set();
    this.focus = null;
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
        for (const photo of page.results) this.add(photo, { refresh: false });
        this.nextUrl = this.api.nextPageUrl(page.next);
        this.refresh();
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

  // A loaded photo, appended (or replaced); ``refresh`` false when more follow at once.
  add(photo, { refresh = true } = {}) {
    if (this.byId.has(photo.id)) {
      this.all[this.all.indexOf(this.byId.get(photo.id))] = photo;
    } else {
      this.all.push(photo);
    }
    this.byId.set(photo.id, photo);
    if (refresh) this.refresh();
  }

  get(id) {
    return this.byId.get(id);
  }

  // Bursts stack in capture-time order only (in another order their frames are apart).
  get stacked() {
    return this.stacking && !this.query.ordering;
  }

  // ``photos`` again from ``all`` (stacks collapsed or expanded); the cursor stays on its
  // photo, or on the cover of the stack it went into.
  refresh() {
    const current = this.photos[this.cursor];
    this.photos = visibleFrames(this.all, { stacking: this.stacked, expanded: this.expanded });
    this.reindex();
    if (current) {
      let at = this.index.get(current.id);
      if (at === undefined && current.burst != null) at = this.photos.findIndex((p) => p.burst === current.burst);
      if (at !== undefined && at >= 0) this.cursor = at;
    }
    this.cursor = Math.min(this.cursor, Math.max(this.photos.length - 1, 0));
  }

  // Show a burst's frames one by one, or as its stack again.
  toggleStack(burst, open = !this.expanded.has(burst)) {
    if (burst === null || burst === undefined) return;
    if (open) this.expanded.add(burst);
    else this.expanded.delete(burst);
    this.refresh();
    this.emit("loaded");
    this.emit("cursor");
  }

  setStacking(on) {
    this.stacking = on;
    this.refresh();
    this.emit("loaded");
    this.emit("cursor");
  }

  // How many frames of ``photo``'s burst are loaded (its stack's count is the API's size).
  framesOf(burst) {
    return this.all.filter((p) => p.burst === burst);
  }

  // A photo changed elsewhere (an event, another user): replace it, or insert it in capture
  // order when it is new and falls within what is loaded.
  upsert(photo) {
    if (this.byId.has(photo.id)) {
      this.add(photo);
      this.emit("photos", [photo.id]);
      return;
    }
    let at = this.all.findIndex((other) => this.order(photo, other) < 0);
    if (at === -1) {
      if (!this.complete) return; // A later page brings it.
      at = this.all.length;
    }
    this.all.splice(at, 0, photo);
    this.byId.set(photo.id, photo);
    this.refresh();
    this.emit("loaded");
  }

  remove(ids) {
    const gone = new Set(ids);
    if (!this.all.some((p) => gone.has(p.id))) return;
    const current = this.photos[this.cursor];
    this.all = this.all.filter((p) => !gone.has(p.id));
    for (const id of gone) {
      this.selection.delete(id);
      this.byId.delete(id);
    }
    if (current && gone.has(current.id)) this.photos = this.photos.filter((p) => !gone.has(p.id));
    this.refresh();
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

  // The photos a key acts on: the photo under focus in compare or survey, else the
  // selection, else the photo under the cursor.
  targets() {
    if (this.focus !== null) return this.get(this.focus) ? [this.get(this.focus)] : [];
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

  // Every loaded photo, the frames inside collapsed stacks too.
  // Move the cursor by ``step`` (the arrows), loading the next page when it goes past the end.
  step(step, options = {}) {
    const target = this.cursor + step;
    if (target >= this.photos.length && !this.complete) {
      return this.loadMore().then(() => this.moveTo(Math.min(target, this.photos.length - 1), options));
    }
    this.moveTo(target, options);
    return Promise.resolve();
  }

  selectAll() {
    this.selection = new Set(this.all.map((p) => p.id));
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

// The API's default order: capture time as recorded (missing last), base name, id.
export const compare = comparator();
