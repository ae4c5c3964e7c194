// What the workspace's keys and buttons do: field changes (keep, rating, label, tags) through
// the store (optimistic, rolled back per refused item, undoable), and the confirmed actions
// (commit, revert, move, re-process) with their dry runs shown in a dialog (dialogs.js).
// Every change goes through the REST API (api.js); nothing here knows a URL.

import { LIST_ROWS, askApplyPicks, askShare, element, linkBody, list, namesList, trashPreview } from "./dialogs.js";
import { addTags, removeTags, revertItems, setFields } from "./store.js";

const TAG_LOCAL = { "tags/add": addTags, "tags/remove": removeTags };

// ``ctx``: {store, api, dialogs, say, labels, projects: () => the filter's project ids,
// projectName(id), allProjects, thumbUrl, metrics, onStarted (a task started: the tray),
// onReverted (the shown photos changed on the server: reload), picks (picks.js),
// currentShare: () => the link id the filter shows the picks of, or ""}.
export function createActions(ctx) {
  const { store, api, dialogs, say } = ctx;

  function refusedMessage(errors) {
    const first = errors.slice(0, 3).map((e) => `${store.get(e.photo_id)?.basename || e.photo_id}: ${e.error}`);
    return `${errors.length} change${errors.length === 1 ? "" : "s"} refused and rolled back. ${first.join("; ")}`;
  }

  // ``items``: [{photo_id, ...fields}] as the endpoint at ``path`` takes them; ``inverse``
  // builds the undo of the applied items.
  async function change({ path, items, inverse, undoable = true, keep = false }) {
    if (!items.length) return undefined;
    const t0 = performance.now();
    const pending = store.apply(items, TAG_LOCAL[path] || setFields);
    requestAnimationFrame(() => {
      if (keep && ctx.metrics) ctx.metrics.keepShownMs.push(performance.now() - t0);
    });
    const result = await api.bulk(path, items);
    if (keep && ctx.metrics) ctx.metrics.keepStoredMs.push(performance.now() - t0);
    const applied = store.settle(pending, new Set(result.errors.map((e) => e.photo_id)));
    if (result.errors.length) say(refusedMessage(result.errors), "error");
    if (undoable && applied.length && inverse) store.pushUndo(inverse(applied, pending.before));
    return result;
  }

  function fieldsChange(path, values, { keep = false } = {}) {
    const items = values.filter(Boolean);
    const names = Object.keys(Object.assign({}, ...items)).filter((k) => k !== "photo_id");
    return change({
      path,
      items,
      keep,
      inverse: (applied, before) => ({
        path,
        items: applied.map((item) => {
          const old = before.get(item.photo_id);
          return Object.fromEntries([["photo_id", item.photo_id], ...names.filter((n) => n in item).map((n) => [n, old[n]])]);
        }),
      }),
    });
  }

  // The photo a toggle reads its new value from: the cursor's when it is a target.
  function reference(targets) {
    const current = store.photos[store.cursor];
    return targets.includes(current) ? current : targets[0];
  }

  const actions = {
    toggleKeep(kind) {
      const flag = `keep_${kind}`;
      const targets = store.targets().filter((p) => p[`${kind}_available`]);
      if (!targets.length) return say(`No ${kind.toUpperCase()} file to keep or discard here.`);
      const value = !reference(targets)[flag];
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
    // U (Lightroom's unflag): the keep flags back to the files on disk, undoable.
    unflag() {
      const items = revertItems(store.targets());
      if (!items.length) return say("The keep flags already match the files on disk.");
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
      if (!targets.length) return undefined;
      const order = ["none", ...ctx.labels];
      const at = Math.max(0, order.indexOf(reference(targets).label || "none"));
      return actions.setLabel(order[(at + step + order.length) % order.length]);
    },
    tags(add, names) {
      const path = add ? "tags/add" : "tags/remove";
      const items = store
        .targets()
        .map((p) => ({ photo_id: p.id, tags: names.filter((n) => p.tags.includes(n) !== add) }))
        .filter((item) => item.tags.length);
      if (!items.length) return say(add ? "Every photo already has these tags." : "No photo has these tags.");
      return change({ path, items, inverse: (applied) => ({ path: add ? "tags/remove" : "tags/add", items: applied }) });
    },
    async undo() {
      const last = store.popUndo();
      if (!last) return say("Nothing to undo.");
      await change({ path: last.path, items: last.items, undoable: false });
      return say("Undone.");
    },
    // Ctrl/Cmd+A: every photo matching the filter (every page loaded first).
    async selectAll() {
      say("Selecting every photo that matches the filter…");
      try {
        await store.loadAll();
      } catch (error) {
        return say(error.message, "error");
      }
      store.selectAll();
      return say(`${store.selection.size} photos selected.`);
    },
    async askTags(add) {
      const names = await dialogs.askTags(add, store.targets().length);
      if (names) await actions.tags(add, names);
    },
    // Make the selection public or private: the master switch of every share link.
    visibility(value) {
      const items = store.targets().filter((p) => p.visibility !== value).map((p) => ({ photo_id: p.id, visibility: value }));
      if (!items.length) return say(store.targets().length ? `Already ${value}.` : "Select photos first.");
      return fieldsChange("visibility", items);
    },
    share,
    applyPicks,
    commit,
    keepSharpest,
    revert: () => (store.selection.size ? revertSelection() : revertProjects()),
    move: moveSelection,
    process: reprocess,
    export: exportSelection,
  };

  function selectionProjects() {
    return [...new Set(store.targets().map((p) => String(p.project)))];
  }

  async function commit() {
    const projects = store.selection.size ? selectionProjects() : ctx.projects();
    let totals;
    let files;
    try {
      totals = await api.pendingDeletes();
    } catch (error) {
      return say(error.message, "error");
    }
    const shown = totals.by_project.filter((p) => !projects.length || projects.includes(String(p.project_id)));
    if (!shown.length) return say("Nothing to commit in these projects.");
    const lines = shown.map((p) => `${p.name}: ${p.jpg} JPG and ${p.raw} RAW to the trash`);
    try {
      const query = { pending: "true" };
      if (projects.length) query.projects = projects.join(",");
      const photos = await api.photosList(query, { limit: LIST_ROWS });
      files = trashPreview(photos, shown.reduce((n, p) => n + p.jpg + p.raw, 0), ctx.thumbUrl);
    } catch (error) {
      return say(error.message, "error");
    }
    const body = [element("p", {}, "Discarded files move to the project's .trash/ folder and are purged later."), list(lines), ...files];
    if (!(await dialogs.ask("Commit pending deletes?", body, "Commit"))) return undefined;
    try {
      const data = await api.commitChanges(shown.map((p) => p.project_id));
      ctx.onCommitStarted(data.task_id);
      say(data.task_id ? `Commit started for ${data.total_pending} photo(s) in ${data.queued_projects} project(s).` : data.detail || "Nothing to commit.");
      if (data.missing && data.missing.length) say(`Not found: ${data.missing.join(", ")}`, "error");
      ctx.onStarted();
    } catch (error) {
      say(error.message, "error");
    }
    return undefined;
  }

  // Revert: the selection's keep flags when there is a selection (through the keep endpoint,
  // its dry run counting what changes, undone by Z like any keep change), else every photo of
  // the shown projects (the API's revert), undone by Z too: the flags of the photos it changes
  // are read first and written back by the keep endpoint.
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
      await dialogs.ask("Revert changes?", element("p", {}, `Nothing to revert: the keep flags of the ${selected} match their files.`));
      return undefined;
    }
    const n = `${items.length} photo${items.length === 1 ? "" : "s"}`;
    const body = [element("p", { class: "cull-revert-count" }, `${n} of the ${selected} change: their keep flags go back to the files present. Undo with Ctrl/⌘ + Z.`), namesList(items.map((i) => store.get(i.photo_id)).filter(Boolean))];
    if (!(await dialogs.ask("Revert changes?", body, "Revert"))) return undefined;
    const result = await fieldsChange("keep", items);
    return say(`Reverted ${items.length - result.errors.length} photo(s).`);
  }

  async function revertProjects() {
    const projects = ctx.projects();
    const names = projects.length ? projects.map((id) => ctx.projectName(id)).join(", ") : "every project";
    let photos;
    try {
      photos = await api.photosList(projects.length ? { projects: projects.join(","), keep_mismatch: "true" } : { keep_mismatch: "true" });
    } catch (error) {
      return say(error.message, "error");
    }
    if (!photos.length) {
      await dialogs.ask("Revert changes?", element("p", {}, `Nothing to revert: the keep flags of ${names} match their files.`));
      return undefined;
    }
    const n = `${photos.length} photo${photos.length === 1 ? "" : "s"}`;
    const body = [element("p", { class: "cull-revert-count" }, `${n} of ${names} change: their keep flags go back to the files present. Undo with Ctrl/⌘ + Z.`), namesList(photos)];
    if (!(await dialogs.ask("Revert changes?", body, "Revert"))) return undefined;
    try {
      const data = await api.revertChanges(projects.map(Number));
      say(`Reverted ${data.projects.reduce((count, p) => count + (p.updated || 0), 0)} photo(s).`);
    } catch (error) {
      return say(error.message, "error");
    }
    // The flags read before: a photo changed between the count and the revert is reverted
    // too but not restored by the undo.
    store.pushUndo({ path: "keep", items: photos.map((p) => ({ photo_id: p.id, keep_jpg: p.keep_jpg, keep_raw: p.keep_raw })) });
    ctx.onReverted();
    return undefined;
  }

  // Keep the sharpest frame of each burst of the selection (else of the shown projects) and
  // discard the others: the API's dry run first, its counts in the confirmation.
  async function keepSharpest() {
    const body = store.selection.size
      ? { items: [...store.selection].map((id) => ({ photo_id: id })) }
      : { projects: ctx.projects().map(Number) };
    if (!body.items && !body.projects.length) body.projects = ctx.allProjects.map((p) => p.id);
    let dry;
    try {
      dry = await api.keepSharpest(body, true);
    } catch (error) {
      return say(error.message, "error");
    }
    const bursts = Object.keys(dry.kept || {}).length;
    const changes = ((dry.dry_run && dry.dry_run.per_item) || []).filter((i) => Object.keys(i.would_update || {}).length);
    const lines = [
      `${bursts} burst${bursts === 1 ? "" : "s"}: the sharpest frame of each is kept, the other frames are discarded.`,
      `${changes.length} photo${changes.length === 1 ? "" : "s"} change.`,
    ];
    if ((dry.undecided || []).length) lines.push(`${dry.undecided.length} burst(s) left alone: a frame has no sharpness yet (re-process it).`);
    const text = [element("p", { class: "cull-sharpest-count" }, lines.join(" ")), namesList(changes.map((i) => store.get(i.photo_id) || { basename: `#${i.photo_id}` }))];
    if (!bursts || !changes.length) {
      await dialogs.ask("Keep the sharpest of each burst", element("p", { class: "cull-sharpest-count" }, bursts ? "Nothing to change: every burst is culled so already." : "No burst here."), "Close");
      return undefined;
    }
    if (!(await dialogs.ask("Keep the sharpest of each burst?", text, "Keep the sharpest"))) return undefined;
    try {
      const done = await api.keepSharpest(body, false);
      say(`Kept the sharpest frame of ${Object.keys(done.kept || {}).length} burst(s); ${done.updated} photo(s) changed.`);
      if ((done.errors || []).length) say(refusedMessage(done.errors), "error");
    } catch (error) {
      return say(error.message, "error");
    }
    ctx.onReverted(); // The flags changed on the server: read the list again.
    return undefined;
  }

  async function moveSelection() {
    const targets = store.targets();
    if (!targets.length) return say("Select photos to move first.");
    const dest = await dialogs.askProject(targets.length, ctx.allProjects);
    if (dest === null) return undefined;
    const items = targets.map((p) => ({ photo_id: p.id }));
    const dry = await api.bulk("move", items, { dest_project: dest, dry_run: true });
    if (dry.failed && !dry.per_item.length) return say(dry.failed.message, "error");
    const clashes = dry.per_item.filter((i) => i.error);
    const movable = dry.per_item.filter((i) => i.would_move).map((i) => ({ photo_id: i.photo_id }));
    const lines = clashes.map((i) => `${store.get(i.photo_id)?.basename || i.photo_id}: ${i.error}`);
    const body = [element("p", {}, `${movable.length} photo(s) will move to ${ctx.projectName(dest)}.`)];
    if (lines.length) body.push(element("p", {}, `${lines.length} will not:`), list(lines));
    if (!movable.length) {
      await dialogs.ask("Nothing can move", body, "Close");
      return undefined;
    }
    if (!(await dialogs.ask("Confirm the move", body, "Move"))) return undefined;
    const result = await api.bulk("move", movable, { dest_project: dest });
    const started = result.replies.filter((r) => r && r.task_id).length;
    if (started) say(`Move started (${movable.length - result.errors.length} photo(s)).`);
    if (result.errors.length) say(refusedMessage(result.errors), "error");
    ctx.onStarted();
    return undefined;
  }

  // "Share…": the link's settings, then its dry run (which private photos become public),
  // then the link, whose URL is shown once.
  async function share() {
    const targets = store.targets();
    if (!targets.length) return say("Select photos to share first.");
    if (targets.length > api.maxItems) return say(`A link is made of at most ${api.maxItems} photos at a time; add more to it later.`, "error");
    const settings = await askShare(dialogs, targets.length);
    if (!settings) return undefined;
    const body = { ...settings, photo_ids: targets.map((p) => p.id) };
    let dry;
    try {
      dry = await api.shareCreate({ ...body, dry_run: true });
    } catch (error) {
      return say(error.message, "error");
    }
    const going = dry.dry_run.would_become_public;
    const lines = [element("p", { class: "cull-share-count" }, `${dry.dry_run.photo_count} photo(s) in “${settings.title}”.`)];
    if (going.length) {
      lines.push(element("p", { class: "cull-share-public" }, `${going.length} private photo(s) become public: a link shows only public photos.`));
      lines.push(namesList(going.map((id) => store.get(id) || { basename: `#${id}` })));
    } else {
      lines.push(element("p", { class: "cull-share-public" }, "Every one of them is public already."));
    }
    if (dry.errors && dry.errors.length) lines.push(element("p", {}, `${dry.errors.length} photo(s) not found are left out.`));
    if (!(await dialogs.ask("Create the share link?", lines, "Create link"))) return undefined;
    let created;
    try {
      created = await api.shareCreate(body);
    } catch (error) {
      return say(error.message, "error");
    }
    for (const id of created.made_public || []) store.applyRemote(id, { visibility: "public" });
    if (ctx.picks) ctx.picks.linkAdded(created);
    await dialogs.ask("Share link created", linkBody(created.url), "Done");
    return created;
  }

  async function applyPicks() {
    const links = ctx.picks ? [...ctx.picks.links.values()].filter((l) => l.title) : [];
    if (!links.length) return say("No share link yet: share a selection first.");
    const wanted = await askApplyPicks(dialogs, links, ctx.currentShare(), ctx.labels);
    if (!wanted) return undefined;
    let dry;
    try {
      dry = await api.applyPicks(wanted.share, { set: wanted.set, dry_run: true });
    } catch (error) {
      return say(error.message, "error");
    }
    const rows = dry.dry_run.per_item;
    const changing = rows.filter((i) => Object.keys(i.would_update || {}).length);
    const describe = (i) => `${store.get(i.photo_id)?.basename || `#${i.photo_id}`}: ${Object.entries(i.would_update).map(([k, v]) => `${k} → ${v}`).join(", ")}`;
    const body = [element("p", { class: "cull-apply-count" }, `${changing.length} of the ${rows.length} picked photo(s) change.`)];
    if (changing.length) body.push(list(changing.slice(0, LIST_ROWS).map(describe)));
    if (!changing.length) {
      await dialogs.ask("Nothing to apply", body, "Close");
      return undefined;
    }
    if (!(await dialogs.ask("Apply the client's picks?", body, "Apply"))) return undefined;
    try {
      const done = await api.applyPicks(wanted.share, { set: wanted.set });
      say(`Picks applied: ${done.updated} photo(s) changed.`);
      if (done.errors && done.errors.length) say(refusedMessage(done.errors), "error");
    } catch (error) {
      return say(error.message, "error");
    }
    ctx.onReverted();
    return undefined;
  }

  // One export task of the selection (a ZIP under EXPORTS_ROOT); the tray shows its progress
  // and then its Download link.
  async function exportSelection() {
    const targets = store.targets();
    if (!targets.length) return say("Select photos to export first.");
    if (targets.length > api.maxItems) return say(`An export takes at most ${api.maxItems} photos.`, "error");
    const body = await dialogs.askExport(targets.length);
    if (body === null) return undefined;
    try {
      const data = await api.exportStart({ ...body, items: targets.map((p) => ({ photo_id: p.id })) });
      say(`Export started (${data.photo_count} photo${data.photo_count === 1 ? "" : "s"}).`);
      if (data.errors && data.errors.length) say(refusedMessage(data.errors), "error");
    } catch (error) {
      return say(error.message, "error");
    }
    ctx.onStarted();
    return undefined;
  }

  async function reprocess() {
    const targets = store.targets();
    if (!targets.length) return;
    const result = await api.bulk("process", targets.map((p) => ({ photo_id: p.id })), { force: true });
    if (result.replies.length) say(`Re-processing ${targets.length - result.errors.length} photo(s).`);
    if (result.errors.length) say(refusedMessage(result.errors), "error");
    ctx.onStarted();
  }

  return actions;
}

// The buttons' actions by their ``data-action``: the confirmed actions, and touch and pointer
// equivalents of the keys, for tablets. ``more``: the buttons that are not actions (the loupe).
export function buttonActions(actions, more = {}) {
  return {
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
    "keep-jpg": () => actions.toggleKeep("jpg"),
    "keep-raw": () => actions.toggleKeep("raw"),
    "keep-both": () => actions.keepBoth(true),
    discard: () => actions.keepBoth(false),
    undo: () => actions.undo(),
    ...more,
  };
}

// Every ``[data-action]`` button of ``root`` and the rating and label selects (a choice acts
// once, then the select shows "–" again).
export function bindButtons(root, actions, more = {}) {
  const buttons = buttonActions(actions, more);
  for (const [id, act] of [["#cull-rate", (v) => actions.rate(Number(v))], ["#cull-label", (v) => actions.setLabel(v)]]) {
    root.querySelector(id).addEventListener("change", (event) => {
      const value = event.target.value;
      event.target.value = "";
      if (value !== "") act(value);
    });
  }
  for (const button of root.querySelectorAll("[data-action]")) button.addEventListener("click", () => buttons[button.dataset.action]());
}
