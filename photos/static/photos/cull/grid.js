// A virtualized grid: only the rows near the viewport have tile elements, so a project of
// 20,000 photos keeps a few hundred nodes at most. Tiles are positioned absolutely inside a
// sizer as tall as every loaded row (plus one row while more pages wait on the server).

// Imports first: an `export` above an `import … from` gets the import's URL hashed twice by
// collectstatic (config/static_storage.py), a missing module under `serve`.
import { hintBadges, inBurst, softFrames } from "./stacks.js";

// The tile size slider's range (the smallest width of a tile, in CSS pixels): tiles stretch
// to fill the row, so the grid shows as many columns of at least this width as fit.
export const TILE_MIN = 120;
export const TILE_MAX = 320;
export const TILE_DEFAULT = 170;
const GAP = 8;
const INFO_HEIGHT = 62;
const BUFFER_ROWS = 3;
const LOAD_AHEAD_ROWS = 12;

const LABEL_NAMES = { red: "Red", yellow: "Yellow", green: "Green", blue: "Blue", purple: "Purple" };

// A stored or chosen tile size, within the slider's range (the default when unreadable).
export function tileSize(value) {
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n)) return TILE_DEFAULT;
  return Math.min(TILE_MAX, Math.max(TILE_MIN, n));
}

// The grid's columns, tile width and row height for a grid ``width`` wide and tiles at least
// ``size`` wide.
export function gridMetrics(width, size) {
  const inner = width - GAP;
  const columns = Math.max(1, Math.floor(inner / (size + GAP)));
  const tile = Math.floor(inner / columns) - GAP;
  return { columns, tile, row: tile + INFO_HEIGHT + GAP };
}

