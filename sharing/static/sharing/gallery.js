// The client's gallery (/s/<token>/): wiring only. The store owns the photos and the picks
// (store.js); the workspace's api.js builds every URL and talks to the server, its focus.js
// keeps the keyboard inside the loupe; gestures.js reads swipes and keys.
//
// Thumbnails first: the grid shows only thumbnails, loaded lazily as they near the viewport;
// a preview is fetched when the client opens the loupe (srcset picks the size the screen
// needs), with the next one fetched ahead.

import { Api } from "../photos/cull/api.js";
import { layerClosed, layerOpened } from "../photos/cull/focus.js";
import { keyStep, watchSwipes } from "./gestures.js";
import { GalleryStore, srcsetOf } from "./store.js";

const boot = JSON.parse(document.getElementById("gallery-bootstrap").textContent);
const root = document.getElementById("gallery");
const $ = (selector) => document.querySelector(selector);
const NAME_KEY = "gallery-client-name";

const api = new Api({ csrf: root.dataset.csrf, maxItems: 1, pageSize: 0, paths: boot.paths });
const store = new GalleryStore(api);
const sizes = { thumbBox: boot.thumb_box, previewBox: boot.preview_box };
const grid = $("#gallery-grid");
const loupe = $("#gallery-loupe");
const loupeImg = $("#gallery-loupe-img");
const status = $("#gallery-status");
const downloadsAllowed = boot.downloads !== "none";

function say(text) {
  status.textContent = text;
  status.hidden = !text;
  if (text) setTimeout(() => { if (status.textContent === text) status.hidden = true; }, 5000);
}

function clientName() {
  try {
    return localStorage.getItem(NAME_KEY) || "";
  } catch (error) {
    return "";
  }
}

function rememberName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch (error) {
    // Private modes may refuse storage: the name then lasts for this page only.
  }
  store.name = name;
  $("#gallery-who").textContent = name ? `You are ${name}` : "";
}

// The client's name, asked once (the first heart or comment) and kept in localStorage.
function askName() {
  if (store.name) return Promise.resolve(store.name);
  const dialog = $("#gallery-name-dialog");
  const input = dialog.querySelector("input");
  input.value = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const name = dialog.returnValue === "ok" ? input.value.trim().slice(0, boot.name_max) : "";
        if (name) rememberName(name);
        resolve(name || null);
      },
      { once: true },
    );
  });
}

// --- grid ----------------------------------------------------------------------------------

function heartButton(photo, className) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.dataset.photo = String(photo.id);
  paintHeart(button, photo);
  return button;
}

function paintHeart(button, photo) {
  button.setAttribute("aria-pressed", photo.picked ? "true" : "false");
  button.setAttribute("aria-label", photo.picked ? `Unpick ${photo.basename}` : `Pick ${photo.basename}`);
  button.textContent = photo.picked ? "♥" : "♡";
}

function tile(photo, index) {
  const item = document.createElement("li");
  item.className = "gallery-tile";
  item.dataset.photo = String(photo.id);
  const open = document.createElement("button");
  open.type = "button";
  open.className = "gallery-open";
  open.dataset.index = String(index);
  open.setAttribute("aria-label", `Open ${photo.basename}`);
  const img = document.createElement("img");
  img.src = photo.thumbnail;
  img.alt = photo.basename;
  img.loading = "lazy";
  img.decoding = "async";
  if (photo.width && photo.height) {
    img.width = photo.width;
    img.height = photo.height;
  }
  img.addEventListener("load", () => item.classList.add("is-loaded"), { once: true });
  open.append(img);
  item.append(open);
  if (boot.allow_picks) item.append(heartButton(photo, "gallery-heart"));
  if (photo.comment) item.classList.add("has-comment");
  return item;
}

function renderGrid() {
  grid.replaceChildren(...store.photos.map(tile));
  $("#gallery-count").textContent = `${store.photos.length} photo${store.photos.length === 1 ? "" : "s"}`;
  $("#gallery-empty").hidden = store.photos.length > 0;
  renderPicked();
}

function renderPicked() {
  const count = store.picked.length;
  $("#gallery-picked").textContent = boot.allow_picks ? `${count} picked` : "";
  const zip = $("#gallery-zip");
  if (zip) {
    zip.hidden = !count;
    zip.href = api.url("zip", { query: store.name ? { name: store.name } : {} });
  }
  // The photographer's prepared downloads carry the client's name too, for the studio's log.
  for (const link of document.querySelectorAll("#gallery-deliveries a[data-export]")) {
    const href = new URL(link.getAttribute("href"), location.href);
    if (store.name) href.searchParams.set("name", store.name);
    else href.searchParams.delete("name");
    link.setAttribute("href", href.pathname + href.search);
  }
}

function paintPick(photo) {
  for (const button of document.querySelectorAll(`[data-photo="${photo.id}"].gallery-heart, #gallery-loupe-heart[data-photo="${photo.id}"]`)) {
    paintHeart(button, photo);
  }
  const item = grid.querySelector(`li[data-photo="${photo.id}"]`);
  if (item) item.classList.toggle("has-comment", Boolean(photo.comment));
  if (store.current && store.current.id === photo.id) showComment(photo);
  renderPicked();
}

