// The workspace's confirmation dialogs (templates/admin/photos/cull.html's #cull-dialog): a
// title, a body and OK / Cancel, answered with a promise. What a change would do (a commit's
// files, a revert's or a move's dry run) is shown here before it is confirmed (actions.js).

import { showModal } from "./focus.js";
import { exportBody } from "./exports.js";
import { trashedNames } from "./grid.js";

// The rows a list shows before "and N more".
export const LIST_ROWS = 50;

export function element(tag, attrs = {}, text = "") {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text) el.textContent = text;
  return el;
}

export function list(items) {
  const ul = element("ul", { class: "cull-list" });
  for (const text of items) ul.appendChild(element("li", {}, text));
  return ul;
}

// A list of photo names, at most ``LIST_ROWS`` of them, then "and N more".
export function namesList(photos) {
  const names = photos.slice(0, LIST_ROWS).map((p) => p.basename);
  if (photos.length > LIST_ROWS) names.push(`and ${photos.length - LIST_ROWS} more`);
  return list(names);
}

export class Dialogs {
  constructor({ dialog, fallback }) {
    this.dialog = dialog;
    this.fallback = fallback;
    this.title = dialog.querySelector("#cull-dialog-title");
    this.body = dialog.querySelector("#cull-dialog-body");
    this.ok = dialog.querySelector("#cull-dialog-ok");
  }

  get open() {
    return this.dialog.open;
  }

  // Resolves to whether the user confirmed.
  ask(title, body, okText = "OK") {
    this.title.textContent = title;
    this.body.replaceChildren(...[].concat(body));
    this.ok.textContent = okText;
    this.dialog.returnValue = "";
    showModal(this.dialog, { fallback: this.fallback });
    const first = this.body.querySelector("input, select");
    (first || this.ok).focus();
    return new Promise((resolve) => {
      this.dialog.addEventListener("close", () => resolve(this.dialog.returnValue === "ok"), { once: true });
    });
  }

  // Tag names typed by the user (comma-separated), or null when cancelled.
  async askTags(add, count) {
    const input = element("input", { type: "text", id: "cull-tags-input", "aria-label": "Tags, comma-separated", size: "30", autocomplete: "off" });
    const label = element("label", { for: "cull-tags-input" }, "Tags, comma-separated: ");
    const ok = await this.ask(`${add ? "Add tags to" : "Remove tags from"} ${count} photo${count === 1 ? "" : "s"}`, [label, input], add ? "Add" : "Remove");
    const names = input.value.split(",").map((t) => t.trim()).filter(Boolean);
    return ok && names.length ? names : null;
  }

  // The destination project chosen for a move, or null.
  async askProject(count, projects) {
    const select = element("select", { id: "cull-move-dest", "aria-label": "Destination project" });
    for (const project of projects) select.appendChild(element("option", { value: String(project.id) }, project.name));
    const label = element("label", { for: "cull-move-dest" }, "Move to: ");
    if (!(await this.ask(`Move ${count} photo${count === 1 ? "" : "s"}`, [label, select], "Check…"))) return null;
    return Number(select.value);
  }

  // An export's settings (``exportBody``), or null when cancelled.
  async askExport(count) {
    const field = (id, text, input) => {
      const row = element("p", { class: "cull-export-row" });
      row.append(element("label", { for: id }, text), input);
      return row;
    };
    const kind = element("select", { id: "cull-export-kind" });
    kind.append(element("option", { value: "originals" }, "Originals (every file as it is)"), element("option", { value: "jpeg" }, "JPEG"));
    const longEdge = element("input", { id: "cull-export-long-edge", type: "number", min: "16", max: "20000", value: "2048" });
    const quality = element("input", { id: "cull-export-quality", type: "number", min: "1", max: "100", value: "90" });
    const watermark = element("input", { id: "cull-export-watermark", type: "text", maxlength: "120", autocomplete: "off" });
    const template = element("input", { id: "cull-export-template", type: "text", value: "{basename}", size: "24", autocomplete: "off" });
    const jpegRows = [field("cull-export-long-edge", "Long edge (px): ", longEdge), field("cull-export-quality", "Quality (1–100): ", quality), field("cull-export-watermark", "Watermark: ", watermark)];
    const toggle = () => jpegRows.forEach((row) => (row.hidden = kind.value !== "jpeg"));
    kind.addEventListener("change", toggle);
    toggle();
    const help = element("p", { class: "cull-export-help" }, "Names: {basename}, {date}, {seq}, {camera}. The ZIP appears in the tray when it is ready.");
    const body = [field("cull-export-kind", "Export: ", kind), ...jpegRows, field("cull-export-template", "File names: ", template), help];
    if (!(await this.ask(`Export ${count} photo${count === 1 ? "" : "s"}`, body, "Export"))) return null;
    return exportBody({ kind: kind.value, longEdge: longEdge.value, quality: quality.value, watermark: watermark.value, template: template.value });
  }
}

// A labelled field of a dialog: [label, control].
function field(id, text, control) {
  control.id = id;
  return element("label", { for: id, class: "cull-field" }, text).appendChild(control).parentNode;
}

