// The culling workspace (SPEC §17): wires the store, the grid, the loupe, the keys, the
// actions bar, uploads and live updates. Every change goes through the REST API.

import { Api, ApiError } from "./api.js";
import { applyCapabilities, guard, guardAll, may } from "./capabilities.js";
import { showModal } from "./focus.js";
import { filterFromForm, filterFromUrl, filterToApi, filterToForm, filterToUrl } from "./filters.js";
import { Grid, trashedNames } from "./grid.js";
import { Loupe } from "./loupe.js";
import { Store, revertItems } from "./store.js";
import { Live, Tray } from "./tray.js";
import { Trash } from "./trash.js";
import { Uploader } from "./upload.js";
import { handleKey } from "./keys.js";

const boot = JSON.parse(document.getElementById("cull-bootstrap").textContent);
const root = document.getElementById("cull");
const $ = (selector) => root.querySelector(selector);

const api = new Api({ csrf: root.dataset.csrf, maxItems: boot.max_items, pageSize: boot.page_size, paths: boot.api });
const store = new Store(api);
const projectNames = new Map(boot.projects.map((p) => [String(p.id), p.name]));

// Measurements the browser tests report (never asserted on time).
const metrics = (window.cullMetrics = { firstPaintMs: null, keepStoredMs: [], keepShownMs: [] });
const started = performance.now();

const version = (photo) => encodeURIComponent(photo.updated_at || "");
const thumbUrl = (photo) => `${boot.api.photos}${photo.id}/thumbnail?v=${version(photo)}`;
const previewUrl = (photo) => `${boot.api.photos}${photo.id}/preview?v=${version(photo)}`;

const messages = $("#cull-messages");
function say(text, level = "info") {
  const line = document.createElement("div");
  line.className = `cull-message cull-message-${level}`;
  line.textContent = text;
  messages.prepend(line);
  while (messages.childElementCount > 6) messages.lastElementChild.remove();
  setTimeout(() => line.remove(), level === "error" ? 15000 : 6000);
}

const gridElement = $("#cull-grid");
const grid = new Grid({
  root: $("#cull-grid"),
  sizer: $("#cull-sizer"),
  store,
  thumbUrl,
  onOpen: (index) => {
    store.moveTo(index);
    loupe.toggle(true);
  },
});
$("#cull-grid").addEventListener("cull-error", (event) => say(event.detail.message, "error"));

const loupe = new Loupe({
  root: $("#cull-loupe"),
  store,
  adminUrl: (photo) => boot.admin.photo_change.replace("{id}", String(photo.id)),
  projectName: (photo) => projectNames.get(String(photo.project)) || `#${photo.project}`,
  previewUrl,
  thumbUrl,
  onNavigate: (step) => move(step),
  onClose: () => closeLoupe(),
  fallback: gridElement,
  keep: [messages],
});

// --- filters in the URL ---

const form = $("#cull-filters");
let filter = filterFromUrl(location.search);

function projectSummary() {
  const names = filter.projects.map((id) => projectNames.get(id) || `#${id}`);
  $("#cull-f-projects-summary").textContent = names.length ? names.join(", ") : "All projects";
}

function applyFilter({ push = true } = {}) {
  if (push) history.pushState(null, "", location.pathname + filterToUrl(filter));
  projectSummary();
  store.reset(filterToApi(filter));
  const t0 = performance.now();
  store.loadMore().then(() => {
    requestAnimationFrame(() => {
      if (metrics.firstPaintMs === null) metrics.firstPaintMs = performance.now() - started;
      metrics.lastLoadMs = performance.now() - t0;
      root.dataset.ready = "true";
    });
  }, (error) => say(error.message, "error"));
  refreshPending();
}

