// The culling workspace (SPEC §17): wiring only. The store owns the photos and their changes
// (store.js), api.js the URLs, live.js the event stream, actions.js what keys and buttons do,
// dialogs.js the confirmations, and the views (grid, loupe, tray, trash, upload, page) render.

import { Api } from "./api.js";
import { createActions } from "./actions.js";
import { applyCapabilities, guard, guardAll, may } from "./capabilities.js";
import { Dialogs, messenger } from "./dialogs.js";
import { showModal } from "./focus.js";
import { FilterBar, filterToApi } from "./filters.js";
import { Grid } from "./grid.js";
import { handleKey } from "./keys.js";
import { JOB_EVENTS, Live, PHOTO_EVENTS, PROJECT_EVENTS, showStatus } from "./live.js";
import { Loupe } from "./loupe.js";
import { countText, fitToWindow, keepRoomForMessages, showEmpty, tileSizeControl } from "./page.js";
import { Pending } from "./pending.js";
import { Picks, SHARE_EVENTS } from "./picks.js";
import { Projects, renderPicker } from "./projects.js";
import { Store } from "./store.js";
import { Sync } from "./sync.js";
import { Trash } from "./trash.js";
import { Tray } from "./tray.js";
import { Uploader } from "./upload.js";

const boot = JSON.parse(document.getElementById("cull-bootstrap").textContent);
const root = document.getElementById("cull");
const $ = (selector) => root.querySelector(selector);

const api = new Api({ csrf: root.dataset.csrf, maxItems: boot.max_items, pageSize: boot.page_size, paths: boot.api });
const store = new Store(api);
// The project list (boot.projects, kept current by projects.js from the event stream).
const projectName = (id) => projects.name(id);
const thumbUrl = (photo) => api.imageUrl(photo, "thumbnail");
const oneProject = () => (filters.projects.length === 1 ? filters.projects[0] : null);

// Measurements the browser tests report (never asserted on time).
const metrics = (window.cullMetrics = { firstPaintMs: null, keepStoredMs: [], keepShownMs: [] });
const started = performance.now();

const messages = $("#cull-messages");
const say = messenger(messages);
keepRoomForMessages(root, messages);

// The client's picks through share links: badges, loupe notes, the "Client picks" filter and
// a message for each new pick (picks.js).
const picks = new Picks({ api, say, name: (id) => store.get(Number(id))?.basename, select: $("#cull-f-picks"), onChange: (pick) => picksChanged(pick) });

const gridElement = $("#cull-grid");
const grid = new Grid({ root: gridElement, sizer: $("#cull-sizer"), store, thumbUrl, picks, onOpen: (index) => (store.moveTo(index), loupe.toggle(true)) });
tileSizeControl($("#cull-tile-size"), grid);
gridElement.addEventListener("cull-error", (event) => say(event.detail.message, "error"));
const loupe = new Loupe({
  root: $("#cull-loupe"),
  store,
  adminUrl: (photo) => boot.admin.photo_change.replace("{id}", String(photo.id)),
  projectName: (photo) => projectName(photo.project),
  previewUrl: (photo) => api.imageUrl(photo, "preview"),
  fullUrl: (photo) => api.imageUrl(photo, "full"),
  thumbUrl,
  onNavigate: (step) => store.step(step),
  onClose: () => loupe.toggle(false),
  fallback: gridElement,
  messages,
  say,
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
const pending = new Pending({ api, element: $("#cull-pending"), projects: () => filters.projects, projectName });
const sync = new Sync({ api, store, inView: (id) => !filters.projects.length || filters.projects.includes(String(id)) });
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
  projects: () => filters.projects,
  allProjects: boot.projects,
  onStarted: () => tray.refresh(),
  onCommitStarted: (taskId) => trash.commitStarted(taskId),
  onReverted: () => filters.set(filters.filter, { push: false }),
  picks,
  currentShare: () => filters.filter.picked_by_share || "",
});

// --- the filter in the URL, the count ---

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

const empty = () => showEmpty($("#cull-empty"), store, uploader, oneProject());
store.subscribe((kind) => {
  if (kind === "loaded" || kind === "selection" || kind === "reset") {
    $("#cull-count").textContent = countText(store);
    empty();
  }
  if (kind === "cursor") grid.reveal(store.cursor);
});
const stacks = $("#cull-stacks");
stacks.addEventListener("change", () => store.setStacking(stacks.checked));

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
  "keep-sharpest": actions.keepSharpest,
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
const current = () => store.photos[store.cursor];
document.addEventListener("keydown", (event) =>
  handleKey(event, {
    store, grid, loupe,
    move: (step, options) => store.step(step, options),
    selectAll: actions.selectAll,
    actions: keyActions,
    closeLoupe: () => loupe.toggle(false),
    askTags: guard(role, "cull", actions.askTags),
    labelKeys: boot.label_keys,
    help: () => (help.open ? help.close() : showHelp()),
    dialogsOpen: () => dialogs.open || help.open,
    zoom: () => (loupe.open ? loupe.toggleZoom() : store.photos.length && (loupe.toggle(true), loupe.toggleZoom())),
    view: (mode) => (loupe.open && loupe.mode === mode ? loupe.setMode("single") : loupe.toggle(true, mode)),
    swap: () => loupe.swap(),
    toggleStack: () => current() && store.toggleStack(current().burst),
  }),
);

const uploader = new Uploader({
  api,
  grid: gridElement,
  overlay: $("#cull-drop"),
  panel: $("#cull-upload"),
  inputs: [$("#cull-upload-input"), $("#cull-upload-folder")],
  project: oneProject,
  say,
  onBatch: () => tray.refresh(),
  onChange: empty,
});
if (may(boot.capabilities, "upload")) uploader.start();

// --- start ---

filters.start();
pending.load();
picks.load();
live.start();
tray.start();
gridElement.focus({ preventScroll: true });
window.cull = { store, actions, live, tray, sync, metrics, loupe, picks };
fitToWindow(root);
