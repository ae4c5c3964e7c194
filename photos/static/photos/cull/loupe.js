// The loupe: the photo under the cursor fitted to the window, with its metadata; the
// neighbours' previews are fetched ahead so next/previous shows at once. It is a modal dialog:
// the page behind it is inert, Tab stays inside, and closing it gives the focus back to the
// control that opened it (the grid, whose cursor is on the photo last shown).

import { badges } from "./grid.js";
import { layerClosed, layerOpened } from "./focus.js";

export class Loupe {
  constructor({ root, store, previewUrl, thumbUrl, adminUrl, projectName, onNavigate, onClose, fallback, keep }) {
    this.root = root;
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
    this.preloaded = new Map();
    root.querySelector("#cull-loupe-prev").addEventListener("click", () => onNavigate(-1));
    root.querySelector("#cull-loupe-next").addEventListener("click", () => onNavigate(1));
    root.querySelector("#cull-loupe-close").addEventListener("click", () => onClose());
    this.img.addEventListener("error", () => {
      // No preview (yet): show the thumbnail rather than a broken image.
      const photo = this.photo;
      if (photo && this.img.dataset.kind === "preview" && photo.thumbnail_status === "generated") {
        this.img.dataset.kind = "thumbnail";
        this.img.src = this.thumbUrl(photo);
      }
    });
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
    const src = photo.preview_status === "generated" ? this.previewUrl(photo) : this.thumbUrl(photo);
    if (this.img.getAttribute("src") !== src) {
      this.img.dataset.kind = photo.preview_status === "generated" ? "preview" : "thumbnail";
      this.img.src = src;
    }
    this.img.alt = photo.basename;
    this.title.textContent = photo.basename;
    this.adminLink.href = this.adminUrl(photo);
    this.meta.replaceChildren(...metadata(photo, this.projectName(photo)).flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }));
    this.preload(this.store.cursor);
  }

  preload(position) {
    for (const offset of [1, -1, 2]) {
      const photo = this.store.photos[position + offset];
      if (!photo || photo.preview_status !== "generated") continue;
      const url = this.previewUrl(photo);
      if (this.preloaded.has(url)) continue;
      const image = new Image();
      image.decoding = "async";
      image.src = url;
      this.preloaded.set(url, image);
      if (this.preloaded.size > 12) this.preloaded.delete(this.preloaded.keys().next().value);
    }
  }
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
  ];
}
