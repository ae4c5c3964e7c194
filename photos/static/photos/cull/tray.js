// The tray of running tasks: a view of the jobs the event stream reports. Job events carry
// what it shows (the step within the task, the number of steps, the task's type, progress),
// so the tray reads the API only when it starts and while the stream is down (live.js polls).
// ``trayGroups`` and ``jobFromEvent`` are pure and unit-tested (tests/js/tray.test.mjs).

export const FINISHED = new Set(["completed", "failed", "canceled"]);
export const KEEP_FINISHED_MS = 8000;

// ``job`` (or a new one) updated by a ``job_*`` event; null for other events.
export function jobFromEvent(job, event) {
  if (!event.type || !event.type.startsWith("job_")) return null;
  const payload = event.payload || {};
  const id = payload.job_id || event.job_id;
  if (!id) return null;
  const next = { ...(job || { id }) };
  next.task = payload.task_id ?? next.task ?? null;
  if (payload.type) next.type = payload.type;
  if (payload.project_id !== undefined) next.project = payload.project_id;
  if (payload.step_index !== undefined) next.step_index = payload.step_index;
  if (payload.steps_total !== undefined) next.steps_total = payload.steps_total;
  if (payload.task_type) next.task_type = payload.task_type;
  next.status = payload.status || event.type.slice(4);
  if (payload.progress) {
    next.progress_done = payload.progress.done;
    next.progress_total = payload.progress.total;
  }
  return next;
}

// The tray's rows: the jobs grouped by task, steps in order. A task whose jobs all finished
// more than ``keepMs`` ago is dropped: its job ids are in ``expired``. ``finishedAt`` is set
// on the jobs seen finished for the first time (``now``).
export function trayGroups(jobs, tasks, now, keepMs = KEEP_FINISHED_MS) {
  const byKey = new Map();
  for (const job of jobs) {
    if (FINISHED.has(job.status)) job.finishedAt = job.finishedAt || now;
    const key = job.task || `job-${job.id}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(job);
  }
  const groups = [];
  const expired = [];
  for (const [key, members] of byKey) {
    members.sort((a, b) => (a.step_index || 0) - (b.step_index || 0) || a.id - b.id);
    const finished = members.every((job) => FINISHED.has(job.status));
    const lastFinish = Math.max(...members.map((job) => job.finishedAt || 0));
    if (finished && now - lastFinish > keepMs) {
      expired.push(...members.map((job) => job.id));
      continue;
    }
    const task = tasks.get(key) || {};
    const current = members.find((job) => !FINISHED.has(job.status)) || members[members.length - 1];
    const failed = members.some((job) => job.status === "failed" || job.status === "canceled");
    const type = task.type || current.task_type || current.type;
    const steps = current.steps_total || task.steps;
    const stepText = steps ? `step ${(current.step_index || 0) + 1}/${steps}: ` : "";
    groups.push({
      key,
      title: type,
      step: `${stepText}${current.type} · ${finished ? (failed ? "failed" : "done") : current.status}`,
      done: current.progress_done || 0,
      total: current.progress_total || 0,
      label: `${current.type} progress`,
      finished,
      failed,
    });
  }
  return { groups, expired };
}

export class Tray {
  constructor({ list, empty, api, live }) {
    this.list = list;
    this.empty = empty;
    this.api = api;
    this.jobs = new Map(); // job id -> job (as the API lists it, updated by events)
    this.tasks = new Map(); // task id -> {type, steps}
    this.steps = {}; // task type -> number of steps, for the jobs read from the list
    live.on((event) => this.event(event));
    live.onPoll(() => this.refresh());
  }

  async start() {
    try {
      const definitions = await this.api.taskDefinitions();
      for (const definition of [].concat(definitions.results || definitions)) {
        this.steps[definition.type || definition.name] = (definition.steps || []).length;
      }
    } catch (error) {
      // Step counts are a nicety: the tray works without them.
    }
    await this.refresh();
  }

  // The whole picture from the API: at the start, while the stream is down, and after this
  // tab started a task (its jobs' events follow, but the tray shows it at once).
  async refresh() {
    let jobs;
    let tasks;
    try {
      [jobs, tasks] = await Promise.all([this.api.activeJobs(), this.api.activeTasks()]);
    } catch (error) {
      return;
    }
    const active = new Set();
    for (const job of jobs.results) {
      this.jobs.set(job.id, { ...this.jobs.get(job.id), ...job });
      active.add(job.id);
    }
    // A job that left the active list ended while no event told us: show it done.
    for (const job of this.jobs.values()) {
      if (!active.has(job.id) && !FINISHED.has(job.status)) job.status = "completed";
    }
    for (const task of tasks.results) this.tasks.set(task.id, { type: task.type, steps: this.steps[task.type] });
    this.render();
  }

  event(event) {
    const id = (event.payload && event.payload.job_id) || event.job_id;
    const job = jobFromEvent(this.jobs.get(id), event);
    if (!job) return;
    this.jobs.set(job.id, job);
    if (job.task && job.task_type && !this.tasks.has(job.task)) this.tasks.set(job.task, { type: job.task_type, steps: job.steps_total });
    this.render();
  }

  render() {
    const { groups, expired } = trayGroups([...this.jobs.values()], this.tasks, Date.now());
    for (const id of expired) this.jobs.delete(id);
    this.empty.hidden = groups.length > 0;
    this.list.replaceChildren(...groups.map((group) => row(group)));
  }
}

function row(group) {
  const item = document.createElement("li");
  item.className = "cull-task";
  item.dataset.task = group.key;
  const title = document.createElement("div");
  title.className = "cull-task-title";
  title.textContent = group.title;
  const step = document.createElement("div");
  step.className = "cull-task-step";
  step.textContent = group.step;
  const bar = document.createElement("progress");
  bar.max = group.total || 1;
  bar.value = group.finished ? bar.max : group.done;
  bar.setAttribute("aria-label", group.label);
  const count = document.createElement("span");
  count.className = "cull-task-count";
  count.textContent = group.total ? `${group.done}/${group.total}` : "";
  item.classList.toggle("cull-task-failed", group.failed);
  item.classList.toggle("cull-task-done", group.finished && !group.failed);
  item.append(title, step, bar, count);
  return item;
}
