// The tray of running tasks: a view of the jobs the event stream reports. Job events carry
// what it shows (the task's title, the step within the task, the number of steps, progress),
// so the tray reads the API only when it starts and while the stream is down (live.js polls).
// ``trayGroups`` and ``jobFromEvent`` are pure and unit-tested (tests/js/tray.test.mjs).

export const FINISHED = new Set(["completed", "failed", "canceled"]);
// A completed task stays this long, then leaves the tray; a failed one stays until dismissed.
export const KEEP_FINISHED_MS = 5000;
// A task whose jobs all ended before its last step waits this long for the next step's job
// before it shows done (a step with nothing to do is skipped and sends no event).
export const SETTLE_MS = 1500;

const RANK = { queued: 0, running: 1, completed: 2, failed: 2, canceled: 2 };
// Task types whose done row stays until dismissed: an export keeps its Download link there.
export const STICKY_TYPES = new Set(["export"]);

// A task type in words when no title is known: "folder_discovery" -> "Folder discovery".
export function words(type) {
  const text = String(type || "Task").replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ``job`` (or a new one) updated by a ``job_*`` event; null for other events. A job's status
// only moves forward: a late event of a job seen ended does not make it run again (only a
// retry, after a failure, queues it again).
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
  if (payload.task_title) next.task_title = payload.task_title;
  const status = payload.status || event.type.slice(4);
  const before = next.status;
  const retried = (before === "failed" || before === "canceled") && status === "queued";
  if (!before || retried || (RANK[status] ?? 0) >= (RANK[before] ?? 0)) {
    if (retried) delete next.finishedAt;
    next.status = status;
    if (payload.progress) {
      next.progress_done = payload.progress.done;
      next.progress_total = payload.progress.total;
    }
  }
  return next;
}

