// The culling workspace (SPEC §17): wiring only. The store owns the photos and their changes
// (store.js), api.js the URLs, live.js the event stream, actions.js what keys and buttons do,
// dialogs.js the confirmations, and the views (grid, loupe, tray, trash, upload, page) render.

import { Api } from "./api.js";
import { bindButtons, createActions } from "./actions.js";
import { applyCapabilities, guard, guardAll, may } from "./capabilities.js";
import { Dialogs, messenger } from "./dialogs.js";
import { showModal } from "./focus.js";
import { FilterBar, filterToApi } from "./filters.js";
import { Grid } from "./grid.js";
import { handleKey, viewKeys } from "./keys.js";
import { JOB_EVENTS, Live, PHOTO_EVENTS, PROJECT_EVENTS, showStatus } from "./live.js";
import { Loupe } from "./loupe.js";
import { fitToWindow, keepRoomForMessages, loadFirstPage, showCount, showEmpty, tileSizeControl } from "./page.js";
import { Pending } from "./pending.js";
import { Picks, SHARE_EVENTS } from "./picks.js";
import { Projects, bindProjectMenu } from "./projects.js";
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
// a message for each new pick (picks.js). A pick re-renders the tiles and the loupe; with the
// filter on that link's picks, the photo joins the grid or leaves it.
const picks = new Picks({
  api, say, select: $("#cull-f-picks"),
  name: (id) => store.get(Number(id))?.basename,
  onChange: (pick) => (grid.schedule(), loupe.open && loupe.show(), picks.follow(pick, filters.filter.picked_by_share, store)),
});

const gridElement = $("#cull-grid");
const grid = new Grid({ root: gridElement, sizer: $("#cull-sizer"), store, thumbUrl, picks, onOpen: (index) => (store.moveTo(index), loupe.toggle(true)) });
tileSizeControl($("#cull-tile-size"), grid);
gridElement.addEventListener("cull-error", (event) => say(event.detail.message, "error"));
const loupe = new Loupe({
  root: $("#cull-loupe"), store, thumbUrl, messages, say, fallback: gridElement,
  adminUrl: (photo) => boot.admin.photo_change.replace("{id}", String(photo.id)),
  projectName: (photo) => projectName(photo.project),
  previewUrl: (photo) => api.imageUrl(photo, "screen"),
  fullUrl: (photo) => api.imageUrl(photo, "full"),
  onNavigate: (step) => store.step(step),
  onClose: () => loupe.toggle(false),
  notes: (photo) => picks.notes(photo.id),
});

const live = new Live({ url: boot.api.events, lastEventId: boot.last_event_id, pollMs: boot.poll_ms, types: [...JOB_EVENTS, ...PHOTO_EVENTS, ...PROJECT_EVENTS, ...SHARE_EVENTS], onStatus: showStatus($("#cull-live")) });
const tray = new Tray({ list: $("#cull-tasks"), empty: $("#cull-tasks-empty"), api, live });
const pending = new Pending({ api, element: $("#cull-pending"), projects: () => filters.projects, projectName });
const sync = new Sync({ api, store, inView: (id) => !filters.projects.length || filters.projects.includes(String(id)) });
const dialogs = new Dialogs({ dialog: $("#cull-dialog"), fallback: gridElement });
const trash = new Trash({
  api, root, projectName, say, dialog: $("#cull-trash"),
  projects: () => (filters.projects.length ? filters.projects : boot.projects.map((p) => String(p.id))),
  // A viewer or culler may look at the trash but not restore (SPEC §14).
  canRestore: !boot.capabilities || boot.capabilities.restore !== false,
  onStarted: () => tray.refresh(),
});
// The picker and the Move dialog follow every change of the projects, this tab's or not.
const projects = new Projects({ list: boot.projects, api, dialogs, say, chosen: () => filters.projects, onChange: () => filters.projectsChanged(boot.projects) });
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

// --- the filter in the URL, the projects, the count ---

const filters = new FilterBar({
  form: $("#cull-filters"), clear: $("#cull-f-clear"), projectName,
  onChange: (filter) => (loadFirstPage(root, store, filterToApi(filter), { metrics, started, say }), pending.render()),
});
bindProjectMenu(root, projects, (made) => filters.set({ ...filters.filter, projects: [String(made.id)] }, { fill: true }));
const empty = () => showEmpty($("#cull-empty"), store, uploader, oneProject());
showCount(store, $("#cull-count"), empty);
store.subscribe((kind) => kind === "cursor" && grid.reveal(store.cursor));
const stacks = $("#cull-stacks");
stacks.addEventListener("change", () => store.setStacking(stacks.checked));

// --- buttons and keys (what the role may not do is hidden; its keys answer with a message) ---

const help = $("#cull-help");
const showHelp = () => showModal(help, { fallback: gridElement });
$("#cull-help-open").addEventListener("click", showHelp);
bindButtons(root, actions, { loupe: () => store.photos.length && loupe.toggle(true) });

const role = { capabilities: boot.capabilities, role: boot.role, say };
applyCapabilities(root, boot.capabilities);
const keyActions = guardAll(role, "cull", actions);
const views = viewKeys(store, loupe);
document.addEventListener("keydown", (event) =>
  handleKey(event, {
    store, grid, loupe, ...views,
    selectAll: actions.selectAll,
    actions: keyActions,
    askTags: guard(role, "cull", actions.askTags),
    labelKeys: boot.label_keys,
    help: () => (help.open ? help.close() : showHelp()),
    dialogsOpen: () => dialogs.open || help.open,
  }),
);

const uploader = new Uploader({
  api, say, grid: gridElement, overlay: $("#cull-drop"), panel: $("#cull-upload"),
  inputs: [$("#cull-upload-input"), $("#cull-upload-folder")],
  project: oneProject,
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
