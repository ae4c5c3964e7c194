// The one event-stream client (SPEC §10): the tenant's Server-Sent Events, resumed from the
// last event id after a drop, with polling as the fallback while the stream is not open.
// The workspace (tray, tiles, pending summary) and the pipeline dashboard both use it.

export const JOB_EVENTS = ["job_queued", "job_started", "job_progress", "job_completed", "job_failed", "job_canceled"];
export const PHOTO_EVENTS = ["item", "item_removed", "item_moved", "pending_changes", "manifest_changed"];
// The project list's (projects.js): made, archived, removed; a rename is a manifest_changed.
export const PROJECT_EVENTS = ["project_discovered", "project_archived", "project_removed"];
const RECONNECT_MS = 1500;

export class Live {
  // ``lastEventId``: where the stream starts (the bootstrap's), or null for "from now".
  // ``types``: the event types listened to. ``onStatus(state)``: "live", "reconnecting".
  constructor({ url, lastEventId = null, pollMs = 5000, types = [...JOB_EVENTS, ...PHOTO_EVENTS, ...PROJECT_EVENTS], onStatus = () => {} }) {
    this.url = url;
    this.lastEventId = lastEventId;
    this.pollMs = pollMs;
    this.types = types;
    this.onStatus = onStatus;
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

  get open() {
    return Boolean(this.source && this.source.readyState === EventSource.OPEN);
  }

  start() {
    this.connect();
    // Fallback: while the stream is not open (a proxy that buffers, a dropped connection
    // being retried), poll the state the stream would have told.
    setInterval(() => {
      if (!this.open) this.poll();
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
    const resume = this.lastEventId === null ? "" : `${this.url.includes("?") ? "&" : "?"}last_event_id=${this.lastEventId}`;
    const source = new EventSource(`${this.url}${resume}`, { withCredentials: true });
    this.source = source;
    source.onopen = () => this.onStatus("live");
    source.onerror = () => {
      source.close();
      this.onStatus("reconnecting");
      this.retryTimer = setTimeout(() => this.connect(), RECONNECT_MS);
      this.poll();
    };
    for (const type of this.types) {
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
      this.lastEventId = Math.max(this.lastEventId || 0, id);
    }
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    for (const fn of this.handlers) fn(event);
  }
}

// The workspace's indicator of the stream's state.
export function showStatus(indicator) {
  return (state) => {
    indicator.dataset.state = state;
    indicator.textContent = state === "live" ? "● live" : state === "reconnecting" ? "○ reconnecting" : "○ polling";
  };
}