export class Grid {
  // ``picks`` (optional): the client's picks (picks.js), badged on the tiles.
  constructor({ root, sizer, store, thumbUrl, onOpen, picks = null }) {
    this.root = root;
    this.picks = picks;
    this.sizer = sizer;
    this.store = store;
    this.thumbUrl = thumbUrl;
    this.onOpen = onOpen;
    this.tiles = new Map(); // id -> element
    this.columns = 1;
    this.size = TILE_DEFAULT;
    this.frame = 0;
    this.soft = new Set(); // soft frames among the loaded photos (stacks.js)
    root.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(root);
    root.addEventListener("click", (event) => this.click(event));
    root.addEventListener("dblclick", (event) => {
      const tile = event.target.closest(".cull-tile");
      if (tile) this.onOpen(Number(tile.dataset.index));
    });
    store.subscribe((kind, detail) => {
      if (kind === "reset") {
        for (const tile of this.tiles.values()) tile.remove();
        this.tiles.clear();
        root.scrollTop = 0;
      }
      if (kind === "photos") for (const id of detail) this.tiles.get(id)?.classList.add("cull-stale");
      if (kind === "loaded" || kind === "reset") this.soft = softFrames(store.all);
      this.schedule();
    });
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  metrics() {
    const { columns, tile, row } = gridMetrics(this.root.clientWidth, this.size);
    this.columns = columns;
    return { tile, row };
  }

  // A new tile size: the grid reflows and keeps the cursor's tile in view.
  setSize(size) {
    this.size = tileSize(size);
    this.rowHeight = this.metrics().row;
    this.reveal(this.store.cursor);
  }

  render() {
    this.frame = 0;
    const { store } = this;
    const { tile, row } = this.metrics();
    this.rowHeight = row;
    const count = store.photos.length;
    const rows = Math.ceil(count / this.columns) + (store.complete ? 0 : 1);
    this.sizer.style.height = `${rows * row + GAP}px`;
    const top = this.root.scrollTop;
    const first = Math.max(0, Math.floor(top / row) - BUFFER_ROWS);
    const last = Math.ceil((top + this.root.clientHeight) / row) + BUFFER_ROWS;
    const from = first * this.columns;
    const to = Math.min(count, (last + 1) * this.columns);
    const wanted = new Set();
    for (let i = from; i < to; i++) {
      const photo = store.photos[i];
      wanted.add(photo.id);
      let element = this.tiles.get(photo.id);
      if (!element) {
        element = document.createElement("div");
        element.className = "cull-tile";
        element.setAttribute("role", "gridcell");
        this.tiles.set(photo.id, element);
        this.sizer.appendChild(element);
      }
      this.fill(element, photo, i);
      const x = GAP + (i % this.columns) * (tile + GAP);
      const y = GAP + Math.floor(i / this.columns) * row;
      element.style.transform = `translate(${x}px, ${y}px)`;
      element.style.width = `${tile}px`;
      element.style.setProperty("--thumb", `${tile}px`);
    }
    // Screen readers follow the cursor through the grid, which keeps the focus itself.
    if (this.sizer.querySelector("#cull-current")) this.root.setAttribute("aria-activedescendant", "cull-current");
    else this.root.removeAttribute("aria-activedescendant");
    for (const [id, element] of this.tiles) {
      if (!wanted.has(id)) {
        element.remove();
        this.tiles.delete(id);
      }
    }
    if (!store.complete && last * this.columns + LOAD_AHEAD_ROWS * this.columns >= count) {
      store.loadMore().catch((error) => this.root.dispatchEvent(new CustomEvent("cull-error", { detail: error })));
    }
  }

  fill(element, photo, index) {
    const { store } = this;
    const selected = store.selection.has(photo.id);
    const current = index === store.cursor;
    element.dataset.index = String(index);
    element.dataset.id = String(photo.id);
    element.classList.toggle("cull-selected", selected);
    element.classList.toggle("cull-current", current);
    element.classList.toggle("cull-pending-delete", Boolean(photo.pending_delete));
    const stack = store.stacked && inBurst(photo) ? (store.expanded.has(photo.burst) ? "open" : "closed") : "";
    element.classList.toggle("cull-stacked", stack === "closed");
    element.classList.toggle("cull-burst-open", stack === "open");
    element.setAttribute("aria-selected", String(selected));
    if (current) element.id = "cull-current";
    else if (element.id) element.removeAttribute("id");
    const signature = `${stack}|${this.soft.has(photo.id)}|${photo.sharpness}|${photo.burst_sharpest}|${photo.updated_at}|${photo.keep_jpg}|${photo.keep_raw}|${photo.rating}|${photo.label}|${photo.thumbnail_status}|${photo.tags.join(",")}|${photo.pending_delete}|${photo._pending || ""}|${photo.visibility}|${this.picks ? this.picks.signature(photo.id) : ""}`;
    if (element._signature === signature) return;
    element._signature = signature;
    element.classList.remove("cull-stale");
    element.replaceChildren(this.thumb(photo, stack), this.info(photo));
    element.setAttribute("aria-label", describe(photo));
  }

  thumb(photo, stack = "") {
    const box = document.createElement("div");
    box.className = "cull-thumb";
    const status = photo.thumbnail_status;
    if (status === "generated") {
      const img = document.createElement("img");
      img.alt = "";
      img.draggable = false;
      img.decoding = "async";
      img.src = this.thumbUrl(photo);
      box.appendChild(img);
    } else if (status === "failed" || status === "not_supported" || status === "missing") {
      box.innerHTML = `<span class="cull-thumb-state cull-failed" title="Thumbnail ${status.replace("_", " ")}">⚠<span class="cull-thumb-text">${status.replace("_", " ")}</span></span>`;
    } else {
      box.innerHTML = '<span class="cull-thumb-state"><span class="cull-spinner" role="img" aria-label="Thumbnail pending"></span></span>';
    }
    if (photo.pending_delete) {
      const mark = document.createElement("span");
      mark.className = "cull-mark";
      mark.title = "Pending delete: a commit trashes files of this photo";
      mark.textContent = "✕";
      box.appendChild(mark);
    }
    // A burst's stack: its size; a click (or S) opens it, or closes it from any of its frames.
    if (stack) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cull-stack";
      button.tabIndex = -1;
      button.dataset.burst = String(photo.burst);
      button.textContent = stack === "closed" ? `▣ ${photo.burst_size}` : `▣ ${photo.burst_size} ▴`;
      button.title = stack === "closed" ? `A burst of ${photo.burst_size} frames: show them (S)` : "Close the burst's stack (S)";
      button.setAttribute("aria-label", button.title);
      box.appendChild(button);
    }
    if (photo._pending) {
      const mark = document.createElement("span");
      mark.className = "cull-saving";
      mark.title = "Saving…";
      box.appendChild(mark);
    }
    return box;
  }

