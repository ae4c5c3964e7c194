// The pending summary ("To trash: N JPG, M RAW") of the projects shown. Read once from the
// API, then kept current by ``pending_changes`` events, which carry each project's totals:
// a change re-aggregates nothing. Read again only while the event stream is down.

export function pendingText(byProject, projects) {
  const shown = [...byProject.values()].filter((p) => !projects.length || projects.includes(String(p.project_id)));
  const jpg = shown.reduce((n, p) => n + p.jpg, 0);
  const raw = shown.reduce((n, p) => n + p.raw, 0);
  return {
    text: jpg || raw ? `To trash: ${jpg} JPG, ${raw} RAW` : "Nothing to trash",
    title: shown.filter((p) => p.jpg || p.raw).map((p) => `${p.name}: ${p.jpg} JPG, ${p.raw} RAW`).join("\n"),
  };
}

export class Pending {
  constructor({ api, element, projects, projectName }) {
    this.api = api;
    this.element = element;
    this.projects = projects; // () => the filter's project ids
    this.projectName = projectName;
    this.byProject = new Map();
  }

  async load() {
    try {
      const totals = await this.api.pendingDeletes();
      this.byProject = new Map(totals.by_project.map((p) => [p.project_id, p]));
    } catch (error) {
      return; // The summary is read again on the next poll.
    }
    this.render();
  }

  onEvent(event) {
    if (event.type !== "pending_changes") return;
    const payload = event.payload || {};
    const id = payload.project_id;
    if (id === undefined || payload.jpg === undefined) return;
    const name = (this.byProject.get(id) || {}).name || this.projectName(id);
    this.byProject.set(id, { project_id: id, name, jpg: payload.jpg, raw: payload.raw });
    this.render();
  }

  render() {
    const { text, title } = pendingText(this.byProject, this.projects());
    this.element.textContent = text;
    this.element.title = title;
  }
}
