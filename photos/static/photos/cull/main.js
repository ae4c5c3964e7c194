// The culling workspace (SPEC §17): wiring only. The store owns the photos and their changes
// (store.js), api.js the URLs, live.js the event stream, actions.js what keys and buttons do,
// dialogs.js the confirmations, and the views (grid, loupe, tray, trash, upload) render.

import { Api } from "./api.js";
import { createActions } from "./actions.js";
import { applyCapabilities, guard, guardAll, may } from "./capabilities.js";
import { Dialogs, messenger } from "./dialogs.js";
import { showModal } from "./focus.js";
import { FilterBar, filterToApi } from "./filters.js";
import { Grid, tileSize } from "./grid.js";
import { handleKey } from "./keys.js";
import { JOB_EVENTS, Live, PHOTO_EVENTS, PROJECT_EVENTS, showStatus } from "./live.js";
import { Loupe } from "./loupe.js";
import { Pending } from "./pending.js";
import { Picks, SHARE_EVENTS } from "./picks.js";
import { Projects, renderPicker } from "./projects.js";
import { Store } from "./store.js";
import { Sync } from "./sync.js";
import { Trash } from "./trash.js";
import { Tray } from "./tray.js";
import { Uploader, uploadingText } from "./upload.js";

const boot = JSON.parse(document.getElementById("cull-bootstrap").textContent);
const root = document.getElementById("cull");
const $ = (selector) => root.querySelector(selector);

const api = new Api({ csrf: root.dataset.csrf, maxItems: boot.max_items, pageSize: boot.page_size, paths: boot.api });
const store = new Store(api);
// The project list (boot.projects, kept current by projects.js from the event stream).
const projectName = (id) => projects.name(id);
const thumbUrl = (photo) => api.imageUrl(photo, "thumbnail");
const shownProjects = () => filters.projects;
const inView = (id) => !filters.projects.length || filters.projects.includes(String(id));

// Measurements the browser tests report (never asserted on time).
const metrics = (window.cullMetrics = { firstPaintMs: null, keepStoredMs: [], keepShownMs: [] });
const started = performance.now();

const messages = $("#cull-messages");
const say = messenger(messages);
// While messages show (bottom right, over everything, the loupe too), the grid and the tray
// end above them: a message never covers a tile.
new ResizeObserver(() => {
  const height = messages.childElementCount ? messages.getBoundingClientRect().height + 12 : 0;
  root.style.setProperty("--cull-messages-height", `${height}px`);
}).observe(messages);

// The client's picks through share links: badges, loupe notes, the "Client picks" filter and
// a message for each new pick (picks.js).
const picks = new Picks({ api, say, name: (id) => store.get(Number(id))?.basename, select: $("#cull-f-picks"), onChange: (pick) => picksChanged(pick) });

const gridElement = $("#cull-grid");
const grid = new Grid({ root: gridElement, sizer: $("#cull-sizer"), store, thumbUrl, picks, onOpen: (index) => (store.moveTo(index), loupe.toggle(true)) });
// The tile size slider: remembered in this browser (localStorage), the grid reflows.
const TILE_SIZE_KEY = "cull.tileSize";
const sizeInput = $("#cull-tile-size");
function applyTileSize(value, { remember = false } = {}) {
  const size = tileSize(value);
  sizeInput.value = String(size);
  sizeInput.setAttribute("aria-valuetext", `${size} pixels`);
  grid.setSize(size);
  if (remember) {
    try {
      localStorage.setItem(TILE_SIZE_KEY, String(size));
    } catch (error) {
      // Storage refused (private mode): the size holds for this page only.
    }
  }
}
let storedSize = null;
try {
  storedSize = localStorage.getItem(TILE_SIZE_KEY);
} catch (error) {
  // No storage: the default size.
}
applyTileSize(storedSize);
sizeInput.addEventListener("input", () => applyTileSize(sizeInput.value, { remember: true }));
gridElement.addEventListener("cull-error", (event) => say(event.detail.message, "error"));
const loupe = new Loupe({
  root: $("#cull-loupe"),
  store,
  adminUrl: (photo) => boot.admin.photo_change.replace("{id}", String(photo.id)),
  projectName: (photo) => projectName(photo.project),
  previewUrl: (photo) => api.imageUrl(photo, "preview"),
  thumbUrl,
  onNavigate: (step) => move(step),
  onClose: () => loupe.toggle(false),
  fallback: gridElement,
  keep: [messages],
  notes: (photo) => picks.notes(photo.id),
});

