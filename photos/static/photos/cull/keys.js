// Keyboard first: every key acts on the selection, else the photo under the cursor (in
// compare and survey, the photo under focus). The `?` overlay
// (templates/admin/photos/cull.html) and docs/WORKSPACE.md list the same keys.

function closest(target, selector) {
  return Boolean(target && target.closest && target.closest(selector));
}

const VERTICAL = new Set(["ArrowUp", "ArrowDown"]);

// What handleKey's ``ctx`` takes for the cursor and the loupe: Z zooms (the loupe opened
// first), C and N switch compare and survey on and off, S swaps the compared photos (in the
// grid: opens or closes the stack under the cursor).
export function viewKeys(store, loupe) {
  const current = () => store.photos[store.cursor];
  return {
    move: (step, options) => store.step(step, options),
    closeLoupe: () => loupe.toggle(false),
    zoom: () => (loupe.open ? loupe.toggleZoom() : store.photos.length && (loupe.toggle(true), loupe.toggleZoom())),
    view: (mode) => (loupe.open && loupe.mode === mode ? loupe.setMode("single") : loupe.toggle(true, mode)),
    swap: () => loupe.swap(),
    toggleStack: () => current() && store.toggleStack(current().burst),
  };
}

export function handleKey(event, ctx) {
  const { store, grid, loupe, actions } = ctx;
  if (event.altKey || ctx.dialogsOpen()) return;
  const command = event.ctrlKey || event.metaKey;
  const key = event.key;
  const inLoupe = loupe.open;
  // Keys typed into the filters and buttons belong to them, except Esc to get back out. The
  // loupe is a <dialog> too, but its keys are the workspace's.
  if (closest(event.target, "input, select, textarea, [contenteditable], dialog:not(#cull-loupe)")) {
    if (key === "Escape") document.getElementById("cull-grid").focus();
    return;
  }
  // Space and Enter on a button or link press it; the other keys still cull.
  if ((key === " " || key === "Enter") && closest(event.target, "button, a, summary, label")) return;
  if (command && key.toLowerCase() === "a") {
    event.preventDefault();
    ctx.selectAll();
    return;
  }
  if (command && key.toLowerCase() === "z" && !event.shiftKey) {
    event.preventDefault();
    actions.undo();
    return;
  }
  if (command) return; // Leave the browser's own shortcuts alone.

  const extend = event.shiftKey;
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -grid.columns, ArrowDown: grid.columns }[key];
  if (step !== undefined) {
    event.preventDefault();
    // Compare: the right photo changes; survey: the focus moves.
    if (inLoupe && loupe.arrow && loupe.arrow(step, VERTICAL.has(key))) return;
    ctx.move(inLoupe && Math.abs(step) > 1 ? Math.sign(step) : step, { extend });
    return;
  }
  let handled = true;
  switch (key) {
    case " ":
    case "Enter":
      if (inLoupe) ctx.closeLoupe();
      else if (store.photos.length) loupe.toggle(true);
      break;
    case "Escape":
      if (inLoupe) ctx.closeLoupe();
      else store.clearSelection();
      break;
    case "?":
      ctx.help();
      break;
    case "Home":
      ctx.move(-store.cursor);
      break;
    case "End":
      ctx.move(store.photos.length - 1 - store.cursor);
      break;
    default:
      handled = false;
  }
  if (!handled) {
    const lower = key.toLowerCase();
    handled = true;
    if (lower === "j") actions.toggleKeep("jpg");
    else if (lower === "r") actions.toggleKeep("raw");
    else if (lower === "k" || lower === "p") actions.keepBoth(true); // P: Lightroom's pick.
    else if (lower === "x") actions.keepBoth(false);
    else if (lower === "u") actions.unflag(); // Lightroom's unflag: back to what is on disk.
    else if (lower === "z") ctx.zoom();
    else if (lower === "c") ctx.view("compare");
    else if (lower === "n") ctx.view("survey");
    else if (lower === "s") (inLoupe ? ctx.swap() : ctx.toggleStack()); // Lightroom's S: the stack.
    else if (lower === "t") ctx.askTags(true);
    else if (lower === "l") actions.cycleLabel(event.shiftKey ? -1 : 1);
    else if (/^[0-5]$/.test(key)) actions.rate(Number(key));
    // Lightroom's 6–9 (ctx.labelKeys, from the page); purple has no number key there either.
    else if (ctx.labelKeys[key]) actions.label(ctx.labelKeys[key]);
    else handled = false;
  }
  if (handled) event.preventDefault();
}