form.addEventListener("change", () => {
  filter = filterFromForm(form);
  applyFilter();
});
form.addEventListener("submit", (event) => event.preventDefault());
$("#cull-f-clear").addEventListener("click", () => {
  filter = { projects: [] };
  filterToForm(filter, form);
  applyFilter();
});
window.addEventListener("popstate", () => {
  filter = filterFromUrl(location.search);
  filterToForm(filter, form);
  applyFilter({ push: false });
});

// --- counts and the pending summary ---

function showCount() {
  const loaded = store.photos.length;
  const more = store.complete ? "" : "+";
  const selected = store.selection.size;
  $("#cull-count").textContent = `${loaded}${more} photo${loaded === 1 ? "" : "s"}${selected ? ` · ${selected} selected` : ""}`;
  $("#cull-empty").hidden = !(store.complete && loaded === 0);
}
store.subscribe((kind) => {
  if (kind === "loaded" || kind === "selection" || kind === "reset") showCount();
  if (kind === "cursor") grid.reveal(store.cursor);
});

let pendingTimer = 0;
function refreshPending() {
  clearTimeout(pendingTimer);
  pendingTimer = setTimeout(async () => {
    try {
      const totals = await api.pendingDeletes();
      const shown = filter.projects.length ? totals.by_project.filter((p) => filter.projects.includes(String(p.project_id))) : totals.by_project;
      const jpg = shown.reduce((n, p) => n + p.jpg, 0);
      const raw = shown.reduce((n, p) => n + p.raw, 0);
      const el = $("#cull-pending");
      el.textContent = jpg || raw ? `To trash: ${jpg} JPG, ${raw} RAW` : "Nothing to trash";
      el.title = shown.map((p) => `${p.name}: ${p.jpg} JPG, ${p.raw} RAW`).join("\n");
    } catch (error) {
      // The summary refreshes on the next change.
    }
  }, 150);
}

// --- changes: optimistic, rolled back per refused item, undoable ---

const undoStack = [];

function pendingDelete(photo) {
  return (photo.jpg_available && !photo.keep_jpg) || (photo.raw_available && !photo.keep_raw);
}

function patch(photo, values) {
  Object.assign(photo, values);
  photo.pending_delete = pendingDelete(photo);
}

function refusedMessage(errors) {
  const first = errors.slice(0, 3).map((e) => `${store.get(e.photo_id)?.basename || e.photo_id}: ${e.error}`);
  return `${errors.length} change${errors.length === 1 ? "" : "s"} refused and rolled back. ${first.join("; ")}`;
}

// ``items``: [{photo_id, ...fields}] as the endpoint takes them; ``local(photo, item)`` applies
// one item to the photo shown; ``inverse`` builds the undo of the applied items.
async function change({ path, items, local, inverse, undoable = true, keep = false }) {
  if (!items.length) return;
  const t0 = performance.now();
  const before = new Map();
  for (const item of items) {
    const photo = store.get(item.photo_id);
    if (!photo) continue;
    // Keep only the fields this change touches: a rollback must not undo another change
    // that is still on its way.
    const fields = [...Object.keys(item).filter((k) => k !== "photo_id"), "pending_delete"];
    before.set(photo.id, Object.fromEntries(fields.map((f) => [f, structuredClone(photo[f])])));
    local(photo, item);
    photo._pending = (photo._pending || 0) + 1; // Changes in flight for this photo.
  }
  store.emit("photos", [...before.keys()]);
  requestAnimationFrame(() => {
    if (keep) metrics.keepShownMs.push(performance.now() - t0);
  });
  const result = await api.bulk(path, items);
  if (keep) metrics.keepStoredMs.push(performance.now() - t0);
  const refused = new Set(result.errors.map((e) => e.photo_id));
  for (const [id, old] of before) {
    const photo = store.get(id);
    if (!photo) continue;
    if (refused.has(id)) Object.assign(photo, old);
    photo._pending -= 1;
    if (!(photo._pending > 0)) delete photo._pending;
  }
  store.emit("photos", [...before.keys()]);
  if (result.errors.length) say(refusedMessage(result.errors), "error");
  const applied = items.filter((item) => !refused.has(item.photo_id) && before.has(item.photo_id));
  if (undoable && applied.length && inverse) undoStack.push(inverse(applied, before));
  if (undoStack.length > 100) undoStack.shift();
  refreshPending();
  return result;
}

