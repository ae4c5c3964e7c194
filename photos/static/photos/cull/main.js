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
import { Live, showStatus } from "./live.js";
import { Loupe } from "./loupe.js";
import { countText, fitToWindow, keepRoomForMessages, showEmpty, tileSizeControl } from "./page.js";
import { Pending } from "./pending.js";
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
const projectNames = new Map(boot.projects.map((p) => [String(p.id), p.name]));
const projectName = (id) => projectNames.get(String(id)) || `#${id}`;
const thumbUrl = (photo) => api.imageUrl(photo, "thumbnail");
const oneProject = () => (filters.projects.length === 1 ? filters.projects[0] : null);

// Measurements the browser tests report (never asserted on time).
const metrics = (window.cullMetrics = { firstPaintMs: null, keepStoredMs: [], keepShownMs: [] });
const started = performance.now();

const messages = $("#cull-messages");
const say = messenger(messages);
keepRoomForMessages(root, messages);

const gridElement = $("#cull-grid");
const grid = new Grid({ root: gridElement, sizer: $("#cull-sizer"), store, thumbUrl, onOpen: (index) => (store.moveTo(index), loupe.toggle(true)) });
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
});

const live = new Live({ url: boot.api.events, lastEventId: boot.last_event_id, pollMs: boot.poll_ms, onStatus: showStatus($("#cull-live")) });
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
live.on((event) => (trash.onEvent(event), pending.onEvent(event), sync.onEvent(event)));
live.onPoll(() => (trash.poll(), pending.load(), sync.poll()));

const actions = createActions({
  store, api, dialogs, say, metrics, thumbUrl, projectName,
  labels: boot.labels,
  projects: () => filters.projects,
  allProjects: boot.projects,
  onStarted: () => tray.refresh(),
  onCommitStarted: (taskId) => trash.commitStarted(taskId),
  onReverted: () => filters.set(filters.filter, { push: false }),
});

// --- the filter in the URL, the count ---

function applyFilter(filter) {
  $("#cull-f-projects-summary").textContent = filter.projects.length ? filter.projects.map(projectName).join(", ") : "All projects";
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
live.start();
tray.start();
gridElement.focus({ preventScroll: true });
window.cull = { store, actions, live, tray, sync, metrics, loupe };
fitToWindow(root);
