// Undoing a commit (SPEC §9, §17): "Undo commit" once a commit's files are in the trash, and
// the Trash view: a project's trashed photos (thumbnails while they last), select, Restore.
// Both start one photo_restore task through POST /api/photos/restore; the photos come back
// in the grid through the event stream like any other change of the workers.

import { relativeUrl } from "./api.js";
import { showModal } from "./focus.js";

// The photo ids a commit task trashed: the done items of its file_removal job(s).
export async function committedPhotoIds(api, taskId) {
  const ids = [];
  const jobs = await api.taskJobs(taskId, "file_removal");
  for (const job of jobs.results || []) {
    let url = api.jobItemsUrl(job.id);
    while (url) {
      const page = await api.get(url);
      for (const item of page.results || []) {
        if (item.status === "done" && item.photo) ids.push(item.photo);
      }
      url = relativeUrl(page.next);
    }
  }
  return ids;
}

export function restoreSummary(result) {
  const restored = result.replies.filter((r) => r && r.task_id).length;
  return { started: restored > 0, refused: result.errors };
}

export class Trash {
  constructor({ api, root, dialog, projects, projectName, canRestore = true, say, onStarted }) {
    this.api = api;
    this.root = root;
    this.dialog = dialog;
    this.projects = projects; // () => the project ids the Trash view lists
    this.projectName = projectName;
    this.say = say;
    this.onStarted = onStarted;
    this.canRestore = canRestore;
    this.commits = new Set(); // commit task ids whose trashing is not finished yet
    this.lastCommit = null; // the latest finished commit task id: what "Undo commit" restores
    this.undoButton = root.querySelector("#cull-undo-commit");
    this.openButton = root.querySelector("#cull-trash-open");
    this.body = dialog.querySelector("#cull-trash-body");
    this.restoreButton = dialog.querySelector("#cull-trash-restore");
    this.undoButton.addEventListener("click", () => this.undoCommit());
    this.openButton.addEventListener("click", () => this.open());
    this.restoreButton.addEventListener("click", () => this.restoreChecked());
    dialog.querySelector("#cull-trash-close").addEventListener("click", () => dialog.close());
    this.restoreButton.hidden = !canRestore;
  }

  // A commit started: its "Undo commit" is offered once its files are in the trash.
  commitStarted(taskId) {
    if (taskId) this.commits.add(taskId);
  }

  // Live events: a commit's file_removal step completed.
  onEvent(event) {
    const payload = event.payload || {};
    if (event.type !== "job_completed" || payload.type !== "file_removal") return;
    if (!this.commits.has(payload.task_id) || !this.canRestore) return;
    this.commits.delete(payload.task_id);
    this.lastCommit = payload.task_id;
    this.undoButton.hidden = false;
    this.say("Commit done: the discarded files are in the trash. “Undo commit” brings them back.");
  }

  // Without the event stream: ask for the pending commits' trashing steps.
  async poll() {
    for (const taskId of [...this.commits]) {
      try {
        const jobs = await this.api.taskJobs(taskId, "file_removal");
        const all = jobs.results || [];
        if (all.length && all.every((job) => job.status === "completed")) {
          this.onEvent({ type: "job_completed", payload: { type: "file_removal", task_id: taskId } });
        }
      } catch (error) {
        // The next poll asks again.
      }
    }
  }

  async restore(ids) {
    if (!ids.length) return this.say("Nothing to restore.");
    const result = await this.api.bulk("restore", ids.map((id) => ({ photo_id: id })));
    const { started, refused } = restoreSummary(result);
    if (started) this.say(`Restoring ${ids.length - refused.length} photo(s) from the trash.`);
    if (refused.length) {
      const first = refused.slice(0, 3).map((e) => `${e.photo_id}: ${e.error}`).join("; ");
      this.say(`${refused.length} not restored (${first}${refused.length > 3 ? "; …" : ""}).`, "error");
    }
    if (started) this.onStarted();
    return started;
  }

  async undoCommit() {
    if (!this.lastCommit) return;
    const taskId = this.lastCommit;
    this.undoButton.disabled = true;
    try {
      const ids = await committedPhotoIds(this.api, taskId);
      if (await this.restore(ids)) {
        this.lastCommit = null;
        this.undoButton.hidden = true;
      }
    } catch (error) {
      this.say(error.message, "error");
    } finally {
      this.undoButton.disabled = false;
    }
  }

  // --- the Trash view ---

  async open() {
    this.body.replaceChildren(text("p", "Loading…"));
    showModal(this.dialog, { fallback: this.openButton });
    const rows = [];
    try {
      for (const projectId of this.projects()) {
        const page = await this.api.projectTrash(projectId);
        for (const entry of page.results || []) rows.push(entry);
      }
    } catch (error) {
      this.body.replaceChildren(text("p", error.message));
      return;
    }
    this.render(rows);
  }

  render(rows) {
    if (!rows.length) {
      this.body.replaceChildren(text("p", "The trash is empty."));
      this.restoreButton.disabled = true;
      return;
    }
    this.restoreButton.disabled = false;
    const list = document.createElement("ul");
    list.className = "cull-trash-list";
    for (const entry of rows) list.appendChild(this.row(entry));
    this.body.replaceChildren(list);
  }

  row(entry) {
    const li = document.createElement("li");
    li.className = "cull-trash-item";
    li.dataset.photoId = String(entry.id);
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = String(entry.id);
    box.checked = true;
    box.hidden = !this.canRestore;
    label.appendChild(box);
    if (entry.trashed_at) {
      const img = document.createElement("img");
      img.className = "cull-trash-thumb";
      img.alt = "";
      img.src = this.api.imageUrl({ id: entry.id }, "thumbnail");
      img.addEventListener("error", () => img.remove());
      label.appendChild(img);
    }
    const files = entry.files.map((f) => f.name).join(", ");
    const due = entry.purge_due ? new Date(entry.purge_due).toLocaleString() : "–";
    const what = entry.trashed_at ? "" : " (some files)";
    label.appendChild(text("span", `${entry.basename}${what} — ${this.projectName(entry.project)}: ${files}; purged after ${due}`));
    li.appendChild(label);
    return li;
  }

  async restoreChecked() {
    const ids = [...this.body.querySelectorAll("input[type=checkbox]:checked")].map((box) => Number(box.value));
    if (await this.restore(ids)) this.dialog.close();
  }
}

function text(tag, content) {
  const el = document.createElement(tag);
  el.textContent = content;
  return el;
}