function fieldsChange(path, values, { keep = false } = {}) {
  const items = values.filter(Boolean);
  const names = Object.keys(Object.assign({}, ...items)).filter((k) => k !== "photo_id");
  return change({
    path,
    items,
    keep,
    local: (photo, item) => patch(photo, item),
    inverse: (applied, before) => ({
      path,
      items: applied.map((item) => {
        const old = before.get(item.photo_id);
        return Object.fromEntries([["photo_id", item.photo_id], ...names.filter((n) => n in item).map((n) => [n, old[n]])]);
      }),
    }),
  });
}

const actions = {
  toggleKeep(kind) {
    const flag = `keep_${kind}`;
    const targets = store.targets().filter((p) => p[`${kind}_available`]);
    if (!targets.length) return say(`No ${kind.toUpperCase()} file to keep or discard here.`);
    const current = store.photos[store.cursor];
    const reference = targets.includes(current) ? current : targets[0];
    const value = !reference[flag];
    return fieldsChange("keep", targets.filter((p) => p[flag] !== value).map((p) => ({ photo_id: p.id, [flag]: value })), { keep: true });
  },
  keepBoth(value) {
    const items = store.targets().map((p) => {
      const item = { photo_id: p.id };
      if (p.jpg_available && p.keep_jpg !== value) item.keep_jpg = value;
      if (p.raw_available && p.keep_raw !== value) item.keep_raw = value;
      return Object.keys(item).length > 1 ? item : null;
    });
    return fieldsChange("keep", items, { keep: true });
  },
  rate(rating) {
    return fieldsChange("rating", store.targets().filter((p) => p.rating !== rating).map((p) => ({ photo_id: p.id, rating })));
  },
  // The label keys (6–9) toggle: the same key again removes the label.
  label(label) {
    const targets = store.targets();
    const value = targets.length && targets.every((p) => p.label === label) ? "none" : label;
    return actions.setLabel(value);
  },
  setLabel(value) {
    return fieldsChange("rating", store.targets().filter((p) => p.label !== value).map((p) => ({ photo_id: p.id, label: value })));
  },
  // L / Shift+L: the next / previous label after the one of the photo under the cursor, through
  // none, so every label (purple too, which has no number key) is one key away from none.
  cycleLabel(step) {
    const targets = store.targets();
    if (!targets.length) return;
    const order = ["none", ...boot.labels];
    const current = store.photos[store.cursor];
    const reference = targets.includes(current) ? current : targets[0];
    const at = Math.max(0, order.indexOf(reference.label || "none"));
    return actions.setLabel(order[(at + step + order.length) % order.length]);
  },
  tags(add, names) {
    const path = add ? "tags/add" : "tags/remove";
    const targets = store.targets();
    const items = targets
      .map((p) => ({ photo_id: p.id, tags: names.filter((n) => p.tags.includes(n) !== add) }))
      .filter((item) => item.tags.length);
    if (!items.length) return say(add ? "Every photo already has these tags." : "No photo has these tags.");
    return change({
      path,
      items,
      local: (photo, item) => {
        photo.tags = add ? [...new Set([...photo.tags, ...item.tags])].sort() : photo.tags.filter((t) => !item.tags.includes(t));
      },
      inverse: (applied) => ({ path: add ? "tags/remove" : "tags/add", items: applied, tags: true }),
    });
  },
  async undo() {
    const last = undoStack.pop();
    if (!last) return say("Nothing to undo.");
    if (last.tags) {
      const add = last.path === "tags/add";
      await change({
        path: last.path,
        items: last.items,
        undoable: false,
        local: (photo, item) => {
          photo.tags = add ? [...new Set([...photo.tags, ...item.tags])].sort() : photo.tags.filter((t) => !item.tags.includes(t));
        },
      });
    } else {
      await change({ path: last.path, items: last.items, undoable: false, local: (photo, item) => patch(photo, item) });
    }
    say("Undone.");
  },
};

