// Upload by dropping files or folders on a project's grid, or with the Upload… and Upload
// folder… buttons: each file a resumable upload (tus.js; a dropped connection resumes where
// it stopped), one progress bar; refused files listed with the server's reason. A name the
// project has already is refused unless the user asks to keep both, renamed by a template
// ({basename}_{camera} or {date}_{seq}); renamed files are listed. Sidecars (.xmp, …) go
// after the photos, so that their photo is there when they arrive. New photos show up through
// the event stream as the upload task indexes them.
//
// A folder, dropped or picked, is walked whole: every file in it and its subfolders goes to the
// project folder under its own name (the project folder is flat), hidden files and folders
// are skipped, and a refused file is listed by its path in the folder.

import { TusUpload } from "./tus.js";

// An upload's summary with nothing refused leaves after this long; one with refusals stays
// until its close button is pressed (or the next upload starts).
export const KEEP_SUMMARY_MS = 5000;
// The rename templates offered when a name is taken (photos/renaming.py).
export const RENAME_TEMPLATES = ["{basename}_{camera}", "{date}_{seq}"];
const SIDECAR_EXTENSIONS = new Set(["xmp", "pp3", "dop", "on1", "aae", "thm"]);
// Refresh the tray after this many files (and at the end), not after every one.
const TRAY_EVERY = 10;

const hidden = (path) => path.split("/").some((part) => part.startsWith("."));

