// The gallery's state in one place: the link's photos, the loupe's cursor and the client's
// picks. A heart or a comment applies at once and rolls back when the server refuses it.
// URLs come from api.js (the workspace's module), built from the page's bootstrap paths.

export class GalleryStore {
  constructor(api) {
    this.api = api;
    this.photos = [];
    this.cursor = -1;
    this.name = "";
    this.listeners = new Set();
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(kind, detail) {
    for (const listener of this.listeners) listener(kind, detail);
  }

  async load(name = this.name) {
    this.name = name;
    const data = await this.api.get(this.api.url("photos", { query: name ? { name } : {} }));
    this.photos = data.results;
    this.emit("photos");
    return this.photos;
  }

  indexOf(photoId) {
    return this.photos.findIndex((p) => p.id === photoId);
  }

  get current() {
    return this.photos[this.cursor] || null;
  }

  // Move the loupe's cursor to ``index`` (clamped); returns whether it moved.
  go(index) {
    if (!this.photos.length) return false;
    const next = Math.max(0, Math.min(this.photos.length - 1, index));
    if (next === this.cursor) return false;
    this.cursor = next;
    this.emit("cursor");
    return true;
  }

  step(delta) {
    return this.go(this.cursor + delta);
  }

  get picked() {
    return this.photos.filter((p) => p.picked);
  }

  // Set the heart (and the comment, when given) of one photo: shown at once, sent, and put
  // back as it was when the server refuses it (the error is rethrown for the caller to show).
  async setPick(photoId, { picked, comment } = {}) {
    const photo = this.photos[this.indexOf(photoId)];
    if (!photo) throw new Error(`No photo ${photoId} in this gallery.`);
    const before = { picked: photo.picked, comment: photo.comment };
    if (picked !== undefined) photo.picked = picked;
    if (comment !== undefined) photo.comment = comment;
    this.emit("pick", photo);
    const body = { photo_id: photoId, picked: photo.picked, name: this.name };
    if (comment !== undefined) body.comment = comment;
    try {
      const reply = await this.api.post(this.api.url("picks"), body);
      photo.picked = reply.data.picked;
      photo.comment = reply.data.comment;
      this.emit("pick", photo);
      return photo;
    } catch (error) {
      Object.assign(photo, before);
      this.emit("pick", photo);
      throw error;
    }
  }

  togglePick(photoId) {
    const photo = this.photos[this.indexOf(photoId)];
    return this.setPick(photoId, { picked: !(photo && photo.picked) });
  }
}

// The widths the two sizes of a photo have (the thumbnail and the preview are fitted in
// squares of ``thumbBox`` and ``previewBox``), for ``srcset``.
export function srcsetOf(photo, { thumbBox, previewBox }) {
  const long = Math.max(photo.width || 0, photo.height || 0);
  const width = photo.width || long || thumbBox;
  const scale = (box) => (long > box ? Math.round((width * box) / long) : width);
  const thumbW = scale(thumbBox);
  const previewW = scale(previewBox);
  if (previewW <= thumbW) return `${photo.thumbnail} ${thumbW}w`;
  return `${photo.thumbnail} ${thumbW}w, ${photo.preview} ${previewW}w`;
}
