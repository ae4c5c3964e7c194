// The loupe: a native modal <dialog> (the browser makes the page behind it inert and closes it
// on Esc; focus.js wraps Tab inside it and gives the focus back to its opener). Three modes:
// - one photo (the one under the cursor) fitted to the window, with its metadata; `Z` or a
//   click zooms to 100 % keeping the point under the pointer in place, a drag pans, and the
//   full-size image (GET /api/photos/{id}/full) replaces the preview once it has loaded;
// - compare (`C`): two photos side by side, zoom and pan in step (zoom.js keeps one state for
//   both), the arrows change the right one, `S` swaps them;
// - survey (`N`): the selection fitted to the window.
// In compare and survey the keys act on the photo under focus (the store's ``focus``).

import { aheadPositions, firstPicture } from "./ahead.js";
import { badges } from "./grid.js";
import { layerClosed, layerOpened } from "./focus.js";
import { FITTED, layout, pan, surveyGrid, zoomAt } from "./zoom.js";

const DRAG_PIXELS = 4;
const KEEP_IMAGES = 8; // sharp images kept (loaded, and decoded ahead where possible)

export class Loupe {
  constructor({ root, store, previewUrl, thumbUrl, fullUrl, adminUrl, projectName, onNavigate, onClose, fallback, messages, say, notes = () => [] }) {
    // ``notes(photo)``: more [term, text] rows (the client's picks and comments, picks.js).
    Object.assign(this, { root, store, previewUrl, thumbUrl, fullUrl, adminUrl, projectName, fallback, messages, say, notes });
    this.adminLink = root.querySelector("#cull-loupe-admin");
    this.title = root.querySelector("#cull-loupe-title");
    this.meta = root.querySelector("#cull-loupe-meta");
    this.status = root.querySelector("#cull-loupe-status");
    this.survey = root.querySelector("#cull-survey");
    this.panes = [...root.querySelectorAll(".cull-loupe-image")].map((view, index) => ({ view, index, img: view.querySelector("img"), pointer: null }));
    this.mode = "single";
    this.zoom = FITTED;
    this.pairIds = [null, null];
    this.active = 0;
    this.surveyIds = [];
    this.surveyAt = 0;
    this.preloaded = new Map(); // image URL -> Image, loading, loaded or decoded
    this.failed = new Set(); // image URLs that did not load
    this.decodes = new WeakMap(); // Image -> its decode(), once
    this.decoded = new WeakSet(); // Images decoded (they paint without decoding)
    root.querySelector("#cull-loupe-prev").addEventListener("click", () => this.arrow(-1) || onNavigate(-1));
    root.querySelector("#cull-loupe-next").addEventListener("click", () => this.arrow(1) || onNavigate(1));
    root.querySelector("#cull-loupe-close").addEventListener("click", () => onClose());
    // Esc: close through toggle() so the bookkeeping (focus, messages) runs.
    root.addEventListener("cancel", (event) => {
      event.preventDefault();
      onClose();
    });
    for (const pane of this.panes) this.pointer(pane);
    this.survey.addEventListener("click", (event) => {
      const cell = event.target.closest(".cull-survey-cell");
      if (cell) this.surveyFocus(this.surveyIds.indexOf(Number(cell.dataset.id)));
    });
    window.addEventListener("resize", () => this.open && this.render());
    store.subscribe((kind) => {
      if (!this.open) return;
      if (this.mode === "single" && (kind === "cursor" || kind === "photos" || kind === "loaded")) this.show();
      else if (kind === "photos") this.render();
    });
  }

  get open() {
    return this.root.open;
  }

  toggle(force, mode = "single") {
    const open = force === undefined ? !this.open : force;
    if (!open) return this.close();
    const problem = this.unfit(mode);
    if (problem) return this.say(problem);
    const opener = document.activeElement;
    if (!this.open) {
      this.root.hidden = false;
      this.root.showModal();
      // The live messages show above the loupe: in the top layer with it.
      this.home = this.messages.parentNode;
      this.root.appendChild(this.messages);
      document.body.classList.add("cull-loupe-open");
      layerOpened(this.root, { opener, fallback: this.fallback, modal: true });
      this.root.focus({ preventScroll: true });
    }
    this.setMode(mode);
    return undefined;
  }