// --- navigation and the loupe ---

function move(step, options = {}) {
  const target = store.cursor + step;
  if (target >= store.photos.length && !store.complete) {
    store.loadMore().then(() => store.moveTo(Math.min(target, store.photos.length - 1), options));
    return;
  }
  store.moveTo(target, options);
}

// The focus goes back where the loupe was opened from (focus.js): the grid, or a button.
function closeLoupe() {
  loupe.toggle(false);
}

async function selectAll() {
  say("Selecting every photo that matches the filter…");
  try {
    await store.loadAll();
  } catch (error) {
    return say(error.message, "error");
  }
  store.selectAll();
  say(`${store.selection.size} photos selected.`);
}

// --- dialogs ---

const dialog = $("#cull-dialog");
function ask(title, body, okText = "OK") {
  $("#cull-dialog-title").textContent = title;
  const holder = $("#cull-dialog-body");
  holder.replaceChildren(...[].concat(body));
  $("#cull-dialog-ok").textContent = okText;
  dialog.returnValue = "";
  showModal(dialog, { fallback: gridElement });
  const first = holder.querySelector("input, select");
  (first || $("#cull-dialog-ok")).focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

function element(tag, attrs = {}, text = "") {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text) el.textContent = text;
  return el;
}

async function askTags(add) {
  const input = element("input", { type: "text", id: "cull-tags-input", "aria-label": "Tags, comma-separated", size: "30", autocomplete: "off" });
  const label = element("label", { for: "cull-tags-input" }, "Tags, comma-separated: ");
  const count = store.targets().length;
  const ok = await ask(`${add ? "Add tags to" : "Remove tags from"} ${count} photo${count === 1 ? "" : "s"}`, [label, input], add ? "Add" : "Remove");
  const names = input.value.split(",").map((t) => t.trim()).filter(Boolean);
  if (ok && names.length) await actions.tags(add, names);
}

function selectionProjects() {
  return [...new Set(store.targets().map((p) => String(p.project)))];
}

function list(items) {
  const ul = element("ul", { class: "cull-list" });
  for (const text of items) ul.appendChild(element("li", {}, text));
  return ul;
}

async function commit() {
  const projects = store.selection.size ? selectionProjects() : filter.projects;
  let totals;
  try {
    totals = await api.pendingDeletes();
  } catch (error) {
    return say(error.message, "error");
  }
  const shown = totals.by_project.filter((p) => !projects.length || projects.includes(String(p.project_id)));
  if (!shown.length) return say("Nothing to commit in these projects.");
  const lines = shown.map((p) => `${p.name}: ${p.jpg} JPG and ${p.raw} RAW to the trash`);
  let files;
  try {
    files = await trashPreview(projects, shown.reduce((n, p) => n + p.jpg + p.raw, 0));
  } catch (error) {
    return say(error.message, "error");
  }
  const ok = await ask("Commit pending deletes?", [element("p", {}, "Discarded files move to the project's .trash/ folder and are purged later."), list(lines), ...files], "Commit");
  if (!ok) return;
  try {
    const { data } = await api.post(`${boot.api.photos}commit-changes`, { projects: shown.map((p) => p.project_id) });
    trash.commitStarted(data.task_id);
    say(data.task_id ? `Commit started for ${data.total_pending} photo(s) in ${data.queued_projects} project(s).` : data.detail || "Nothing to commit.");
    if (data.missing && data.missing.length) say(`Not found: ${data.missing.join(", ")}`, "error");
    tray.refresh();
  } catch (error) {
    say(error.message, "error");
  }
}

