// The client's picks back in the studio (SPEC §18): which photos a client hearted or commented
// through a share link, per link. Read from the API at the start (the links and their picks)
// and kept live from the event stream's ``share_pick`` events (written by the gallery). The
// grid badges picked photos, the loupe shows the comments, the filter bar lists the links,
// and each new pick is announced. Nothing here knows a URL (api.js does).

export const SHARE_EVENTS = ["share_pick", "share_created", "share_updated", "share_revoked"];
// The links whose picks are read at the start (the newest first).
const LINKS_READ = 20;

// ``picks``: Map photo id -> Map key -> pick, a pick being {share_id, photo_id, picked,
// comment, client_name}. A pick without a heart and without a comment is dropped. Returns
// whether anything changed.
export function pickApply(picks, pick) {
  const photoId = Number(pick.photo_id);
  const key = `${pick.share_id}|${pick.client_name || ""}`;
  const rows = picks.get(photoId) || new Map();
  const before = rows.get(key);
  const keep = Boolean(pick.picked) || Boolean(pick.comment);
  if (!keep) {
    if (!before) return false;
    rows.delete(key);
    if (!rows.size) picks.delete(photoId);
    return true;
  }
  const row = { share_id: Number(pick.share_id), photo_id: photoId, picked: Boolean(pick.picked), comment: pick.comment || "", client_name: pick.client_name || "" };
  if (before && before.picked === row.picked && before.comment === row.comment) return false;
  rows.set(key, row);
  picks.set(photoId, rows);
  return true;
}

// What the tile shows of a photo's picks: {hearts, comments, title} or null.
export function pickMark(rows, linkTitle = (id) => `link #${id}`) {
  if (!rows || !rows.size) return null;
  const all = [...rows.values()];
  const hearts = all.filter((p) => p.picked).length;
  const comments = all.filter((p) => p.comment).length;
  const who = all.map((p) => `${p.client_name || "client"}${p.picked ? " ♥" : ""} (${linkTitle(p.share_id)})`);
  return { hearts, comments, title: `Picked by the client: ${who.join(", ")}` };
}

// The message announcing one pick event.
export function pickText(pick, basename, linkTitle) {
  const who = pick.client_name || "The client";
  const where = linkTitle ? ` in “${linkTitle}”` : "";
  if (pick.picked && pick.comment) return `♥ ${who} picked ${basename}${where}: “${pick.comment}”`;
  if (pick.picked) return `♥ ${who} picked ${basename}${where}.`;
  if (pick.comment) return `${who} commented on ${basename}${where}: “${pick.comment}”`;
  return `${who} took back the heart on ${basename}${where}.`;
}

// What a pick event changes in a grid filtered on link ``shown``'s picks: "add" (the photo has
// a heart there), "remove" (its last heart there went), or null (another link, no such filter).
export function pickFilterChange(picks, pick, shown) {
  if (!pick || !shown || String(pick.share_id) !== String(shown)) return null;
  const rows = picks.get(Number(pick.photo_id));
  const hearted = rows && [...rows.values()].some((p) => p.picked && String(p.share_id) === String(shown));
  return hearted ? "add" : "remove";
}

export class Picks {
  // ``say(text)``: the workspace's messages; ``name(photoId)``: a photo's name if loaded;
  // ``onChange()``: the picks shown changed (the grid and loupe re-render).
  constructor({ api, say, name, onChange, select }) {
    this.api = api;
    this.say = say;
    this.name = name;
    this.onChange = onChange;
    this.select = select; // The filter bar's "Client picks" <select>, or null.
    this.picks = new Map();
    this.links = new Map(); // id -> {id, title, is_live, picks_count}
    this.counts = { events: 0 }; // What the browser tests look at.
  }

  title(id) {
    return this.links.get(Number(id))?.title || `link #${id}`;
  }

  mark(photoId) {
    return pickMark(this.picks.get(Number(photoId)), (id) => this.title(id));
  }

  // A signature of a photo's picks, for the grid's "has this tile changed" test.
  signature(photoId) {
    const mark = this.mark(photoId);
    return mark ? `${mark.hearts}/${mark.comments}/${mark.title}` : "";
  }

  // The picks and comments of a photo, for the loupe: [[term, text]].
  notes(photoId) {
    const rows = this.picks.get(Number(photoId));
    if (!rows) return [];
    return [...rows.values()].map((p) => [`${p.picked ? "♥ " : ""}${p.client_name || "Client"} (${this.title(p.share_id)})`, p.comment || (p.picked ? "picked" : "")]);
  }

  async load() {
    let links;
    try {
      links = await this.api.shares();
    } catch (error) {
      return; // Picks are extra: the workspace works without them.
    }
    for (const link of links.results || []) this.links.set(link.id, link);
    this.fillSelect();
    const withPicks = (links.results || []).filter((l) => l.picks_count || l.comments_count).slice(0, LINKS_READ);
    await Promise.all(
      withPicks.map(async (link) => {
        try {
          const rows = await this.api.sharePicks(link.id);
          for (const row of rows.results || rows) pickApply(this.picks, row);
        } catch (error) {
          // One link's picks unread: the others still show.
        }
      }),
    );
    this.onChange();
  }

  fillSelect() {
    if (!this.select) return;
    const chosen = this.select.value || new URLSearchParams(location.search).get("picked_by_share") || "";
    const options = [["", "Any"]];
    for (const link of this.links.values()) options.push([String(link.id), `${link.title}${link.is_live === false ? " (ended)" : ""}`]);
    this.select.replaceChildren(
      ...options.map(([value, text]) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = text;
        return option;
      }),
    );
    this.select.value = chosen;
  }

  linkAdded(link) {
    this.links.set(link.id, { ...this.links.get(link.id), ...link });
    this.fillSelect();
  }

  // With the grid filtered on link ``shown``'s picks, the photo of ``pick`` joins ``store``
  // (read from the API) or leaves it when its last heart there went.
  follow(pick, shown, store) {
    const change = pickFilterChange(this.picks, pick, shown);
    if (change === "add") this.api.photo(Number(pick.photo_id)).then((photo) => store.upsert(photo), () => {});
    else if (change === "remove") store.remove([Number(pick.photo_id)]);
  }

  onEvent(event) {
    const payload = event.payload || {};
    if (event.type === "share_created" || event.type === "share_updated" || event.type === "share_revoked") {
      const known = this.links.get(payload.share_id) || {};
      this.linkAdded({ ...known, id: payload.share_id, title: payload.title, is_live: event.type !== "share_revoked" && known.is_live !== false });
      return;
    }
    if (event.type !== "share_pick") return;
    this.counts.events += 1;
    if (!pickApply(this.picks, payload)) return;
    this.onChange(payload);
    // The photo may not be shown (another filter): its name is read to say which it is.
    const announce = (name) => this.say(pickText(payload, name, this.title(payload.share_id)));
    const known = this.name(payload.photo_id);
    if (known) announce(known);
    else this.api.photo(payload.photo_id).then((photo) => announce(photo.basename), () => announce(`photo #${payload.photo_id}`));
  }
}