// The tray's rows: the jobs grouped by task. A row shows the task's latest step (the highest
// ``step_index`` seen, so a late event of an earlier step never moves it back) of the task's
// steps and the progress of that step's jobs. A task is done when its jobs ended at its last
// step, or ``settleMs`` after they ended at an earlier one; failed when one failed. A done
// task whose jobs ended more than ``keepMs`` ago is dropped (its job ids are in ``expired``);
// a failed one stays until dismissed. ``finishedAt`` is set on the jobs seen ended for the
// first time (``now``).
export function trayGroups(jobs, tasks, now, { keepMs = KEEP_FINISHED_MS, settleMs = SETTLE_MS } = {}) {
  const byKey = new Map();
  for (const job of jobs) {
    if (FINISHED.has(job.status)) job.finishedAt = job.finishedAt || now;
    const key = job.task || `job-${job.id}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(job);
  }
  const groups = [];
  const expired = [];
  let wake = null; // When a row changes with no event: a task settles or leaves.
  const later = (at) => {
    wake = wake === null ? at : Math.min(wake, at);
  };
  for (const [key, members] of byKey) {
    const task = tasks.get(key) || {};
    const stepIndex = Math.max(task.step || 0, ...members.map((job) => job.step_index || 0));
    const steps = Math.max(stepIndex + 1, ...members.map((job) => job.steps_total || 0), task.steps || 0);
    const atStep = members.filter((job) => (job.step_index || 0) === stepIndex);
    const ended = members.every((job) => FINISHED.has(job.status));
    const failed = members.some((job) => job.status === "failed" || job.status === "canceled");
    const lastFinish = Math.max(...members.map((job) => job.finishedAt || 0));
    const lastStep = stepIndex + 1 >= steps || Boolean(task.ended);
    const sticky = STICKY_TYPES.has(task.type || members.map((job) => job.task_type).find(Boolean));
    let finished = ended && (failed || lastStep);
    if (ended && !finished) {
      if (now - lastFinish >= settleMs) finished = true;
      else later(lastFinish + settleMs);
    }
    if (finished && !failed && !sticky) {
      if (now - lastFinish >= keepMs) {
        expired.push(...members.map((job) => job.id));
        continue;
      }
      later(lastFinish + keepMs);
    }
    let status;
    if (finished) status = failed ? (members.some((job) => job.status === "failed") ? "failed" : "canceled") : "done";
    else if (atStep.some((job) => job.status === "running")) status = "running";
    else if (atStep.every((job) => FINISHED.has(job.status))) status = "running"; // The next step is on its way.
    else status = stepIndex > 0 || members.some((job) => job.status !== "queued") ? "running" : "queued";
    const title = task.title || members.map((job) => job.task_title).find(Boolean) || words(task.type || members[0].task_type || members[0].type);
    // A done task says so, without a step count (skipped steps would make it jump).
    const stepText = steps > 1 && !(finished && !failed) ? `step ${stepIndex + 1}/${steps} · ` : "";
    const done = atStep.reduce((sum, job) => sum + (job.progress_done || 0), 0);
    const total = atStep.reduce((sum, job) => sum + (job.progress_total || 0), 0);
    groups.push({
      key,
      title,
      step: `${stepText}${status}`,
      done: finished && !failed ? total : done,
      total,
      label: `${title}: progress`,
      finished,
      failed,
      ...(sticky ? { sticky } : {}),
    });
  }
  return { groups, expired, wake };
}

export class Tray {
  constructor({ list, empty, api, live }) {
    this.list = list;
    this.empty = empty;
    this.api = api;
    this.jobs = new Map(); // job id -> job (as the API lists it, updated by events)
    this.tasks = new Map(); // task id -> {title, type, steps, step, ended}
    this.steps = {}; // task type -> number of steps, for the jobs read from the list
    this.dismissed = new Set(); // the keys of the failed (and done export) tasks the user closed
    this.downloads = new Map(); // export task id -> {url, name} once its export is read
    this.timer = null;
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
      const known = this.jobs.get(job.id);
      // A job ended by an event stays ended: the list may have been read before it ended.
      const status = known && FINISHED.has(known.status) ? known.status : job.status;
      this.jobs.set(job.id, { ...known, ...job, status });
      active.add(job.id);
    }
    // A job that left the active list ended while no event told us: show it done.
    for (const job of this.jobs.values()) {
      if (!active.has(job.id) && !FINISHED.has(job.status)) job.status = "completed";
    }
    const running = new Set();
    for (const task of tasks.results) {
      running.add(String(task.id));
      const known = this.tasks.get(String(task.id)) || {};
      this.tasks.set(String(task.id), {
        ...known,
        title: task.title || known.title,
        type: task.type,
        steps: this.steps[task.type] || known.steps,
        step: Math.max(known.step || 0, task.current_step || 0),
        listed: true,
      });
    }
    // A task listed before and no longer active has ended, whatever steps it skipped. (One
    // known by its events alone may have started after the list was read: it settles.)
    for (const [key, task] of this.tasks) if (task.listed && !running.has(key)) task.ended = true;
    this.render();
  }

  event(event) {
    const id = (event.payload && event.payload.job_id) || event.job_id;
    const job = jobFromEvent(this.jobs.get(id), event);
    if (!job || this.dismissed.has(job.task || `job-${job.id}`)) return;
    this.jobs.set(job.id, job);
    if (job.task && !this.tasks.has(job.task)) {
      this.tasks.set(job.task, { title: job.task_title, type: job.task_type, steps: job.steps_total });
    }
    this.render();
  }

  // Close a failed task's row: it does not come back (later events of its jobs are ignored).
  dismiss(key) {
    this.dismissed.add(key);
    for (const job of [...this.jobs.values()]) if ((job.task || `job-${job.id}`) === key) this.jobs.delete(job.id);
    this.tasks.delete(key);
    this.render();
  }

  render() {
    const now = Date.now();
    const { groups, expired, wake } = trayGroups([...this.jobs.values()], this.tasks, now);
    for (const id of expired) {
      const job = this.jobs.get(id);
      if (job && job.task) this.tasks.delete(job.task);
      this.jobs.delete(id);
    }
    for (const group of groups) if (group.sticky && group.finished && !group.failed) this.download(group.key);
    this.empty.hidden = groups.length > 0;
    this.list.replaceChildren(...groups.map((group) => this.row(group)));
    clearTimeout(this.timer);
    this.timer = wake === null ? null : setTimeout(() => this.render(), Math.max(50, wake - now + 20));
  }

  // A done export's file: read once, then the row shows its Download link.
  async download(key) {
    if (this.downloads.has(key)) return;
    this.downloads.set(key, null);
    try {
      const page = await this.api.exportsOfTask(key);
      const found = (page.results || []).find((e) => e.download_url);
      if (found) this.downloads.set(key, { url: found.download_url, name: found.file_name });
    } catch (error) {
      this.downloads.delete(key); // Read again at the next render.
      return;
    }
    this.render();
  }

  row(group) {
    const item = document.createElement("li");
    item.className = "cull-task";
    item.dataset.task = group.key;
    const title = document.createElement("div");
    title.className = "cull-task-title";
    title.textContent = group.title;
    title.title = group.title;
    const step = document.createElement("div");
    step.className = "cull-task-step";
    step.textContent = group.step;
    const bar = document.createElement("progress");
    bar.max = group.total || 1;
    bar.value = group.finished && !group.failed ? bar.max : Math.min(group.done, bar.max);
    bar.setAttribute("aria-label", group.label);
    const count = document.createElement("span");
    count.className = "cull-task-count";
    count.textContent = group.total ? `${group.done}/${group.total}` : "";
    item.classList.toggle("cull-task-failed", group.failed);
    item.classList.toggle("cull-task-done", group.finished && !group.failed);
    item.append(title, step, bar, count);
    const file = group.sticky && group.finished && !group.failed ? this.downloads.get(group.key) : null;
    if (file) {
      const link = document.createElement("a");
      link.className = "cull-task-download";
      link.href = file.url;
      link.setAttribute("download", file.name || "");
      link.textContent = "Download";
      item.append(link);
    }
    if (group.failed || (group.sticky && group.finished)) {
      const close = document.createElement("button");
      close.type = "button";
      close.className = "cull-task-close";
      close.textContent = "×";
      close.setAttribute("aria-label", `Dismiss ${group.title}`);
      close.addEventListener("click", () => this.dismiss(group.key));
      item.prepend(close);
    }
    return item;
  }
}
