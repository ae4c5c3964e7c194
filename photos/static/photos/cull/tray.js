// Live updates: the tenant's event stream (Server-Sent Events, resumed from the last event id
// after a drop) with polling as the fallback, and the tray of running tasks it feeds.

const JOB_EVENTS = ["job_queued", "job_started", "job_progress", "job_completed", "job_failed", "job_canceled"];
const PHOTO_EVENTS = ["item", "item_removed", "item_moved", "pending_changes", "manifest_changed"];
const FINISHED = new Set(["completed", "failed", "canceled"]);
const KEEP_FINISHED_MS = 8000;
const RECONNECT_MS = 1500;

export class Live {
  constructor({ url, lastEventId, pollMs, indicator }) {
    this.url = url;
    this.lastEventId = lastEventId || 0;
    this.pollMs = pollMs;
    this.indicator = indicator;
    this.handlers = new Set();
    this.pollers = new Set();
    this.seen = new Set();
  }

  on(fn) {
    this.handlers.add(fn);
  }

  onPoll(fn) {
    this.pollers.add(fn);
  }

  start() {
    this.connect();
    // Fallback: while the stream is not open (a proxy that buffers, a dropped connection
    // being retried), poll the state the stream would have told.
    setInterval(() => {
      if (!this.source || this.source.readyState !== EventSource.OPEN) this.poll();
    }, this.pollMs);
  }

  poll() {
    for (const fn of this.pollers) fn();
  }

  connect() {
    if (this.source) this.source.close();
    clearTimeout(this.retryTimer);
    // Reconnect ourselves, with our own position in the URL: it holds whatever the browser
    // did or did not keep of the last event id across drops.
    const source = new EventSource(`${this.url}?last_event_id=${this.lastEventId}`);
    this.source = source;
    source.onopen = () => this.status("live");
    source.onerror = () => {
      source.close();
      this.status("reconnecting");
      this.retryTimer = setTimeout(() => this.connect(), RECONNECT_MS);
      this.poll();
    };
    for (const type of [...JOB_EVENTS, ...PHOTO_EVENTS]) {
      source.addEventListener(type, (message) => this.deliver(message));
    }
  }

  deliver(message) {
    const id = Number(message.lastEventId);
    // Delivery is at least once: drop an event already handled.
    if (id && this.seen.has(id)) return;
    if (id) {
      this.seen.add(id);
      if (this.seen.size > 5000) this.seen = new Set([...this.seen].slice(-2500));
      this.lastEventId = Math.max(this.lastEventId, id);
    }
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    for (const fn of this.handlers) fn(event);
  }

  status(state) {
    if (!this.indicator) return;
    this.indicator.dataset.state = state;
    this.indicator.textContent = state === "live" ? "● live" : state === "reconnecting" ? "○ reconnecting" : "○ polling";
  }
}

export class Tray {
  constructor({ list, empty, api, live }) {
    this.list = list;
    this.empty = empty;
    this.api = api;
    this.jobs = new Map(); // job id -> job (as the API lists it, updated by events)
    this.tasks = new Map(); // task id -> {type, finishedAt}
    this.steps = {};
    this.timer = 0;
    live.on((event) => this.event(event));
    live.onPoll(() => this.refresh());
  }

  async start() {
    try {
      const definitions = await this.api.get("/api/tasks/definitions");
      for (const definition of [].concat(definitions.results || definitions)) {
        this.steps[definition.type || definition.name] = (definition.steps || []).length;
      }
    } catch (error) {
      // Step counts are a nicety: the tray works without them.
    }
    await this.refresh();
  }