  info(photo) {
    const info = document.createElement("div");
    info.className = "cull-info";
    const name = document.createElement("div");
    name.className = "cull-name";
    name.textContent = photo.basename;
    name.title = photo.basename;
    const line = document.createElement("div");
    line.className = "cull-line";
    for (const badge of badges(photo)) {
      const span = document.createElement("span");
      span.className = `cull-badge cull-${badge.state}`;
      span.textContent = badge.text;
      span.title = `${badge.text}: ${badge.state === "keep" ? "kept" : badge.state === "discard" ? "discarded" : "present"}`;
      line.appendChild(span);
    }
    for (const hint of hintBadges(photo, { soft: this.soft })) {
      const span = document.createElement("span");
      span.className = `cull-hint cull-hint-${hint.key}`;
      span.textContent = hint.text;
      span.title = hint.title;
      line.appendChild(span);
    }
    const stars = document.createElement("span");
    stars.className = "cull-stars";
    stars.textContent = "★".repeat(photo.rating) + "☆".repeat(5 - photo.rating);
    stars.title = `Rating ${photo.rating}`;
    line.appendChild(stars);
    if (photo.label && photo.label !== "none") {
      const dot = document.createElement("span");
      dot.className = `cull-label cull-label-${photo.label}`;
      dot.title = `Label ${LABEL_NAMES[photo.label] || photo.label}`;
      line.appendChild(dot);
    }
    if (photo.visibility === "public") {
      const open = document.createElement("span");
      open.className = "cull-public";
      open.title = "Public: share links that hold it show it";
      open.textContent = "◎";
      line.appendChild(open);
    }
    const mark = this.picks && this.picks.mark(photo.id);
    if (mark) {
      const heart = document.createElement("span");
      heart.className = "cull-picked";
      heart.title = mark.title;
      heart.textContent = `${mark.hearts ? `♥${mark.hearts > 1 ? mark.hearts : ""}` : ""}${mark.comments ? "✎" : ""}`;
      line.appendChild(heart);
    }
    const tags = document.createElement("div");
    tags.className = "cull-tags";
    tags.textContent = photo.tags.join(", ");
    info.append(name, line, tags);
    return info;
  }

  click(event) {
    const tile = event.target.closest(".cull-tile");
    if (!tile) return;
    const stack = event.target.closest(".cull-stack");
    if (stack) {
      this.store.toggleStack(Number(stack.dataset.burst));
      this.root.focus({ preventScroll: true });
      return;
    }
    const index = Number(tile.dataset.index);
    this.store.moveTo(index, { extend: event.shiftKey, add: event.ctrlKey || event.metaKey, select: true });
    this.root.focus({ preventScroll: true });
  }

  // Scroll the cursor's row into view (the grid keeps its own scroll position otherwise).
  reveal(index) {
    const row = this.rowHeight || this.metrics().row;
    const y = Math.floor(index / this.columns) * row;
    if (y < this.root.scrollTop) this.root.scrollTop = y;
    else if (y + row > this.root.scrollTop + this.root.clientHeight) this.root.scrollTop = y + row - this.root.clientHeight + GAP;
    this.schedule();
  }
}

export function badges(photo) {
  const list = [];
  if (photo.jpg_available) list.push({ text: "JPG", state: photo.keep_jpg ? "keep" : "discard" });
  if (photo.raw_available) list.push({ text: "RAW", state: photo.keep_raw ? "keep" : "discard" });
  if (photo.other_available) list.push({ text: "OTHER", state: "other" });
  return list;
}

// The names of the files a commit would trash of ``photo``. A photo row records one
// extension: the JPG's when it has one, else another image's, else the RAW's; so a RAW beside
// a JPG (or another image) is named by its base name and "(RAW)".
export function trashedNames(photo) {
  const names = [];
  const ext = photo.ext ? `.${photo.ext}` : "";
  if (photo.jpg_available && !photo.keep_jpg) names.push(`${photo.basename}${ext || ".jpg"}`);
  if (photo.raw_available && !photo.keep_raw) {
    names.push(!photo.jpg_available && !photo.other_available && ext ? `${photo.basename}${ext}` : `${photo.basename} (RAW)`);
  }
  return names;
}

function describe(photo) {
  const files = badges(photo).map((b) => `${b.text} ${b.state === "keep" ? "kept" : b.state === "discard" ? "discarded" : ""}`.trim());
  const parts = [photo.basename, ...files, `rating ${photo.rating}`];
  if (photo.label && photo.label !== "none") parts.push(`label ${photo.label}`);
  if (photo.pending_delete) parts.push("pending delete");
  if (photo.visibility === "public") parts.push("public");
  if (photo.tags.length) parts.push(`tags ${photo.tags.join(", ")}`);
  return parts.join(", ");
}