// A pick arrived (or the picks were read): tiles and the loupe re-render; with the filter on
// that link's picks, the photo joins the grid (or leaves it when its last heart there went).
function picksChanged(pick) {
  grid.schedule();
  if (loupe.open) loupe.show();
  const shown = filters.filter.picked_by_share;
  if (!pick || !shown || String(pick.share_id) !== String(shown)) return;
  const id = Number(pick.photo_id);
  const rows = picks.picks.get(id);
  const hearted = rows && [...rows.values()].some((p) => p.picked && String(p.share_id) === String(shown));
  if (hearted) api.photo(id).then((photo) => store.upsert(photo), () => {});
  else store.remove([id]);
}

const live = new Live({ url: boot.api.events, lastEventId: boot.last_event_id, pollMs: boot.poll_ms, types: [...JOB_EVENTS, ...PHOTO_EVENTS, ...PROJECT_EVENTS, ...SHARE_EVENTS], onStatus: showStatus($("#cull-live")) });
const tray = new Tray({ list: $("#cull-tasks"), empty: $("#cull-tasks-empty"), api, live });
const pending = new Pending({ api, element: $("#cull-pending"), projects: shownProjects, projectName });
const sync = new Sync({ api, store, inView });
const dialogs = new Dialogs({ dialog: $("#cull-dialog"), fallback: gridElement });
const trash = new Trash({
  api,
  root,
  dialog: $("#cull-trash"),
  projects: () => (filters.projects.length ? filters.projects : boot.projects.map((p) => String(p.id))),
  projectName,
  // A viewer or culler may look at the trash but not restore (SPEC §14).
  canRestore: !boot.capabilities || boot.capabilities.restore !== false,
  say,
  onStarted: () => tray.refresh(),
});
const projects = new Projects({ list: boot.projects, api, dialogs, say, chosen: () => filters.projects, onChange: projectsChanged });
live.on((event) => (trash.onEvent(event), pending.onEvent(event), sync.onEvent(event), picks.onEvent(event), projects.onEvent(event)));
live.onPoll(() => (trash.poll(), pending.load(), sync.poll()));

const actions = createActions({
  store, api, dialogs, say, metrics, thumbUrl, projectName,
  labels: boot.labels,
  projects: shownProjects,
  allProjects: boot.projects,
  onStarted: () => tray.refresh(),
  onCommitStarted: (taskId) => trash.commitStarted(taskId),
  onReverted: () => filters.set(filters.filter, { push: false }),
  picks,
  currentShare: () => filters.filter.picked_by_share || "",
});

// --- filters in the URL, the count ---

function showProjectsSummary(filter) {
  $("#cull-f-projects-summary").textContent = filter.projects.length ? filter.projects.map(projectName).join(", ") : "All projects";
}

function applyFilter(filter) {
  showProjectsSummary(filter);
  store.reset(filterToApi(filter));
  const t0 = performance.now();
  store.loadMore().then(() => {
    requestAnimationFrame(() => {
      if (metrics.firstPaintMs === null) metrics.firstPaintMs = performance.now() - started;
      metrics.lastLoadMs = performance.now() - t0;
      root.dataset.ready = "true";
    });
  }, (error) => say(error.message, "error"));
  pending.render();
}
const filters = new FilterBar({ form: $("#cull-filters"), clear: $("#cull-f-clear"), onChange: applyFilter });

// --- projects: the picker and the Move dialog follow every change, this tab's or not ---

function projectsChanged() {
  renderPicker($("#cull-f-projects-list"), boot.projects, filters.projects);
  const known = new Set(boot.projects.map((p) => String(p.id)));
  const shown = filters.projects.filter((id) => known.has(id));
  // A project archived while the filter shows it leaves the filter.
  if (shown.length !== filters.projects.length) filters.set({ ...filters.filter, projects: shown }, { fill: true, push: false });
  else showProjectsSummary(filters.filter);
}
const projectMenu = $("#cull-project-menu");
const fromMenu = (act) => () => ((projectMenu.open = false), act());
$("#cull-project-new").addEventListener("click", async () => {
  const made = await projects.create();
  if (made) filters.set({ ...filters.filter, projects: [String(made.id)] }, { fill: true });
});
$("#cull-project-rename").addEventListener("click", fromMenu(() => projects.rename()));
$("#cull-project-archive").addEventListener("click", fromMenu(() => projects.archive()));
projectMenu.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && projectMenu.open) (event.preventDefault(), event.stopPropagation(), (projectMenu.open = false));
});
document.addEventListener("pointerdown", (event) => {
  if (projectMenu.open && !projectMenu.contains(event.target)) projectMenu.open = false;
});