// The files a commit trashes, listed by name with the photo's thumbnail: the first
// ``LIST_ROWS`` pending photos of ``projects`` (every project when empty), then "and N more".
const LIST_ROWS = 50;

async function trashPreview(projects, totalFiles) {
  const query = { pending: "true" };
  if (projects.length) query.projects = projects.join(",");
  const photos = await api.photosList(query, { limit: LIST_ROWS });
  const ul = element("ul", { class: "cull-list cull-files", "aria-label": "Files that go to the trash" });
  let listed = 0;
  for (const photo of photos) {
    const names = trashedNames(photo);
    listed += names.length;
    const li = element("li", { "data-photo-id": String(photo.id) });
    const thumb = element("span", { class: "cull-file-thumb" });
    if (photo.thumbnail_status === "generated") thumb.appendChild(element("img", { src: thumbUrl(photo), alt: "", loading: "lazy" }));
    li.append(thumb, element("span", { class: "cull-file-names" }, names.join(", ")));
    ul.appendChild(li);
  }
  const parts = [element("p", {}, "These files go to the trash:"), ul];
  const more = totalFiles - listed;
  if (more > 0) parts.push(element("p", { class: "cull-files-more" }, `and ${more} more file${more === 1 ? "" : "s"}`));
  return parts;
}

// A list of photo names, at most ``LIST_ROWS`` of them, then "and N more".
function namesList(photos) {
  const names = photos.slice(0, LIST_ROWS).map((p) => p.basename);
  if (photos.length > LIST_ROWS) names.push(`and ${photos.length - LIST_ROWS} more`);
  return list(names);
}

// Revert: the selection's keep flags when there is a selection (through the keep endpoint, its
// dry run counting what changes, undone by Z like any keep change), else every photo of the
// shown projects (the API's revert), undone by Z too: the flags of the photos it changes are
// read first and written back by the keep endpoint.
async function revert() {
  return store.selection.size ? revertSelection() : revertProjects();
}

async function revertSelection() {
  const targets = store.targets();
  let items = revertItems(targets);
  if (items.length) {
    const dry = await api.bulk("keep", items, { dry_run: true });
    if (dry.failed) return say(dry.failed.message, "error");
    const changing = new Set(dry.per_item.filter((i) => Object.keys(i.would_update || {}).length).map((i) => i.photo_id));
    items = items.filter((item) => changing.has(item.photo_id));
  }
  const selected = `${targets.length} selected photo${targets.length === 1 ? "" : "s"}`;
  if (!items.length) {
    await ask("Revert changes?", element("p", {}, `Nothing to revert: the keep flags of the ${selected} match their files.`));
    return;
  }
  const n = `${items.length} photo${items.length === 1 ? "" : "s"}`;
  const body = [element("p", { class: "cull-revert-count" }, `${n} of the ${selected} change: their keep flags go back to the files present. Undo with Z.`), namesList(items.map((i) => store.get(i.photo_id)).filter(Boolean))];
  if (!(await ask("Revert changes?", body, "Revert"))) return;
  const result = await fieldsChange("keep", items);
  say(`Reverted ${items.length - result.errors.length} photo(s).`);
}

