// Keyboard focus in the workspace's modal layers (the loupe, the `?` list, the confirmation
// and input dialogs). While one is open, Tab and Shift+Tab wrap inside it; when it closes,
// focus goes back to the control that had it before (the grid, whose cursor names the tile, or
// the button that opened it).

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "summary",
  '[tabindex]:not([tabindex="-1"])',
].join(", ");

const layers = []; // Open layers, the topmost last: {layer, opener, fallback, isolated}.

export function focusables(container) {
  return [...container.querySelectorAll(FOCUSABLE)].filter(
    (el) => !el.closest("[hidden], [inert]") && el.getClientRects().length > 0,
  );
}

// Browsers let Tab leave a modal layer for their own toolbar (Chromium, Firefox); wrap instead.
function wrapTab(event) {
  const top = layers[layers.length - 1];
  if (!top || event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) return;
  const container = top.layer;
  const items = focusables(container);
  const active = document.activeElement;
  const inside = container.contains(active);
  if (!items.length) {
    event.preventDefault();
    container.focus();
    return;
  }
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && (!inside || active === first || active === container)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (!inside || active === last)) {
    event.preventDefault();
    first.focus();
  }
}
document.addEventListener("keydown", wrapTab, true);

function usable(element) {
  return Boolean(
    element && element !== document.body && element.isConnected && element.getClientRects().length && !element.closest("[inert], [hidden]"),
  );
}

// Everything outside ``layer`` (except the elements in ``keep``, such as the live messages and
// the dialogs that may open above it) becomes inert: no focus, no clicks, hidden from screen
// readers, as aria-modal promises them.
function isolate(layer, keep) {
  const made = [];
  for (let node = layer; node.parentElement && node !== document.body; node = node.parentElement) {
    for (const sibling of node.parentElement.children) {
      if (sibling === node || sibling.inert || keep.includes(sibling) || sibling.matches("script, template, dialog")) continue;
      sibling.inert = true;
      made.push(sibling);
    }
  }
  return made;
}

// Call once the layer is shown. ``modal`` (a div that plays a dialog) isolates the rest of the
// page; a native <dialog> opened with showModal() does that itself.
// ``opener``: the element that had the focus before the layer took it.
export function layerOpened(layer, { opener, fallback = null, modal = false, keep = [] }) {
  if (layers.some((entry) => entry.layer === layer)) return;
  layers.push({ layer, opener, fallback, isolated: modal ? isolate(layer, keep) : [] });
}

// Call once the layer is hidden: focus returns to its opener, else to ``fallback``.
export function layerClosed(layer) {
  const at = layers.findIndex((entry) => entry.layer === layer);
  if (at < 0) return;
  const [entry] = layers.splice(at, 1);
  for (const element of entry.isolated) element.inert = false;
  const active = document.activeElement;
  // Leave the focus alone when something else already took it on purpose.
  if (active && active !== document.body && !layer.contains(active) && usable(active)) return;
  const target = usable(entry.opener) ? entry.opener : entry.fallback;
  if (target) target.focus({ preventScroll: true });
}

// showModal() with the same bookkeeping: the opener gets the focus back on close, however the
// dialog closes (a button, Esc, the form's method=dialog).
export function showModal(dialog, { fallback = null } = {}) {
  const opener = document.activeElement;
  dialog.showModal();
  layerOpened(dialog, { opener, fallback });
  dialog.addEventListener("close", () => layerClosed(dialog), { once: true });
}