  async refresh() {
    let jobs;
    let tasks;
    try {
      [jobs, tasks] = await Promise.all([
        this.api.activeJobs(),
        this.api.get("/api/tasks/?status=queued&status=running&page_size=200"),
      ]);
    } catch (error) {
      return;
    }
    const active = new Set();
    for (const job of jobs.results) {
      this.jobs.set(job.id, job);
      active.add(job.id);
    }
    // A job that left the active list has ended: read how (and its final progress).
    const ended = [...this.jobs.values()].filter((job) => !active.has(job.id) && !FINISHED.has(job.status));
    await Promise.all(
      ended.slice(0, 20).map(async (job) => {
        try {
          Object.assign(job, await this.api.get(`${this.api.paths.jobs}${job.id}/`));
        } catch (error) {
          job.status = "completed";
        }
      }),
    );
    for (const job of ended.slice(20)) job.status = "completed";
    for (const task of tasks.results) this.tasks.set(task.id, { ...this.tasks.get(task.id), type: task.type, status: task.status });
    this.render();
  }

  event(event) {
    if (!event.type || !event.type.startsWith("job_")) return;
    const payload = event.payload || {};
    const id = payload.job_id || event.job_id;
    if (!id) return;
    let job = this.jobs.get(id);
    if (!job) {
      job = { id, task: payload.task_id || null, type: payload.type, project: payload.project_id };
      // Events carry no step number: read the job once for it.
      this.api.get(`${this.api.paths.jobs}${id}/`).then(
        (full) => {
          job.step_index = full.step_index;
          if (!this.tasks.has(job.task) && full.task) this.refresh();
          this.render();
        },
        () => {},
      );
    }
    job.status = payload.status || event.type.slice(4);
    if (payload.progress) {
      job.progress_done = payload.progress.done;
      job.progress_total = payload.progress.total;
    }
    this.jobs.set(id, job);
    this.render();
    // A step that ends starts the next one: ask for the whole picture shortly after.
    if (event.type !== "job_progress") {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), 400);
    }
  }

  groups() {
    const groups = new Map();
    const now = Date.now();
    for (const job of this.jobs.values()) {
      if (FINISHED.has(job.status)) {
        job.finishedAt = job.finishedAt || now;
      }
      const key = job.task || `job-${job.id}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(job);
    }
    const shown = [];
    for (const [key, jobs] of groups) {
      jobs.sort((a, b) => (a.step_index || 0) - (b.step_index || 0) || a.id - b.id);
      const finished = jobs.every((job) => FINISHED.has(job.status));
      const lastFinish = Math.max(...jobs.map((job) => job.finishedAt || 0));
      if (finished && now - lastFinish > KEEP_FINISHED_MS) {
        for (const job of jobs) this.jobs.delete(job.id);
        continue;
      }
      shown.push({ key, jobs, finished });
    }
    return shown;
  }

  render() {
    const groups = this.groups();
    this.empty.hidden = groups.length > 0;
    this.list.replaceChildren(
      ...groups.map(({ key, jobs, finished }) => {
        const item = document.createElement("li");
        item.className = "cull-task";
        item.dataset.task = key;
        const task = this.tasks.get(key) || {};
        const current = jobs.find((job) => !FINISHED.has(job.status)) || jobs[jobs.length - 1];
        const failed = jobs.some((job) => job.status === "failed" || job.status === "canceled");
        const steps = task.type ? this.steps[task.type] : undefined;
        const stepNumber = (current.step_index || 0) + 1;
        const title = document.createElement("div");
        title.className = "cull-task-title";
        title.textContent = `${task.type || current.type}`;
        const step = document.createElement("div");
        step.className = "cull-task-step";
        step.textContent = `${steps ? `step ${stepNumber}/${steps}: ` : ""}${current.type} · ${finished ? (failed ? "failed" : "done") : current.status}`;
        const done = jobs.filter((job) => job === current).reduce((n, job) => n + (job.progress_done || 0), 0);
        const total = jobs.filter((job) => job === current).reduce((n, job) => n + (job.progress_total || 0), 0);
        const bar = document.createElement("progress");
        bar.max = total || 1;
        bar.value = finished ? bar.max : done;
        bar.setAttribute("aria-label", `${current.type} progress`);
        const count = document.createElement("span");
        count.className = "cull-task-count";
        count.textContent = total ? `${done}/${total}` : "";
        item.classList.toggle("cull-task-failed", failed);
        item.classList.toggle("cull-task-done", finished && !failed);
        item.append(title, step, bar, count);
        return item;
      }),
    );
  }
}