async function revertProjects() {
  const projects = filter.projects;
  const names = projects.length ? projects.map((id) => projectNames.get(id) || `#${id}`).join(", ") : "every project";
  let photos;
  try {
    photos = await api.photosList(projects.length ? { projects: projects.join(","), keep_mismatch: "true" } : { keep_mismatch: "true" });
  } catch (error) {
    return say(error.message, "error");
  }
  if (!photos.length) {
    await ask("Revert changes?", element("p", {}, `Nothing to revert: the keep flags of ${names} match their files.`));
    return;
  }
  const n = `${photos.length} photo${photos.length === 1 ? "" : "s"}`;
  const body = [element("p", { class: "cull-revert-count" }, `${n} of ${names} change: their keep flags go back to the files present. Undo with Z.`), namesList(photos)];
  if (!(await ask("Revert changes?", body, "Revert"))) return;
  try {
    const { data } = await api.post(`${boot.api.photos}revert-changes`, projects.length ? { projects: projects.map(Number) } : {});
    say(`Reverted ${data.projects.reduce((count, p) => count + (p.updated || 0), 0)} photo(s).`);
  } catch (error) {
    return say(error.message, "error");
  }
  // The flags read before: a photo changed between the count and the revert is reverted
  // too but not restored by the undo.
  undoStack.push({ path: "keep", items: photos.map((p) => ({ photo_id: p.id, keep_jpg: p.keep_jpg, keep_raw: p.keep_raw })) });
  applyFilter({ push: false });
}

async function moveSelection() {
  const targets = store.targets();
  if (!targets.length) return say("Select photos to move first.");
  const select = element("select", { id: "cull-move-dest", "aria-label": "Destination project" });
  for (const project of boot.projects) select.appendChild(element("option", { value: String(project.id) }, project.name));
  const label = element("label", { for: "cull-move-dest" }, "Move to: ");
  if (!(await ask(`Move ${targets.length} photo${targets.length === 1 ? "" : "s"}`, [label, select], "Check…"))) return;
  const dest = Number(select.value);
  const items = targets.map((p) => ({ photo_id: p.id }));
  const dry = await api.bulk("move", items, { dest_project: dest, dry_run: true });
  if (dry.failed && !dry.per_item.length) return say(dry.failed.message, "error");
  const clashes = dry.per_item.filter((i) => i.error);
  const movable = dry.per_item.filter((i) => i.would_move).map((i) => ({ photo_id: i.photo_id }));
  const lines = clashes.map((i) => `${store.get(i.photo_id)?.basename || i.photo_id}: ${i.error}`);
  const body = [element("p", {}, `${movable.length} photo(s) will move to ${projectNames.get(String(dest))}.`)];
  if (lines.length) body.push(element("p", {}, `${lines.length} will not:`), list(lines));
  if (!movable.length) {
    await ask("Nothing can move", body, "Close");
    return;
  }
  if (!(await ask("Confirm the move", body, "Move"))) return;
  const result = await api.bulk("move", movable, { dest_project: dest });
  const started = result.replies.filter((r) => r && r.task_id).length;
  if (started) say(`Move started (${movable.length - result.errors.length} photo(s)).`);
  if (result.errors.length) say(refusedMessage(result.errors), "error");
  tray.refresh();
}

async function reprocess() {
  const targets = store.targets();
  if (!targets.length) return;
  const result = await api.bulk("process", targets.map((p) => ({ photo_id: p.id })), { force: true });
  if (result.replies.length) say(`Re-processing ${targets.length - result.errors.length} photo(s).`);
  if (result.errors.length) say(refusedMessage(result.errors), "error");
  tray.refresh();
}

const help = $("#cull-help");
const showHelp = () => showModal(help, { fallback: gridElement });
$("#cull-help-open").addEventListener("click", showHelp);

const buttons = {
  commit,
  revert,
  move: moveSelection,
  process: reprocess,
  "tag-add": () => askTags(true),
  "tag-remove": () => askTags(false),
  // Touch and pointer equivalents of the keys, for tablets.
  loupe: () => store.photos.length && loupe.toggle(true),
  "keep-jpg": () => actions.toggleKeep("jpg"),
  "keep-raw": () => actions.toggleKeep("raw"),
  "keep-both": () => actions.keepBoth(true),
  discard: () => actions.keepBoth(false),
  undo: () => actions.undo(),
};
$("#cull-rate").addEventListener("change", (event) => {
  const value = event.target.value;
  event.target.value = "";
  if (value !== "") actions.rate(Number(value));
});
$("#cull-label").addEventListener("change", (event) => {
  const value = event.target.value;
  event.target.value = "";
  if (value !== "") actions.setLabel(value);
});
for (const button of root.querySelectorAll("[data-action]")) {
  button.addEventListener("click", () => buttons[button.dataset.action]());
}

