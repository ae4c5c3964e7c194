// Unit tests of the workspace's buttons (photos/static/photos/cull/actions.js): which action
// each button of the page calls. Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

// actions.js imports dialogs.js and focus.js, which listens on the document when loaded.
globalThis.document = { addEventListener() {} };
const { buttonActions } = await import("../../photos/static/photos/cull/actions.js");

const TEMPLATE = new URL("../../templates/admin/photos/cull.html", import.meta.url);

function recorded() {
  const calls = [];
  const actions = new Proxy({}, { get: (_, name) => (...args) => calls.push([name, ...args]) });
  return { calls, actions };
}

test("every button of the workspace page has an action", () => {
  const names = [...readFileSync(TEMPLATE, "utf8").matchAll(/data-action="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(names.length > 10);
  const buttons = buttonActions(recorded().actions, { loupe: () => {} });
  for (const name of names) assert.equal(typeof buttons[name], "function", name);
});

test("buttons call the actions the keys call, with their arguments", () => {
  const { calls, actions } = recorded();
  const buttons = buttonActions(actions);
  for (const name of ["keep-jpg", "keep-raw", "keep-both", "discard", "make-public", "tag-remove", "undo"]) buttons[name]();
  assert.deepEqual(calls, [["toggleKeep", "jpg"], ["toggleKeep", "raw"], ["keepBoth", true], ["keepBoth", false], ["visibility", "public"], ["askTags", false], ["undo"]]);
  assert.equal(buttonActions(actions, { commit: "mine" }).commit, "mine");
});
