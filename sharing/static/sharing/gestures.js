// What a swipe or a key means in the gallery's loupe: -1 previous, 1 next, 0 nothing.

// A horizontal swipe: long enough, more across than down, and quick.
export function swipeStep({ dx, dy, ms }, { minDistance = 40, maxMs = 800 } = {}) {
  if (Math.abs(dx) < minDistance || Math.abs(dx) < Math.abs(dy) * 1.5 || ms > maxMs) return 0;
  return dx < 0 ? 1 : -1;
}

export function keyStep(key) {
  return { ArrowLeft: -1, ArrowRight: 1, PageUp: -1, PageDown: 1 }[key] || 0;
}

// Follows one pointer from down to up on ``element`` and calls ``onStep(±1)`` for a swipe.
export function watchSwipes(element, onStep) {
  let start = null;
  element.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse") return;
    start = { x: event.clientX, y: event.clientY, t: performance.now(), id: event.pointerId };
  });
  const end = (event) => {
    if (!start || event.pointerId !== start.id) return;
    const step = swipeStep({ dx: event.clientX - start.x, dy: event.clientY - start.y, ms: performance.now() - start.t });
    start = null;
    if (step) onStep(step);
  };
  element.addEventListener("pointerup", end);
  element.addEventListener("pointercancel", () => {
    start = null;
  });
}