// Every file under the dropped items, folders walked: [{file, path}].
async function droppedFiles(dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...dataTransfer.files].map((file) => ({ file, path: file.name })).filter((f) => !hidden(f.path));
  const files = [];
  const walk = async (entry) => {
    if (entry.name.startsWith(".")) return;
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      files.push({ file, path: entry.fullPath.replace(/^\//, "") || file.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return files;
}

// The files of an <input type=file>: a folder picker gives each its path in the folder.
function pickedFiles(input) {
  return [...input.files].map((file) => ({ file, path: file.webkitRelativePath || file.name })).filter((f) => !hidden(f.path));
}

export function isSidecar(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 && SIDECAR_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

// The order files are sent in: photos first, then sidecars (each joins a photo already there).
export function sendOrder(files) {
  return [...files.filter((f) => !isSidecar(f.file.name)), ...files.filter((f) => isSidecar(f.file.name))];
}

// What the empty grid of ``project`` says about the uploads, or null: while files are being
// saved, "Uploading…"; after, until the photos show, that they are on their way.
export function uploadingText(state, project) {
  if (!state || String(state.project) !== String(project)) return null;
  if (state.busy) return `Uploading ${state.files} file${state.files === 1 ? "" : "s"}… ${state.saved} saved so far; photos appear here as they are indexed.`;
  if (state.saved) return `${state.saved} file${state.saved === 1 ? "" : "s"} uploaded; photos appear here as they are indexed…`;
  return null;
}

// A refused file's row: its name and the server's reason, the full path in the title (and
// shown whole on click, for a path too long for the tray).
function refusedRow(path, error) {
  const li = document.createElement("li");
  const name = document.createElement("button");
  name.type = "button";
  name.className = "cull-refused-name";
  name.textContent = path.split("/").pop();
  name.title = `${path}: ${error}`;
  name.setAttribute("aria-expanded", "false");
  const reason = document.createElement("span");
  reason.className = "cull-refused-reason";
  reason.textContent = `: ${error}`;
  const full = document.createElement("div");
  full.className = "cull-refused-full";
  full.textContent = path;
  full.hidden = true;
  name.addEventListener("click", () => {
    full.hidden = !full.hidden;
    name.setAttribute("aria-expanded", String(!full.hidden));
  });
  li.title = `${path}: ${error}`;
  li.append(name, reason, full);
  return li;
}

export class Uploader {
  constructor({ api, grid, overlay, panel, inputs, project, say, onBatch, onChange = () => {} }) {
    Object.assign(this, { api, grid, overlay, panel, inputs, project, say, onBatch, onChange });
    this.state = null; // {project, busy, files, saved}: the last upload
    this.timer = null;
  }

  close() {
    clearTimeout(this.timer);
    this.panel.hidden = true;
    this.panel.replaceChildren();
  }

  start() {
    let depth = 0;
    this.grid.addEventListener("dragenter", (event) => {
      if (!event.dataTransfer || ![...event.dataTransfer.types].includes("Files")) return;
      depth += 1;
      this.overlay.hidden = false;
      this.overlay.textContent = this.project() ? "Drop files or folders to upload" : "Choose one project in the filter to upload to it";
    });
    this.grid.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) this.overlay.hidden = true;
    });
    this.grid.addEventListener("dragover", (event) => event.preventDefault());
    this.grid.addEventListener("drop", async (event) => {
      event.preventDefault();
      depth = 0;
      this.overlay.hidden = true;
      this.send(await droppedFiles(event.dataTransfer));
    });
    for (const input of this.inputs) {
      input.addEventListener("change", () => {
        this.send(pickedFiles(input));
        input.value = "";
      });
    }
  }

  // One file: a resumable upload, then its result (saved name, renamed) from the server.
  async sendOne(project, item, rename, onProgress) {
    const upload = new TusUpload({
      file: item.file,
      endpoint: this.api.uploadsUrl(),
      metadata: { project, filename: item.file.name, rename },
      request: (...args) => this.api.tusRequest(...args),
      onProgress,
    });
    try {
      const url = await upload.start();
      const state = await this.api.get(url);
      return { ok: true, result: (state && state.result) || {} };
    } catch (error) {
      const data = error.data || {};
      const problems = data.errors && data.errors.length ? data.errors : [{ file: item.file.name, error: error.message }];
      return { ok: false, status: error.status, problems };
    }
  }

  async send(files, { rename } = {}) {
    const project = this.project();
    if (!project) return this.say("Choose one project in the filter to upload to it.", "error");
    if (!files.length) return;
    files = sendOrder(files);
    const total = files.reduce((n, f) => n + f.file.size, 0) || 1;
    let sent = 0;
    let saved = 0;
    const refused = [];
    const renamed = [];
    const taken = []; // refused because the name is taken: may be sent again, renamed
    clearTimeout(this.timer);
    this.state = { project, busy: true, files: files.length, saved: 0 };
    this.onChange();
    this.panel.hidden = false;
    this.panel.replaceChildren();
    const title = document.createElement("div");
    const bar = document.createElement("progress");
    bar.max = total;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload progress");
    const errors = document.createElement("ul");
    errors.className = "cull-refused";
    const renamedList = document.createElement("ul");
    renamedList.className = "cull-renamed";
    this.panel.append(title, bar, errors, renamedList);
    for (const [index, item] of files.entries()) {
      title.textContent = `Uploading ${files.length} file(s): ${saved} saved`;
      const outcome = await this.sendOne(project, item, rename, (loaded) => {
        bar.value = sent + Math.min(loaded, item.file.size);
      });
      sent += item.file.size;
      bar.value = sent;
      if (outcome.ok) {
        saved += (outcome.result.files || []).length;
        for (const entry of outcome.result.renamed || []) {
          renamed.push(entry);
          const li = document.createElement("li");
          li.textContent = `${entry.file} → ${entry.saved_as}`;
          li.title = `${item.path} was saved as ${entry.saved_as}`;
          renamedList.appendChild(li);
        }
      } else {
        if (outcome.status === 409) taken.push(item);
        // The server names a refused file as it was sent; list it by its path in the folder.
        for (const problem of outcome.problems) {
          refused.push(problem);
          errors.appendChild(refusedRow(item.path, problem.error));
        }
      }
      this.state.saved = saved;
      this.onChange();
      if ((index + 1) % TRAY_EVERY === 0) this.onBatch();
    }
    this.onBatch();
    title.textContent = `Uploaded ${saved} of ${files.length} file(s)${refused.length ? `; ${refused.length} refused` : ""}${renamed.length ? `; ${renamed.length} renamed` : ""}.`;
    this.say(title.textContent, refused.length ? "error" : "info");
    this.state.busy = false;
    this.onChange();
    const close = document.createElement("button");
    close.type = "button";
    close.className = "cull-upload-close";
    close.textContent = "×";
    close.setAttribute("aria-label", "Dismiss the upload summary");
    close.addEventListener("click", () => this.close());
    this.panel.prepend(close);
    if (taken.length) this.offerRename(taken);
    if (!refused.length && !renamed.length) this.timer = setTimeout(() => this.close(), KEEP_SUMMARY_MS);
  }

  // Names the project has already: keep both, the arriving photos renamed by a template.
  offerRename(taken) {
    const offer = document.createElement("div");
    offer.className = "cull-rename-offer";
    const text = document.createElement("span");
    text.textContent = `${taken.length} name(s) taken. Keep both, renamed as `;
    offer.appendChild(text);
    for (const template of RENAME_TEMPLATES) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = template;
      button.title = `Upload the refused files again, renamed as ${template}; nothing is overwritten`;
      button.addEventListener("click", () => this.send(taken, { rename: template }));
      offer.appendChild(button);
    }
    this.panel.appendChild(offer);
  }
}
