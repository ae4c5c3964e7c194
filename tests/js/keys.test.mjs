// Unit tests of the workspace's keys (photos/static/photos/cull/keys.js): which action a key
// calls, and the keys that belong to something else. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { handleKey, viewKeys } from "../../photos/static/photos/cull/keys.js";

function press(key, { shiftKey = false, ctrlKey = false, target = null, inLoupe = false, dialogs = false, arrow = () => false } = {}) {
  const calls = [];
  const record = (name) => (...args) => calls.push([name, ...args]);
  const event = { key, shiftKey, ctrlKey, metaKey: false, altKey: false, target, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
  const actions = new Proxy({}, { get: (_, name) => record(name) });
  handleKey(event, {
    store: { photos: [{ id: 1 }, { id: 2 }], cursor: 0, clearSelection: record("clearSelection") },
    grid: { columns: 4 },
    loupe: { open: inLoupe, toggle: record("loupe"), arrow: (...args) => (calls.push(["arrow", ...args]), arrow(...args)) },
    actions,
    move: record("move"),
    selectAll: record("selectAll"),
    closeLoupe: record("closeLoupe"),
    askTags: record("askTags"),
    labelKeys: { 6: "red" },
    help: record("help"),
    zoom: record("zoom"),
    view: record("view"),
    swap: record("swap"),
    toggleStack: record("toggleStack"),
    dialogsOpen: () => dialogs,
  });
  return { calls, prevented: event.defaultPrevented };
}

test("culling keys call their actions", () => {
  assert.deepEqual(press("j").calls, [["toggleKeep", "jpg"]]);
  assert.deepEqual(press("R").calls, [["toggleKeep", "raw"]]);
  assert.deepEqual(press("k").calls, [["keepBoth", true]]);
  assert.deepEqual(press("x").calls, [["keepBoth", false]]);
  assert.deepEqual(press("z", { ctrlKey: true }).calls, [["undo"]]);
  assert.deepEqual(press("p").calls, [["keepBoth", true]]);
  assert.deepEqual(press("U").calls, [["unflag"]]);
  assert.deepEqual(press("3").calls, [["rate", 3]]);
  assert.deepEqual(press("6").calls, [["label", "red"]]);
  assert.deepEqual(press("L", { shiftKey: true }).calls, [["cycleLabel", -1]]);
  assert.equal(press("j").prevented, true);
});

test("arrows move by one or a row; in the loupe a row is one photo", () => {
  assert.deepEqual(press("ArrowDown").calls, [["move", 4, { extend: false }]]);
  assert.deepEqual(press("ArrowLeft", { shiftKey: true }).calls, [["move", -1, { extend: true }]]);
  assert.deepEqual(press("ArrowDown", { inLoupe: true }).calls, [["arrow", 4, true], ["move", 1, { extend: false }]]);
});

test("Z zooms, C compares, N surveys, S swaps in the loupe (in the grid: the stack); compare takes the arrows", () => {
  assert.deepEqual(press("z").calls, [["zoom"]]);
  assert.deepEqual(press("c").calls, [["view", "compare"]]);
  assert.deepEqual(press("N").calls, [["view", "survey"]]);
  assert.deepEqual(press("s", { inLoupe: true }).calls, [["swap"]]);
  assert.deepEqual(press("s").calls, [["toggleStack"]]);
  assert.deepEqual(press("ArrowRight", { inLoupe: true, arrow: () => true }).calls, [["arrow", 1, false]]);
});

test("Esc closes the loupe, else clears the selection", () => {
  assert.deepEqual(press("Escape", { inLoupe: true }).calls, [["closeLoupe"]]);
  assert.deepEqual(press("Escape").calls, [["clearSelection"]]);
});

test("keys typed into a field, with a dialog open, or the browser's own are left alone", () => {
  const input = { closest: (selector) => (selector.includes("input") ? {} : null) };
  assert.deepEqual(press("j", { target: input }).calls, []);
  assert.deepEqual(press("j", { dialogs: true }).calls, []);
  const plain = press("c", { ctrlKey: true });
  assert.deepEqual(plain.calls, []);
  assert.equal(plain.prevented, false);
  assert.deepEqual(press("a", { ctrlKey: true }).calls, [["selectAll"]]);
});

test("an unknown key is not swallowed", () => {
  assert.equal(press("q").prevented, false);
});

test("the view keys: Z opens the loupe to zoom, C and N switch a mode on and off, S opens the stack", () => {
  const calls = [];
  const loupe = {
    open: false,
    mode: "single",
    toggle: (...args) => (calls.push(["toggle", ...args]), (loupe.open = args[0])),
    toggleZoom: () => calls.push(["toggleZoom"]),
    setMode: (mode) => calls.push(["setMode", mode]),
    swap: () => calls.push(["swap"]),
  };
  const store = {
    photos: [{ id: 1, burst: "b1" }],
    cursor: 0,
    step: (...args) => calls.push(["step", ...args]),
    toggleStack: (burst) => calls.push(["toggleStack", burst]),
  };
  const keys = viewKeys(store, loupe);
  keys.zoom();
  keys.zoom();
  assert.deepEqual(calls.splice(0), [["toggle", true], ["toggleZoom"], ["toggleZoom"]]);
  keys.view("compare");
  loupe.mode = "compare";
  keys.view("compare");
  keys.closeLoupe();
  assert.deepEqual(calls.splice(0), [["toggle", true, "compare"], ["setMode", "single"], ["toggle", false]]);
  keys.move(2, { extend: true });
  keys.toggleStack();
  keys.swap();
  assert.deepEqual(calls.splice(0), [["step", 2, { extend: true }], ["toggleStack", "b1"], ["swap"]]);
  store.photos = [];
  keys.zoom(); // Nothing to zoom into.
  keys.toggleStack();
  assert.deepEqual(calls, []);
});