  close() {
    if (!this.open) return;
    const focused = this.store.focus;
    this.store.focus = null;
    if (focused !== null && this.store.index.has(focused)) this.store.moveTo(this.store.index.get(focused));
    this.mode = "single";
    this.zoom = FITTED;
    this.root.close();
    this.root.hidden = true;
    if (this.home) this.home.appendChild(this.messages);
    document.body.classList.remove("cull-loupe-open");
    layerClosed(this.root);
  }

  // --- modes ---

  // Why ``mode`` cannot show now, or null.
  unfit(mode) {
    const { store } = this;
    if (!store.photos.length) return "No photo to show.";
    if (mode === "compare" && store.photos.length < 2) return "Compare needs two photos.";
    if (mode === "survey" && store.photos.filter((p) => store.selection.has(p.id)).length < 2) return "Select two photos or more to survey them (N).";
    return null;
  }

  setMode(mode) {
    const { store } = this;
    const current = store.photos[store.cursor];
    if (mode === "compare") {
      const selected = store.photos.filter((p) => store.selection.has(p.id));
      const left = selected.length >= 2 ? selected[0] : this.focused() || current;
      const right = selected.length >= 2 ? selected[1] : store.photos[store.index.get(left.id) + 1] || store.photos[store.index.get(left.id) - 1];
      if (!left || !right) return undefined;
      this.pairIds = [left.id, right.id];
      this.active = 0;
    } else if (mode === "survey") {
      const ids = store.photos.filter((p) => store.selection.has(p.id)).map((p) => p.id);
      this.surveyIds = ids;
      this.surveyAt = Math.max(0, ids.indexOf(current && current.id));
    } else if (this.mode !== "single") {
      // Back to one photo: the one under focus.
      const focused = this.focused();
      store.focus = null;
      if (focused && store.index.has(focused.id)) store.moveTo(store.index.get(focused.id));
    }
    this.mode = mode;
    this.zoom = FITTED;
    this.root.dataset.mode = mode;
    return this.show();
  }

  // The photo the keys act on in compare and survey.
  focused() {
    if (this.mode === "compare") return this.store.get(this.pairIds[this.active]);
    if (this.mode === "survey") return this.store.get(this.surveyIds[this.surveyAt]);
    return null;
  }

  // An arrow in compare (the right photo changes) or survey (the focus moves); false in the
  // single mode, where the caller moves the cursor.
  arrow(step, vertical = false) {
    if (!this.open || this.mode === "single") return false;
    if (this.mode === "compare") {
      const at = this.store.index.get(this.pairIds[1]);
      const next = this.store.photos[at + Math.sign(step)];
      if (next && next.id !== this.pairIds[0]) this.pairIds[1] = next.id;
      this.active = 1;
    } else {
      const columns = this.surveyColumns || 1;
      this.surveyFocus(this.surveyAt + (vertical ? Math.sign(step) * columns : Math.sign(step)));
      return true;
    }
    this.show();
    return true;
  }

  swap() {
    if (this.mode !== "compare") return;
    this.pairIds.reverse();
    this.active = 1 - this.active;
    this.show();
  }

  surveyFocus(at) {
    if (at < 0 || at >= this.surveyIds.length) return;
    this.surveyAt = at;
    this.show();
  }

  // --- zoom ---

  toggleZoom() {
    if (this.mode === "survey") return;
    const pane = this.panes[this.mode === "compare" ? this.active : 0];
    if (this.zoom.zoomed) this.zoom = FITTED;
    else {
      const box = this.box(pane);
      const point = pane.pointer || { x: box.width / 2, y: box.height / 2 };
      this.zoomTo(pane, point.x, point.y);
    }
    this.render();
  }

  zoomTo(pane, x, y) {
    const dims = this.dims(pane);
    if (!dims) return;
    this.zoom = zoomAt(this.box(pane), dims, this.zoom, x, y, 1);
    for (const each of this.shownPanes()) this.loadFull(each);
  }