async function toggle(photoId) {
  if (!(await askName())) return;
  try {
    await store.togglePick(photoId);
  } catch (error) {
    say(error.message);
  }
}

grid.addEventListener("click", (event) => {
  const heart = event.target.closest(".gallery-heart");
  if (heart) {
    toggle(Number(heart.dataset.photo));
    return;
  }
  const open = event.target.closest(".gallery-open");
  if (open) openLoupe(Number(open.dataset.index));
});

// --- loupe ---------------------------------------------------------------------------------

const preloaded = new Map();

function preload(photo) {
  if (!photo || preloaded.has(photo.id)) return;
  const img = new Image();
  img.decoding = "async";
  img.sizes = "100vw";
  img.srcset = srcsetOf(photo, sizes);
  preloaded.set(photo.id, img);
}

function showComment(photo) {
  const field = $("#gallery-comment");
  if (field && document.activeElement !== field) field.value = photo.comment || "";
  const saved = $("#gallery-comment-saved");
  if (saved) saved.textContent = photo.comment ? "Comment saved." : "";
}

function showLoupe() {
  const photo = store.current;
  if (!photo) return;
  // The thumbnail is in the cache already: show it until the preview has loaded.
  loupeImg.removeAttribute("srcset");
  loupeImg.src = photo.thumbnail;
  loupeImg.alt = photo.basename;
  loupeImg.sizes = "100vw";
  loupeImg.srcset = srcsetOf(photo, sizes);
  $("#gallery-loupe-title").textContent = photo.basename;
  $("#gallery-loupe-pos").textContent = `${store.cursor + 1} / ${store.photos.length}`;
  const heart = $("#gallery-loupe-heart");
  if (heart) {
    heart.dataset.photo = String(photo.id);
    paintHeart(heart, photo);
  }
  showComment(photo);
  const preview = $("#gallery-dl-preview");
  if (preview) preview.href = `${photo.preview}?download=1&name=${encodeURIComponent(store.name)}`;
  const original = $("#gallery-dl-original");
  if (original) {
    original.hidden = !photo.original;
    if (photo.original) original.href = `${photo.original}?name=${encodeURIComponent(store.name)}`;
  }
  $("#gallery-loupe-prev").disabled = store.cursor <= 0;
  $("#gallery-loupe-next").disabled = store.cursor >= store.photos.length - 1;
  preload(store.photos[store.cursor + 1]);
  preload(store.photos[store.cursor - 1]);
}

function openLoupe(index) {
  const opener = document.activeElement;
  store.cursor = -1;
  loupe.hidden = false;
  document.body.classList.add("gallery-loupe-open");
  store.go(index);
  layerOpened(loupe, { opener, fallback: grid, modal: true, keep: [status] });
  loupe.focus({ preventScroll: true });
}

function closeLoupe() {
  if (loupe.hidden) return;
  loupe.hidden = true;
  document.body.classList.remove("gallery-loupe-open");
  loupeImg.removeAttribute("srcset");
  loupeImg.removeAttribute("src");
  const index = store.cursor;
  layerClosed(loupe);
  const button = grid.querySelector(`.gallery-open[data-index="${index}"]`);
  if (button) button.focus({ preventScroll: false });
}

$("#gallery-loupe-prev").addEventListener("click", () => store.step(-1));
$("#gallery-loupe-next").addEventListener("click", () => store.step(1));
$("#gallery-loupe-close").addEventListener("click", closeLoupe);
const loupeHeart = $("#gallery-loupe-heart");
if (loupeHeart) loupeHeart.addEventListener("click", () => store.current && toggle(store.current.id));
watchSwipes($("#gallery-loupe-stage"), (step) => store.step(step));

loupe.addEventListener("keydown", (event) => {
  if (event.target.closest("textarea, input")) {
    if (event.key === "Escape") loupe.focus();
    return;
  }
  const step = keyStep(event.key);
  if (step) {
    event.preventDefault();
    store.step(step);
  } else if (event.key === "Escape") {
    event.preventDefault();
    closeLoupe();
  } else if ((event.key === "h" || event.key === "H") && boot.allow_picks && store.current) {
    event.preventDefault();
    toggle(store.current.id);
  }
});

const commentForm = $("#gallery-comment-form");
if (commentForm) {
  commentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const photo = store.current;
    if (!photo || !(await askName())) return;
    const comment = $("#gallery-comment").value.slice(0, boot.comment_max);
    try {
      await store.setPick(photo.id, { comment });
      say("Comment saved.");
    } catch (error) {
      say(error.message);
    }
  });
}

store.subscribe((kind, detail) => {
  if (kind === "photos") renderGrid();
  else if (kind === "cursor" && !loupe.hidden) showLoupe();
  else if (kind === "pick") paintPick(detail);
});

// --- start ---------------------------------------------------------------------------------

const changeName = $("#gallery-change-name");
if (changeName) {
  changeName.addEventListener("click", async () => {
    store.name = "";
    if (await askName()) await store.load(store.name);
  });
}

rememberName(clientName());
root.classList.toggle("can-download", downloadsAllowed);
store.load(store.name).catch((error) => {
  say(error.status === 404 ? "This gallery is no longer available." : error.message);
});
