// The filter lives in the page's URL (so a view can be bookmarked) and maps onto the photo
// list's query parameters (docs/API.md, "Photos"): every filter of the list, and the sort.

import { renderPicker } from "./projects.js";
import { SORTS } from "./stacks.js";

// The fields the API takes as they are (the others: ``state``, the dates and ``sort``).
const PASSED = [
  "file_type", "rating", "rating_min", "rating_max", "label", "tags", "camera", "lens", "iso_min", "iso_max",
  "sharpness_min", "clipped", "in_burst", "basename", "keep_jpg", "keep_raw", "visibility", "derivatives",
  "thumbnail_status", "preview_status", "picked_by_share",
];
const FIELDS = ["sort", "state", ...PASSED, "taken_at_after", "taken_at_before"];

export function filterFromUrl(search) {
  const params = new URLSearchParams(search);
  const filter = { projects: [] };
  const single = params.get("project");
  if (single) filter.projects.push(single);
  for (const id of (params.get("projects") || "").split(",")) {
    if (id && !filter.projects.includes(id)) filter.projects.push(id);
  }
  for (const name of FIELDS) {
    const value = params.get(name);
    if (value) filter[name] = value;
  }
  return filter;
}

export function filterToUrl(filter) {
  const params = new URLSearchParams();
  if (filter.projects.length === 1) params.set("project", filter.projects[0]);
  else if (filter.projects.length > 1) params.set("projects", filter.projects.join(","));
  for (const name of FIELDS) if (filter[name]) params.set(name, filter[name]);
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function filterToApi(filter) {
  const query = {};
  if (filter.projects.length === 1) query.project = filter.projects[0];
  else if (filter.projects.length > 1) query.projects = filter.projects.join(",");
  if (filter.state === "kept") query.pending = "false";
  if (filter.state === "pending") query.pending = "true";
  if (filter.state === "mismatch") query.keep_mismatch = "true";
  for (const name of PASSED) {
    if (filter[name]) query[name] = filter[name];
  }
  if (filter.sort && SORTS[filter.sort]) query.ordering = SORTS[filter.sort].join(",");
  if (filter.taken_at_after) query.taken_at_after = `${filter.taken_at_after}T00:00:00`;
  if (filter.taken_at_before) query.taken_at_before = `${filter.taken_at_before}T23:59:59`;
  return query;
}

export function filterFromForm(form) {
  const filter = { projects: [] };
  for (const box of form.querySelectorAll('input[name="project"]:checked')) filter.projects.push(box.value);
  for (const name of FIELDS) {
    const field = form.elements.namedItem(name);
    const value = field && field.value.trim();
    if (value) filter[name] = value;
  }
  return filter;
}

export function filterToForm(filter, form) {
  for (const box of form.querySelectorAll('input[name="project"]')) box.checked = filter.projects.includes(box.value);
  for (const name of FIELDS) {
    const field = form.elements.namedItem(name);
    if (field) field.value = filter[name] || "";
  }
}

// The project picker's summary: the names of the projects the filter shows.
export function projectsSummary(filter, projectName) {
  return filter.projects.length ? filter.projects.map(projectName).join(", ") : "All projects";
}

// The filter without the projects not in ``known`` (ids as strings), or null when it shows
// none such.
export function filterKnownProjects(filter, known) {
  const shown = filter.projects.filter((id) => known.has(id));
  return shown.length === filter.projects.length ? null : { ...filter, projects: shown };
}

// The filter form and the page URL kept in step: ``onChange(filter)`` runs on every change of
// the form, the Clear button, and the browser's back and forward. The project picker's summary
// names the projects shown (``projectName(id)``).
export class FilterBar {
  constructor({ form, clear, projectName, onChange }) {
    this.form = form;
    this.filter = filterFromUrl(location.search);
    this.projectName = projectName;
    this.onChange = onChange;
    form.addEventListener("change", () => this.set(filterFromForm(form)));
    form.addEventListener("submit", (event) => event.preventDefault());
    clear.addEventListener("click", () => this.set({ projects: [] }, { fill: true }));
    window.addEventListener("popstate", () => this.set(filterFromUrl(location.search), { fill: true, push: false }));
    // The project picker (a <details>) closes on Esc, giving the focus back to its summary,
    // and on a click outside it, as a menu does.
    const picker = (this.picker = form.querySelector("details"));
    if (picker) {
      picker.addEventListener("keydown", (event) => {
        if (event.key !== "Escape" || !picker.open) return;
        event.preventDefault();
        event.stopPropagation();
        picker.open = false;
        picker.querySelector("summary").focus();
      });
      document.addEventListener("pointerdown", (event) => {
        if (picker.open && !picker.contains(event.target)) picker.open = false;
      });
    }
  }

  get projects() {
    return this.filter.projects;
  }

  set(filter, { fill = false, push = true } = {}) {
    this.filter = filter;
    if (fill) filterToForm(filter, this.form);
    if (push) history.pushState(null, "", location.pathname + filterToUrl(filter));
    this.showSummary();
    this.onChange(filter);
  }

  showSummary() {
    if (this.picker) this.picker.querySelector("summary").textContent = projectsSummary(this.filter, this.projectName);
  }

  // The studio's projects changed (``list``, projects.js): the picker lists them, and a project
  // gone (archived) while the filter shows it leaves the filter.
  projectsChanged(list) {
    renderPicker(this.picker.querySelector("fieldset"), list, this.projects);
    const kept = filterKnownProjects(this.filter, new Set(list.map((p) => String(p.id))));
    if (kept) this.set(kept, { fill: true, push: false });
    else this.showSummary();
  }

  // The first load: the form shows the URL's filter, no history entry.
  start() {
    this.set(this.filter, { fill: true, push: false });
  }
}
