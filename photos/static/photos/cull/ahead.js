// Pure: which photos the loupe decodes ahead, and which picture a photo shows at once.

// The positions around ``position`` (in a list of ``length`` photos) whose sharp images are
// fetched and decoded ahead: the next ``next`` and the previous ``previous``, nearest first,
// the next before the previous at the same distance.
export function aheadPositions(position, length, { next = 2, previous = 1 } = {}) {
  const positions = [];
  for (let distance = 1; distance <= Math.max(next, previous); distance += 1) {
    if (distance <= next && position + distance < length) positions.push(position + distance);
    if (distance <= previous && position - distance >= 0) positions.push(position - distance);
  }
  return positions;
}

// What a photo's pane shows the moment the photo comes up: the full-size image when zoomed
// and it is ready, else the preview when ready, else the thumbnail, else nothing. ``ready``
// means loaded (decoded ahead or not); the kind names what is shown.
export function firstPicture({ zoomed = false, fullReady = false, previewReady = false, thumb = false }) {
  if (zoomed && fullReady) return "full";
  if (previewReady) return "preview";
  if (thumb) return "thumbnail";
  return "none";
}
