// Upload by dropping files or folders on a project's grid, or with the Upload… and Upload
// folder… buttons: batches of files with one progress bar; refused files listed with the
// server's reason. New photos show up through the event stream as the upload task indexes them.
//
// A folder, dropped or picked, is walked whole: every file in it and its subfolders goes to the
// project folder under its own name (the project folder is flat), hidden files and folders
// are skipped, and a refused file is listed by its path in the folder.

const BATCH_FILES = 50;
// An upload's summary with nothing refused leaves after this long; one with refusals stays
// until its close button is pressed (or the next upload starts).
export const KEEP_SUMMARY_MS = 5000;
const BATCH_BYTES = 200 * 1024 * 1024;

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

function batches(files) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const item of files) {
    if (current.length && (current.length >= BATCH_FILES || bytes + item.file.size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.file.size;
  }
  if (current.length) out.push(current);
  return out;
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

  async send(files) {
    const project = this.project();
    if (!project) return this.say("Choose one project in the filter to upload to it.", "error");
    if (!files.length) return;
    const total = files.reduce((n, f) => n + f.file.size, 0) || 1;
    let sent = 0;
    let saved = 0;
    const refused = [];
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
    this.panel.append(title, bar, errors);
    for (const batch of batches(files)) {
      const size = batch.reduce((n, f) => n + f.file.size, 0);
      title.textContent = `Uploading ${files.length} file(s): ${saved} saved`;
      const { status, data } = await this.api.upload(project, batch.map((f) => f.file), (loaded) => {
        bar.value = sent + Math.min(loaded, size);
      });
      sent += size;
      bar.value = sent;
      saved += ((data && data.files) || []).length;
      this.state.saved = saved;
      this.onChange();
      const problems = (data && data.errors) || [];
      if (status >= 400 && !problems.length) {
        for (const item of batch) problems.push({ file: item.file.name, error: (data && data.detail) || `refused (${status})` });
      }
      // The server names a refused file as it was sent; list it by its path in the folder
      // (the server answers in the order of the files, so a repeated name maps in turn).
      const unclaimed = [...batch];
      for (const problem of problems) {
        refused.push(problem);
        const at = unclaimed.findIndex((item) => item.file.name === problem.file);
        const path = at >= 0 ? unclaimed.splice(at, 1)[0].path : problem.file;
        errors.appendChild(refusedRow(path, problem.error));
      }
      this.onBatch();
    }
    title.textContent = `Uploaded ${saved} of ${files.length} file(s)${refused.length ? `; ${refused.length} refused` : ""}.`;
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
    if (!refused.length) this.timer = setTimeout(() => this.close(), KEEP_SUMMARY_MS);
  }
}