// --- keys ---

// What the role may not do is hidden, and its keys answer with a message (capabilities.js).
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
    closeLoupe,
    askTags: guard(role, "cull", askTags),
    labelKeys: boot.label_keys,
    help: () => (help.open ? help.close() : showHelp()),
    dialogsOpen: () => dialog.open || help.open,
  }),
);

// --- live: tasks, tiles, pending summary ---

const live = new Live({ url: boot.api.events, lastEventId: boot.last_event_id, pollMs: boot.poll_ms, indicator: $("#cull-live") });
const tray = new Tray({ list: $("#cull-tasks"), empty: $("#cull-tasks-empty"), api, live });

const trash = new Trash({
  api,
  root,
  dialog: $("#cull-trash"),
  projects: () => (filter.projects.length ? filter.projects : boot.projects.map((p) => String(p.id))),
  projectName: (id) => projectNames.get(String(id)) || `#${id}`,
  // A viewer or culler may look at the trash but not restore (SPEC §14).
  canRestore: !boot.capabilities || boot.capabilities.restore !== false,
  say,
  onStarted: () => tray.refresh(),
});
live.on((event) => trash.onEvent(event));
live.onPoll(() => trash.poll());

const stale = new Set();
let staleTimer = 0;
function inView(projectId) {
  return !filter.projects.length || filter.projects.includes(String(projectId));
}
live.on((event) => {
  const payload = event.payload || {};
  if (event.type === "pending_changes" || event.type === "job_completed") refreshPending();
  if (event.type === "item_removed") store.remove([event.photo_id || payload.photo_id]);
  if (event.type === "item_moved" && !inView(payload.to_project_id)) store.remove([payload.photo_id]);
  if (event.type !== "item" && event.type !== "item_moved") return;
  // Our own bulk changes are shown already; other users' and the workers' are fetched.
  if (event.actor_id === boot.user_id && !event.job_id) return;
  const id = event.photo_id || payload.photo_id;
  if (!id || !(store.get(id) || inView(event.project_id))) return;
  stale.add(id);
  clearTimeout(staleTimer);
  staleTimer = setTimeout(fetchStale, 250);
});
live.onPoll(() => {
  refreshPending();
  // Without the stream, thumbnails being made are noticed by asking for those photos again.
  const waiting = store.photos.filter((p) => p.thumbnail_status === "pending");
  for (const photo of waiting.slice(0, 50)) stale.add(photo.id);
  if (stale.size) fetchStale();
});

async function fetchStale() {
  const ids = [...stale];
  stale.clear();
  const queue = ids.slice(0, 200);
  const worker = async () => {
    while (queue.length) {
      const id = queue.shift();
      try {
        store.upsert(await api.photo(id));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) store.remove([id]);
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

// --- upload ---

const uploader = new Uploader({
  api,
  grid: $("#cull-grid"),
  overlay: $("#cull-drop"),
  panel: $("#cull-upload"),
  inputs: [$("#cull-upload-input"), $("#cull-upload-folder")],
  project: () => (filter.projects.length === 1 ? filter.projects[0] : null),
  say,
  onBatch: () => tray.refresh(),
});
if (may(boot.capabilities, "upload")) uploader.start();

// --- start ---

filterToForm(filter, form);
applyFilter({ push: false });
live.start();
tray.start();
$("#cull-grid").focus({ preventScroll: true });
window.cull = { store, actions, live, tray, metrics };

// Fill the window below the admin's header whatever its height (it wraps on a tablet).
function fit() {
  root.style.height = `${Math.max(420, window.innerHeight - root.getBoundingClientRect().top - 8)}px`;
}
window.addEventListener("resize", fit);
fit();
