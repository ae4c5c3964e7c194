// Bursts as stacks, the order of a sort, and the culling hints (pure functions, unit-tested in
// tests/js/stacks.test.mjs). A burst (SPEC §17) is the frames sharing ``burst``; the API gives
// each frame its burst's size (``burst_size``) and sharpest frame (``burst_sharpest``).

// The sorts the workspace offers: the API's ``ordering`` for each (docs/API.md, "Photos").
export const SORTS = {
  "": ["taken_at", "basename"],
  name: ["basename"],
  rating: ["-rating", "taken_at", "basename"],
  sharpness: ["-sharpness", "taken_at", "basename"],
};

// A photo's capture time as the camera's wall clock (the server orders by it).
function wall(iso) {
  return iso === null || iso === undefined ? null : iso.replace(/([+-]\d{2}:\d{2}|Z)$/, "");
}

// The API's order for ``ordering`` (a list such as ["-rating", "taken_at"]): missing values
// last whatever the direction, then the id.
export function comparator(ordering = SORTS[""]) {
  const keys = ordering.map((name) => ({ field: name.replace(/^-/, ""), desc: name.startsWith("-") }));
  return (a, b) => {
    for (const { field, desc } of keys) {
      let left = a[field];
      let right = b[field];
      if (field === "taken_at") [left, right] = [wall(left), wall(right)];
      const missingLeft = left === null || left === undefined;
      const missingRight = right === null || right === undefined;
      if (missingLeft !== missingRight) return missingLeft ? 1 : -1;
      if (missingLeft || left === right) continue;
      const order = left < right ? -1 : 1;
      return desc ? -order : order;
    }
    return a.id - b.id;
  };
}

// Whether ``photo`` is one frame of a burst of several.
export function inBurst(photo) {
  return photo.burst !== null && photo.burst !== undefined && (photo.burst_size || 0) > 1;
}

// The photos to show from ``photos`` (in list order): a burst not in ``expanded`` shows as
// its first frame only, the stack's cover. ``stacking`` false shows every frame.
export function visibleFrames(photos, { stacking = true, expanded = new Set() } = {}) {
  if (!stacking) return photos.slice();
  const covered = new Set();
  const shown = [];
  for (const photo of photos) {
    if (!inBurst(photo) || expanded.has(photo.burst)) {
      shown.push(photo);
      continue;
    }
    if (covered.has(photo.burst)) continue;
    covered.add(photo.burst);
    shown.push(photo);
  }
  return shown;
}

// A soft frame is well below the sharpness it is compared with: its burst's sharpest loaded
// frame, else (a photo alone) the median of the loaded photos that have a sharpness.
export const SOFT_RATIO = 0.35;

export function softFrames(photos) {
  const best = new Map();
  const values = [];
  for (const photo of photos) {
    if (typeof photo.sharpness !== "number") continue;
    values.push(photo.sharpness);
    if (inBurst(photo)) best.set(photo.burst, Math.max(best.get(photo.burst) || 0, photo.sharpness));
  }
  values.sort((a, b) => a - b);
  const median = values.length ? values[Math.floor(values.length / 2)] : 0;
  const soft = new Set();
  for (const photo of photos) {
    if (typeof photo.sharpness !== "number") continue;
    const reference = inBurst(photo) ? best.get(photo.burst) : median;
    if (reference > 0 && photo.sharpness < SOFT_RATIO * reference) soft.add(photo.id);
  }
  return soft;
}

// The hint badges of a photo: soft, sharpest of its burst, highlights or shadows clipped.
export function hintBadges(photo, { soft = new Set(), clippedFraction = 0.02 } = {}) {
  const list = [];
  if (inBurst(photo) && photo.burst_sharpest === photo.id) list.push({ key: "sharpest", text: "◎", title: "Sharpest frame of its burst" });
  if (soft.has(photo.id)) list.push({ key: "soft", text: "SOFT", title: "Soft: well below the sharpness of its burst (or of the photos shown)" });
  if ((photo.highlights_clipped || 0) > clippedFraction) {
    list.push({ key: "highlights", text: "HI", title: `Highlights clipped on ${Math.round(photo.highlights_clipped * 100)} % of the frame` });
  }
  if ((photo.shadows_clipped || 0) > clippedFraction) {
    list.push({ key: "shadows", text: "LO", title: `Shadows clipped on ${Math.round(photo.shadows_clipped * 100)} % of the frame` });
  }
  return list;
}
