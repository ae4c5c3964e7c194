// The studio's projects as the workspace knows them (the picker, the Move dialog, the names on
// tiles): the bootstrap's list, kept current from the event stream (SPEC §10), so a project
// made, renamed or archived in another tab, or by another member, shows without a reload.
// New, Rename and Archive go through the projects API (api.js) and the same events.

// Built here rather than imported from dialogs.js, whose imports need a document: the list's
// rules load in node for their unit tests (tests/js/projects.test.mjs).
function element(tag, attrs = {}, text = "") {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text) el.textContent = text;
  return el;
}

// The events that change the list: made (or back from an orphan's archive), renamed, archived,
// removed.
export const PROJECT_LIST_EVENTS = ["project_discovered", "manifest_changed", "project_archived", "project_removed"];

export const byName = (a, b) => a.name.localeCompare(b.name) || Number(a.id) - Number(b.id);

// Apply one event to ``projects`` ({id, name, folder} objects, changed in place and kept in
// name order); returns whether the list changed.
export function projectsApply(projects, event) {
  const payload = (event && event.payload) || {};
  const id = Number(payload.project_id ?? event.project_id);
  if (!id) return false;
  const index = projects.findIndex((p) => Number(p.id) === id);
  if (event.type === "project_archived" || event.type === "project_removed") {
    if (index < 0) return false;
    projects.splice(index, 1);
    return true;
  }
  if (event.type !== "project_discovered" && event.type !== "manifest_changed") return false;
  // A manifest rewritten by maintenance carries no name: nothing to show.
  if (typeof payload.name !== "string" || !payload.name) return false;
  if (index >= 0) {
    if (projects[index].name === payload.name) return false;
    projects[index].name = payload.name;
  } else {
    // A rename of a project this list does not show (archived) adds nothing.
    if (event.type !== "project_discovered") return false;
    projects.push({ id, name: payload.name, folder: payload.folder || "" });
  }
  projects.sort(byName);
  return true;
}

// The picker's checkboxes for ``projects``, those in ``chosen`` (ids as strings) checked.
export function renderPicker(fieldset, projects, chosen) {
  const legend = fieldset.querySelector("legend");
  const rows = projects.map((project) => {
    const box = element("input", { type: "checkbox", name: "project", value: String(project.id) });
    box.checked = chosen.includes(String(project.id));
    const label = element("label");
    label.append(box, ` ${project.name}`);
    return label;
  });
  if (!rows.length) rows.push(element("span", { class: "cull-muted" }, "No projects yet."));
  fieldset.replaceChildren(...[legend].filter(Boolean), ...rows);
}

export class Projects {
  // ``list``: the bootstrap's array, changed in place (the Move dialog and the trash read it).
  // ``chosen()``: the project ids the filter shows. ``onChange()``: after every change.
  constructor({ list, api, dialogs, say, chosen, onChange }) {
    this.list = list;
    this.api = api;
    this.dialogs = dialogs;
    this.say = say;
    this.chosen = chosen;
    this.onChange = onChange;
    this.list.sort(byName);
  }

  name(id) {
    const project = this.list.find((p) => String(p.id) === String(id));
    return project ? project.name : `#${id}`;
  }

  onEvent(event) {
    if (PROJECT_LIST_EVENTS.includes(event.type) && projectsApply(this.list, event)) this.onChange();
  }

  // Resolves to the project made (as the API returns it), or null.
  async create() {
    const input = nameInput("cull-project-name", "");
    const label = element("label", { for: "cull-project-name" }, "Name: ");
    if (!(await this.dialogs.ask("New project", [label, input], "Create"))) return null;
    const name = input.value.trim();
    if (!name) return null;
    try {
      const project = await this.api.createProject(name);
      this.apply("project_discovered", project);
      this.say(`Project “${project.name}” created.`);
      return project;
    } catch (error) {
      this.say(error.message, "error");
      return null;
    }
  }

  async rename() {
    const picked = this.picker("Project");
    const input = nameInput("cull-project-rename-to", "");
    const label = element("label", { for: "cull-project-rename-to" }, "New name: ");
    if (!picked) return null;
    input.value = this.name(picked.select.value);
    picked.select.addEventListener("change", () => (input.value = this.name(picked.select.value)));
    if (!(await this.dialogs.ask("Rename a project", [...picked.parts, element("p"), label, input], "Rename"))) return null;
    const name = input.value.trim();
    const id = picked.select.value;
    if (!name || name === this.name(id)) return null;
    try {
      const project = await this.api.renameProject(id, name);
      this.apply("manifest_changed", project);
      this.say(`Project renamed to “${project.name}”; its folder follows at the next maintenance.`);
      return project;
    } catch (error) {
      this.say(error.message, "error");
      return null;
    }
  }

  async archive() {
    const picked = this.picker("Project");
    if (!picked) return null;
    const note = element("p", {}, "An archived project leaves the workspace and takes no new work. Its folder and photos stay on disk; nothing is deleted.");
    if (!(await this.dialogs.ask("Archive a project", [...picked.parts, note], "Archive"))) return null;
    const id = picked.select.value;
    const name = this.name(id);
    try {
      await this.api.archiveProject(id);
      this.apply("project_archived", { id });
      this.say(`Project “${name}” archived.`);
      return id;
    } catch (error) {
      this.say(error.message, "error");
      return null;
    }
  }

  // A select of the projects, the one the filter shows chosen first; null (and a message)
  // when there is none.
  picker(text) {
    if (!this.list.length) {
      this.say("There is no project yet.", "error");
      return null;
    }
    const select = element("select", { id: "cull-project-pick", "aria-label": text });
    const chosen = this.chosen();
    for (const project of this.list) {
      const option = element("option", { value: String(project.id) }, project.name);
      if (chosen.length === 1 && chosen[0] === String(project.id)) option.selected = true;
      select.appendChild(option);
    }
    return { select, parts: [element("label", { for: "cull-project-pick" }, `${text}: `), select] };
  }

  // This tab's own change, shown at once (its event, when it comes, changes nothing more).
  apply(type, project) {
    if (projectsApply(this.list, { type, payload: { project_id: project.id, name: project.name, folder: project.folder } })) this.onChange();
  }
}

// The workspace's buttons: New project (in the picker) and the project menu (a <details>:
// Rename, Archive), which closes when one is chosen, on Esc and on a click outside it, as a
// menu does. ``onCreated(project)``: a project was made.
export function bindProjectMenu(root, projects, onCreated) {
  const menu = root.querySelector("#cull-project-menu");
  const fromMenu = (act) => () => ((menu.open = false), act());
  root.querySelector("#cull-project-new").addEventListener("click", async () => {
    const made = await projects.create();
    if (made) onCreated(made);
  });
  root.querySelector("#cull-project-rename").addEventListener("click", fromMenu(() => projects.rename()));
  root.querySelector("#cull-project-archive").addEventListener("click", fromMenu(() => projects.archive()));
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) (event.preventDefault(), event.stopPropagation(), (menu.open = false));
  });
  document.addEventListener("pointerdown", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
}

function nameInput(id, value) {
  const input = element("input", { type: "text", id, size: "40", maxlength: "255", autocomplete: "off" });
  input.value = value;
  return input;
}