function select(options, value = "") {
  const el = element("select");
  for (const [v, text] of options) el.appendChild(element("option", { value: v }, text));
  el.value = value;
  return el;
}

// The date ``days`` from today as the value of an <input type="date">.
export function dateAfter(days, now = new Date()) {
  const then = new Date(now.getTime() + days * 86400000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${then.getFullYear()}-${pad(then.getMonth() + 1)}-${pad(then.getDate())}`;
}

// A share link's settings (SPEC §18) asked for a selection of ``count`` photos: the body of
// ``POST /api/shares/`` without its photos, or null when cancelled.
export async function askShare(dialogs, count) {
  const title = element("input", { type: "text", size: "40", maxlength: "200", required: "", autocomplete: "off" });
  title.value = `Selection of ${count} photo${count === 1 ? "" : "s"}`;
  const message = element("textarea", { rows: "2", cols: "40", maxlength: "5000" });
  const expires = element("input", { type: "date", required: "", min: dateAfter(1) });
  expires.value = dateAfter(30);
  const downloads = select([["none", "No downloads"], ["preview", "Previews"], ["original", "Originals"]], "preview");
  const password = element("input", { type: "password", size: "20", maxlength: "128", autocomplete: "new-password" });
  const watermark = element("input", { type: "text", size: "30", maxlength: "120", autocomplete: "off" });
  const picks = element("input", { type: "checkbox" });
  picks.checked = true;
  const body = [
    field("cull-share-title", "Title ", title),
    field("cull-share-message", "Message ", message),
    field("cull-share-expires", "Expires ", expires),
    field("cull-share-downloads", "Downloads ", downloads),
    field("cull-share-password", "Password (optional) ", password),
    field("cull-share-watermark", "Watermark (optional) ", watermark),
    field("cull-share-picks", "The client may pick and comment ", picks),
  ];
  if (!(await dialogs.ask(`Share ${count} photo${count === 1 ? "" : "s"}`, body, "Check…"))) return null;
  if (!title.value.trim()) return null;
  const result = {
    title: title.value.trim(),
    message: message.value,
    downloads: downloads.value,
    allow_picks: picks.checked,
    watermark: watermark.value.trim(),
  };
  if (expires.value) result.expires_at = new Date(`${expires.value}T23:59:59`).toISOString();
  if (password.value) result.password = password.value;
  return result;
}

// The new link's URL, shown once with a Copy button.
export function linkBody(url) {
  const input = element("input", { type: "text", readonly: "", size: "60", id: "cull-share-url", "aria-label": "Share link" });
  input.value = url;
  const copy = element("button", { type: "button", class: "button", id: "cull-share-copy" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch (error) {
      input.select();
      document.execCommand("copy");
    }
    copy.textContent = "Copied";
  });
  const row = element("p", { class: "cull-share-link" });
  row.append(input, copy);
  return [element("p", {}, "Copy the link now: it is shown only this once (the server keeps only a hash of it)."), row];
}

// What to apply to a link's picked photos: {share, set} or null. ``links``: [{id, title}].
export async function askApplyPicks(dialogs, links, chosen, labels) {
  const link = select(links.map((l) => [String(l.id), l.title]), chosen ? String(chosen) : "");
  if (!link.value && links.length) link.value = String(links[0].id);
  const keep = select([["", "Unchanged"], ["keep", "Keep (JPG and RAW)"], ["discard", "Discard (JPG and RAW)"]]);
  const rating = select([["", "Unchanged"], ...["0", "1", "2", "3", "4", "5"].map((n) => [n, n])]);
  const label = select([["", "Unchanged"], ["none", "None"], ...labels.map((l) => [l, l])]);
  const body = [
    element("p", {}, "Set these on every photo the client picked (a heart) through the link. A dry run shows what changes first."),
    field("cull-apply-share", "Link ", link),
    field("cull-apply-keep", "Keep flags ", keep),
    field("cull-apply-rating", "Rating ", rating),
    field("cull-apply-label", "Label ", label),
  ];
  if (!(await dialogs.ask("Apply the client's picks", body, "Check…"))) return null;
  const set = {};
  if (keep.value) set.keep_jpg = set.keep_raw = keep.value === "keep";
  if (rating.value !== "") set.rating = Number(rating.value);
  if (label.value) set.label = label.value;
  if (!link.value || !Object.keys(set).length) return null;
  return { share: Number(link.value), set };
}

// The files a commit trashes, listed by name with the photo's thumbnail: the first
// ``LIST_ROWS`` pending photos, then "and N more".
export function trashPreview(photos, totalFiles, thumbUrl) {
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

// The live messages under the actions bar: ``say(text, level)``, the newest first, six at
// most, each gone after a while (errors stay longer).
export function messenger(messages) {
  return (text, level = "info") => {
    const line = element("div", { class: `cull-message cull-message-${level}` }, text);
    messages.prepend(line);
    while (messages.childElementCount > 6) messages.lastElementChild.remove();
    setTimeout(() => line.remove(), level === "error" ? 15000 : 6000);
  };
}