  // A click zooms to 100 % at its point (or back to fitted), a drag pans; the pointer's last
  // place is where `Z` zooms.
  pointer(pane) {
    let down = null;
    pane.view.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      down = { x: event.clientX, y: event.clientY, zoom: this.zoom, dragged: false };
      pane.view.setPointerCapture(event.pointerId);
    });
    pane.view.addEventListener("pointermove", (event) => {
      const rect = pane.view.getBoundingClientRect();
      pane.pointer = { x: event.clientX - rect.left, y: event.clientY - rect.top };
      if (!down) return;
      const dx = event.clientX - down.x;
      const dy = event.clientY - down.y;
      if (!down.dragged && Math.hypot(dx, dy) < DRAG_PIXELS) return;
      down.dragged = true;
      const dims = this.dims(pane);
      if (!dims || !down.zoom.zoomed) return;
      this.zoom = pan(dims, down.zoom, dx, dy);
      this.render();
    });
    pane.view.addEventListener("pointerup", (event) => {
      if (!down) return;
      const { dragged } = down;
      down = null;
      if (dragged) return;
      if (this.mode === "compare") this.active = pane.index;
      const rect = pane.view.getBoundingClientRect();
      if (this.zoom.zoomed) this.zoom = FITTED;
      else this.zoomTo(pane, event.clientX - rect.left, event.clientY - rect.top);
      this.show();
    });
    pane.view.addEventListener("pointercancel", () => (down = null));
  }

  // --- rendering ---

  shownPanes() {
    if (this.mode === "single") return [this.panes[0]];
    if (this.mode === "compare") return this.panes;
    return [];
  }

  show() {
    const { store } = this;
    if (this.mode === "single") {
      store.focus = null;
      this.photo = store.photos[store.cursor];
      if (!this.photo) return;
      this.picture(this.panes[0], this.photo);
      this.preload(store.cursor);
    } else if (this.mode === "compare") {
      this.pairIds.forEach((id, i) => this.picture(this.panes[i], store.get(id)));
      store.focus = this.pairIds[this.active];
      this.photo = store.get(store.focus);
      this.preload(store.index.get(this.pairIds[1]));
    } else {
      store.focus = this.surveyIds[this.surveyAt];
      this.photo = store.get(store.focus);
      this.renderSurvey();
    }
    this.render();
    this.describe(this.photo);
  }

  // Lay out what is shown (a resize, a zoom, a drag).
  render() {
    this.panes.forEach((pane, i) => {
      pane.view.hidden = !(this.mode === "compare" || (this.mode === "single" && i === 0));
      pane.view.classList.toggle("cull-pane-active", this.mode === "compare" && i === this.active);
    });
    this.survey.hidden = this.mode !== "survey";
    for (const pane of this.shownPanes()) this.place(pane);
    if (this.mode === "survey") this.layoutSurvey();
    const zoomText = this.zoom.zoomed ? `${Math.round(this.zoom.scale * 100)} %` : "fit";
    const modeText = { single: "", compare: "Compare · ← → change the right photo · S swaps · ", survey: "Survey · " }[this.mode];
    this.status.textContent = `${modeText}${this.mode === "survey" ? `${this.surveyIds.length} photos` : `Zoom ${zoomText} (Z)`}`;
    this.root.dataset.zoom = this.zoom.zoomed ? "100" : "fit";
  }

  box(pane) {
    return { width: pane.view.clientWidth, height: pane.view.clientHeight };
  }

  // The photo's full size: its recorded width and height, else the loaded image's.
  dims(pane) {
    const photo = this.store.get(Number(pane.img.dataset.photoId));
    if (photo && photo.width && photo.height) return { width: photo.width, height: photo.height };
    if (pane.img.naturalWidth) return { width: pane.img.naturalWidth, height: pane.img.naturalHeight };
    return null;
  }

  place(pane) {
    const dims = this.dims(pane);
    const img = pane.img;
    img.classList.toggle("cull-unsized", !dims);
    if (!dims) return;
    const { scale, x, y } = layout(this.box(pane), dims, this.zoom);
    img.style.width = `${dims.width * scale}px`;
    img.style.height = `${dims.height * scale}px`;
    img.style.transform = `translate(${x}px, ${y}px)`;
  }

  describe(photo) {
    if (!photo) return;
    this.title.textContent = photo.basename;
    this.adminLink.href = this.adminUrl(photo);
    this.meta.replaceChildren(...[...metadata(photo, this.projectName(photo)), ...this.notes(photo)].flatMap(([term, value]) => {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      return [dt, dd];
    }));
  }

  renderSurvey() {
    const cells = this.surveyIds.map((id, at) => {
      const photo = this.store.get(id);
      const cell = document.createElement("figure");
      cell.className = "cull-survey-cell";
      cell.dataset.id = String(id);
      cell.classList.toggle("cull-survey-focus", at === this.surveyAt);
      cell.classList.toggle("cull-pending-delete", Boolean(photo && photo.pending_delete));
      if (!photo) return cell;
      const img = document.createElement("img");
      img.alt = photo.basename;
      img.draggable = false;
      const preview = photo.preview_status === "generated" ? this.previewUrl(photo) : null;
      const src = preview && loaded(this.preloaded.get(preview)) ? preview : photo.thumbnail_status === "generated" ? this.thumbUrl(photo) : null;
      if (src) img.src = src;
      const caption = document.createElement("figcaption");
      caption.textContent = `${photo.basename} ${badges(photo).map((b) => `${b.text}${b.state === "discard" ? "✕" : ""}`).join(" ")} ${"★".repeat(photo.rating)}`;
      cell.append(img, caption);
      return cell;
    });
    this.survey.replaceChildren(...cells);
  }

  layoutSurvey() {
    const grid = surveyGrid({ width: this.survey.clientWidth, height: this.survey.clientHeight }, this.surveyIds.length);
    this.surveyColumns = grid.columns;
    this.survey.style.gridTemplateColumns = `repeat(${grid.columns}, ${Math.floor(grid.width)}px)`;
    this.survey.style.gridAutoRows = `${Math.floor(grid.height)}px`;
  }

  // The image under the name is always this photo's: its full-size image or preview once
  // loaded, its thumbnail (or nothing) until then. Changing an <img>'s src keeps the old
  // picture on screen until the new one arrives (seconds on a slow connection), so another
  // photo gets another element; a better image loads and decodes aside and replaces it only if
  // this photo is still the one shown in that pane (a late image of an earlier photo is
  // dropped). The sharp images are the preloaded Image elements themselves, decoded ahead: the
  // element is put on the page, not a new one asking the cache for the same URL.
  picture(pane, photo) {
    if (!photo) return;
    const id = String(photo.id);
    const preview = photo.preview_status === "generated" ? this.previewUrl(photo) : null;
    const thumb = photo.thumbnail_status === "generated" ? this.thumbUrl(photo) : null;
    if (pane.img.dataset.photoId !== id) {
      const fullImage = this.zoom.zoomed ? this.preloaded.get(this.fullUrl(photo)) : undefined;
      const previewImage = preview ? this.preloaded.get(preview) : undefined;
      const kind = firstPicture({ zoomed: this.zoom.zoomed, fullReady: loaded(fullImage), previewReady: loaded(previewImage), thumb: Boolean(thumb) });
      if (kind === "full" || kind === "preview") this.swapIn(pane, id, kind === "full" ? fullImage : previewImage, kind);
      else {
        const img = document.createElement("img");
        img.dataset.kind = kind;
        if (kind === "thumbnail") img.src = thumb;
        img.addEventListener("load", () => this.open && pane.img === img && this.place(pane));
        this.swapIn(pane, id, img, kind);
      }
    } else if (pane.img.dataset.kind === "none" && thumb) {
      // The thumbnail appeared while the preview is still on its way.
      pane.img.dataset.kind = "thumbnail";
      pane.img.src = thumb;
    }
    pane.img.alt = photo.basename;
    if (this.zoom.zoomed) this.loadFull(pane);
    else if (preview && pane.img.dataset.kind !== "preview" && pane.img.dataset.kind !== "full") this.fetchInto(pane, photo.id, preview, "preview");
  }

  // Put ``image`` (photo ``id``'s picture of ``kind``) in ``pane`` in place of what it shows.
  // An image already on the page (the other pane of compare shows it) is not moved: a new
  // element with its URL takes its place here.
  swapIn(pane, id, image, kind) {
    let img = image;
    if (img.isConnected && img !== pane.img) {
      img = document.createElement("img");
      img.src = image.src;
    }
    img.id = pane.img.id;
    img.draggable = false;
    img.dataset.photoId = id;
    img.dataset.kind = kind;
    img.alt = pane.img.alt;
    if (img !== pane.img) {
      pane.img.replaceWith(img);
      pane.img = img;
    }
    if (this.open) this.place(pane);
  }

  loadFull(pane) {
    const id = Number(pane.img.dataset.photoId);
    const photo = this.store.get(id);
    if (photo && pane.img.dataset.kind !== "full") this.fetchInto(pane, id, this.fullUrl(photo), "full");
  }

  fetchInto(pane, id, url, kind) {
    if (this.failed.has(url)) return;
    const image = this.preloaded.get(url) || this.preloadImage(url);
    const apply = () => {
      // Guard by photo id: the pane may show another photo by now.
      if (!this.open || pane.img.dataset.photoId !== String(id)) return;
      if (pane.img.dataset.kind === "full" && kind !== "full") return;
      this.swapIn(pane, String(id), image, kind);
    };
    if (this.decoded.has(image)) return apply();
    this.decodeAhead(url, image).then(apply, () => undefined);
    return undefined;
  }

  // Load and decode ``image`` once: the promise resolves when it is decoded (then it paints
  // without decoding on the page), rejects when it did not load; a failed URL is not asked
  // for again and the picture shown stays.
  decodeAhead(url, image) {
    let decoding = this.decodes.get(image);
    if (!decoding) {
      decoding = image.decode().then(
        () => {
          this.decoded.add(image);
        },
        (error) => {
          if (loaded(image)) {
            // Loaded, but the decode was refused (the browser may do so): it paints anyway.
            this.decoded.add(image);
            return;
          }
          if (this.preloaded.get(url) === image) this.preloaded.delete(url);
          this.failed.add(url);
          throw error;
        },
      );
      this.decodes.set(image, decoding);
    }
    return decoding;
  }

  preloadImage(url) {
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    this.preloaded.set(url, image);
    // Forget the oldest, never one on the page.
    for (const [key, kept] of this.preloaded) {
      if (this.preloaded.size <= KEEP_IMAGES) break;
      if (!kept.isConnected) this.preloaded.delete(key);
    }
    return image;
  }

  // The next two photos' and the previous one's previews: fetched and decoded ahead, so the
  // arrow shows a sharp picture at once.
  preload(position) {
    for (const at of aheadPositions(position, this.store.photos.length)) {
      const photo = this.store.photos[at];
      if (!photo || photo.preview_status !== "generated") continue;
      const url = this.previewUrl(photo);
      if (this.failed.has(url)) continue;
      const image = this.preloaded.get(url) || this.preloadImage(url);
      this.decodeAhead(url, image).catch(() => undefined);
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

function percent(value) {
  return typeof value === "number" ? `${(value * 100).toFixed(1)} %` : "–";
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
    ["Sharpness", typeof photo.sharpness === "number" ? number(photo.sharpness) : "–"],
    ["Clipped", `highlights ${percent(photo.highlights_clipped)}, shadows ${percent(photo.shadows_clipped)}`],
    ["Burst", photo.burst_size > 1 ? `${photo.burst_size} frames${photo.burst_sharpest === photo.id ? ", the sharpest" : ""}` : "–"],
    ["Pending delete", photo.pending_delete ? "yes" : "no"],
    ["Visibility", photo.visibility || "private"],
  ];
}
