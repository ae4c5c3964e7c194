// The loupe: the photo under the cursor fitted to the window, with its metadata; the
// neighbours' previews are fetched ahead so next/previous shows at once. It is a modal dialog:
// the page behind it is inert, Tab stays inside, and closing it gives the focus back to the
// control that opened it (the grid, whose cursor is on the photo last shown).

import { badges } from "./grid.js";
import { layerClosed, layerOpened } from "./focus.js";

export class Loupe {
  // ``notes(photo)``: more [term, text] rows (the client's picks and comments, picks.js).
  constructor({ root, store, previewUrl, thumbUrl, adminUrl, projectName, onNavigate, onClose, fallback, keep, notes = () => [] }) {
    this.root = root;
    this.notes = notes;
    this.fallback = fallback;
    this.keep = keep;
    this.projectName = projectName;
    this.adminUrl = adminUrl;
    this.adminLink = root.querySelector("#cull-loupe-admin");
    this.store = store;
    this.previewUrl = previewUrl;
    this.thumbUrl = thumbUrl;
    this.img = root.querySelector("#cull-loupe-img");
    this.title = root.querySelector("#cull-loupe-title");
    this.meta = root.querySelector("#cull-loupe-meta");
    this.preloaded = new Map(); // preview URL -> Image, loading or loaded
    this.failed = new Set(); // preview URLs that did not load
    root.querySelector("#cull-loupe-prev").addEventListener("click", () => onNavigate(-1));
    root.querySelector("#cull-loupe-next").addEventListener("click", () => onNavigate(1));
    root.querySelector("#cull-loupe-close").addEventListener("click", () => onClose());
    store.subscribe((kind) => {
      if (this.open && (kind === "cursor" || kind === "photos" || kind === "loaded")) this.show();
    });
  }

  get open() {
    return !this.root.hidden;
  }

  toggle(force) {
    const open = force === undefined ? !this.open : force;
    if (open === this.open) return;
    const opener = document.activeElement;
    this.root.hidden = !open;
    document.body.classList.toggle("cull-loupe-open", open);
    if (open) {
      this.show();
      layerOpened(this.root, { opener, fallback: this.fallback, modal: true, keep: this.keep });
      this.root.focus({ preventScroll: true });
    } else {
      layerClosed(this.root);
    }
  }

  show() {
    const photo = this.store.photos[this.store.cursor];
    this.photo = photo;
    if (!photo) return;
    this.picture(photo);
    this.title.textContent = photo.basename;
    this.adminLink.href = this.adminUrl(photo);
    this.meta.replaceChildren(...[...metadata(photo, this.projectName(photo)), ...this.notes(photo)].flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }));
    this.preload(this.store.cursor);
  }

  // The image under the name is always this photo's: its preview once that has loaded, its
  // thumbnail (or nothing) until then. Changing an <img>'s src keeps the old picture on screen
  // until the new one arrives (seconds on a slow connection), so another photo gets a fresh
  // element; the preview loads aside and replaces the thumbnail only if this photo is still
  // the one shown (a late preview of an earlier photo is dropped).
  picture(photo) {
    const id = String(photo.id);
    const preview = photo.preview_status === "generated" ? this.previewUrl(photo) : null;
    const thumb = photo.thumbnail_status === "generated" ? this.thumbUrl(photo) : null;
    if (this.img.dataset.photoId !== id) {
      const img = document.createElement("img");
      img.id = this.img.id;
      img.dataset.photoId = id;
      const ready = preview && loaded(this.preloaded.get(preview));
      const src = ready ? preview : thumb;
      img.dataset.kind = ready ? "preview" : thumb ? "thumbnail" : "none";
      if (src) img.src = src;
      this.img.replaceWith(img);
      this.img = img;
    } else if (this.img.dataset.kind !== "preview" && thumb && this.img.getAttribute("src") !== thumb) {
      // The thumbnail appeared (or changed) while the preview is still on its way.
      this.img.dataset.kind = "thumbnail";
      this.img.src = thumb;
    }
    this.img.alt = photo.basename;
    if (preview && this.img.getAttribute("src") !== preview) this.fetchPreview(photo.id, preview);
  }

  fetchPreview(id, url) {
    if (this.failed.has(url)) return;
    const image = this.preloaded.get(url) || this.preloadImage(url);
    const apply = () => {
      // Guard by photo id: the loupe may have moved on while this preview was on its way.
      if (!this.open || !this.photo || this.photo.id !== id || this.img.dataset.photoId !== String(id)) return;
      if (this.previewUrl(this.photo) !== url) return; // A newer version of it is wanted.
      this.img.dataset.kind = "preview";
      this.img.src = url;
    };
    if (loaded(image)) return apply();
    if (image.waiting) return;
    image.waiting = true;
    const done = () => {
      image.waiting = false;
      if (loaded(image)) return apply();
      // No preview (yet, or it failed): the thumbnail stays, and it is not asked for again.
      this.preloaded.delete(url);
      this.failed.add(url);
    };
    image.decode().then(done, done);
  }

  preloadImage(url) {
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    this.preloaded.set(url, image);
    if (this.preloaded.size > 12) this.preloaded.delete(this.preloaded.keys().next().value);
    return image;
  }

  preload(position) {
    for (const offset of [1, -1, 2]) {
      const photo = this.store.photos[position + offset];
      if (!photo || photo.preview_status !== "generated") continue;
      const url = this.previewUrl(photo);
      if (!this.preloaded.has(url)) this.preloadImage(url);
    }
  }
}

function loaded(image) {
  return Boolean(image && image.complete && image.naturalWidth > 0);
}

function number(value, digits = 1) {
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

// The capture time as the camera recorded it (SPEC §17): the API's ISO string read field by
// field, never through Date (which would shift it into the viewer's time zone). Its offset,
// when the file had one, is shown beside it.
export function captureTimeText(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([+-]\d{2}:\d{2}|Z)?$/.exec(iso || "");
  if (!match) return iso || "–";
  const [, year, month, day, hour, minute, second, offset] = match;
  const zone = offset && offset !== "Z" ? ` (UTC${offset})` : "";
  return `${year}-${month}-${day} ${hour}:${minute}:${second}${zone}`;
}

export function shutterText(seconds) {
  if (!seconds) return "–";
  if (seconds >= 1) return `${number(seconds)} s`;
  return `1/${Math.round(1 / seconds)} s`;
}

function metadata(photo, project) {
  const files = badges(photo).map((b) => `${b.text} (${b.state === "keep" ? "kept" : b.state === "discard" ? "discarded" : "present"})`);
  return [
    ["Project", project],
    ["Date", photo.taken_at ? captureTimeText(photo.taken_at) : "–"],
    ["Camera", photo.camera || "–"],
    ["Lens", photo.lens || "–"],
    ["Focal length", photo.focal_length ? `${number(photo.focal_length)} mm` : "–"],
    ["Aperture", photo.aperture ? `f/${number(photo.aperture)}` : "–"],
    ["Shutter", shutterText(photo.shutter)],
    ["ISO", photo.iso ? String(photo.iso) : "–"],
    ["Size", photo.width && photo.height ? `${photo.width} × ${photo.height}` : "–"],
    ["Files on disk", files.join(", ") || "none"],
    ["Rating", "★".repeat(photo.rating) + "☆".repeat(5 - photo.rating)],
    ["Label", photo.label && photo.label !== "none" ? photo.label : "–"],
    ["Tags", photo.tags.join(", ") || "–"],
    ["Pending delete", photo.pending_delete ? "yes" : "no"],
    ["Visibility", photo.visibility || "private"],
  ];
}