store.subscribe((kind) => {
  if (kind === "loaded" || kind === "selection" || kind === "reset") {
    const loaded = store.photos.length;
    const selected = store.selection.size;
    $("#cull-count").textContent = `${loaded}${store.complete ? "" : "+"} photo${loaded === 1 ? "" : "s"}${selected ? ` · ${selected} selected` : ""}`;
    showEmpty();
  }
  if (kind === "cursor") grid.reveal(store.cursor);
});

// --- navigation ---

function move(step, options = {}) {
  const target = store.cursor + step;
  if (target >= store.photos.length && !store.complete) {
    store.loadMore().then(() => store.moveTo(Math.min(target, store.photos.length - 1), options));
    return;
  }
  store.moveTo(target, options);
}

async function selectAll() {
  say("Selecting every photo that matches the filter…");
  try {
    await store.loadAll();
  } catch (error) {
    return say(error.message, "error");
  }
  store.selectAll();
  return say(`${store.selection.size} photos selected.`);
}

// --- buttons and keys (what the role may not do is hidden; its keys answer with a message) ---

const help = $("#cull-help");
const showHelp = () => showModal(help, { fallback: gridElement });
$("#cull-help-open").addEventListener("click", showHelp);
const buttons = {
  commit: actions.commit,
  revert: actions.revert,
  move: actions.move,
  process: actions.process,
  "make-public": () => actions.visibility("public"),
  "make-private": () => actions.visibility("private"),
  share: actions.share,
  "apply-picks": actions.applyPicks,
  export: actions.export,
  "tag-add": () => actions.askTags(true),
  "tag-remove": () => actions.askTags(false),
  // Touch and pointer equivalents of the keys, for tablets.
  loupe: () => store.photos.length && loupe.toggle(true),
  "keep-jpg": () => actions.toggleKeep("jpg"),
  "keep-raw": () => actions.toggleKeep("raw"),
  "keep-both": () => actions.keepBoth(true),
  discard: () => actions.keepBoth(false),
  undo: () => actions.undo(),
};
for (const [id, act] of [["#cull-rate", (v) => actions.rate(Number(v))], ["#cull-label", (v) => actions.setLabel(v)]]) {
  $(id).addEventListener("change", (event) => {
    const value = event.target.value;
    event.target.value = "";
    if (value !== "") act(value);
  });
}
for (const button of root.querySelectorAll("[data-action]")) button.addEventListener("click", () => buttons[button.dataset.action]());

const role = { capabilities: boot.capabilities, role: boot.role, say };
applyCapabilities(root, boot.capabilities);
const keyActions = guardAll(role, "cull", actions);
document.addEventListener("keydown", (event) =>
  handleKey(event, {
    store,
    grid,
    loupe,
    actions: keyActions,
    move,
    selectAll,
    closeLoupe: () => loupe.toggle(false),
    askTags: guard(role, "cull", actions.askTags),
    labelKeys: boot.label_keys,
    help: () => (help.open ? help.close() : showHelp()),
    dialogsOpen: () => dialogs.open || help.open,
  }),
);

// The empty grid says why: an upload on its way, or a filter nothing matches.
function showEmpty() {
  const empty = $("#cull-empty");
  if (store.photos.length && uploader.state && !uploader.state.busy) uploader.state = null; // They came.
  empty.hidden = !(store.complete && store.photos.length === 0);
  const uploading = uploadingText(uploader.state, filters.projects.length === 1 ? filters.projects[0] : null);
  empty.textContent = uploading || "No photos match this filter.";
  empty.classList.toggle("cull-empty-uploading", Boolean(uploading));
}

const uploader = new Uploader({
  api,
  grid: gridElement,
  overlay: $("#cull-drop"),
  panel: $("#cull-upload"),
  inputs: [$("#cull-upload-input"), $("#cull-upload-folder")],
  project: () => (filters.projects.length === 1 ? filters.projects[0] : null),
  say,
  onBatch: () => tray.refresh(),
  onChange: () => showEmpty(),
});
if (may(boot.capabilities, "upload")) uploader.start();

// --- start ---

filters.start();
pending.load();
picks.load();
live.start();
tray.start();
gridElement.focus({ preventScroll: true });
window.cull = { store, actions, live, tray, sync, metrics, picks };

// Fill the window below the admin's header whatever its height (it wraps on a tablet).
function fit() {
  root.style.height = `${Math.max(420, window.innerHeight - root.getBoundingClientRect().top - 8)}px`;
}
window.addEventListener("resize", fit);
fit();
