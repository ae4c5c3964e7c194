// Photos changed elsewhere, from the event stream: the user's other tabs and devices, other
// users, the workers. An ``item`` event of this tab's own request (its ``request_id``, see
// api.js) is skipped: the change is shown already. A user's change names its fields and is
// applied from the event; a worker's (new derivatives, files found) is read from the API.

export class Sync {
  constructor({ api, store, inView }) {
    this.api = api;
    this.store = store;
    this.inView = inView; // (project id) => whether the filter shows the project
    this.stale = new Set();
    this.timer = 0;
    this.counts = { own: 0, applied: 0, fetched: 0 }; // What the browser tests look at.
  }

  onEvent(event) {
    const payload = event.payload || {};
    const id = event.photo_id || payload.photo_id;
    if (event.type === "item_removed") return this.store.remove([id]);
    if (event.type === "item_moved" && !this.inView(payload.to_project_id)) return this.store.remove([id]);
    if (event.type !== "item" && event.type !== "item_moved") return undefined;
    if (this.api.isOwn(event)) {
      this.counts.own += 1;
      return undefined;
    }
    if (!id || !(this.store.get(id) || this.inView(event.project_id))) return undefined;
    if (event.type === "item" && !event.job_id && this.store.applyRemote(id, payload)) {
      this.counts.applied += 1;
      return undefined;
    }
    this.stale.add(id);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetchStale(), 250);
    return undefined;
  }

  // Without the stream, thumbnails being made are noticed by asking for those photos again.
  poll() {
    const waiting = this.store.all.filter((p) => p.thumbnail_status === "pending");
    for (const photo of waiting.slice(0, 50)) this.stale.add(photo.id);
    if (this.stale.size) this.fetchStale();
  }

  async fetchStale() {
    const queue = [...this.stale].slice(0, 200);
    this.stale.clear();
    const worker = async () => {
      while (queue.length) {
        const id = queue.shift();
        try {
          this.store.upsert(await this.api.photo(id));
          this.counts.fetched += 1;
        } catch (error) {
          if (error.status === 404) this.store.remove([id]);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }
}
