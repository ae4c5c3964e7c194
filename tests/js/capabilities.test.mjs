// Unit tests of the workspace's role guard (photos/static/photos/cull/capabilities.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyCapabilities, guard, guardAll, may, refusal } from "../../photos/static/photos/cull/capabilities.js";

function fakeRoot(needs) {
  const elements = needs.map((action) => ({ dataset: { needs: action }, hidden: false }));
  return { elements, querySelectorAll: (selector) => (selector === "[data-needs]" ? elements : []) };
}

test("controls of actions the role may not take are hidden, the others shown", () => {
  const root = fakeRoot(["cull", "commit", "upload", "project_delete"]);
  root.elements[2].hidden = true;
  applyCapabilities(root, { cull: true, commit: false, upload: true });
  assert.deepEqual(root.elements.map((e) => e.hidden), [false, true, false, true]);
});

test("no capabilities at all hides every control", () => {
  const root = fakeRoot(["cull", "read"]);
  applyCapabilities(root, undefined);
  assert.deepEqual(root.elements.map((e) => e.hidden), [true, true]);
});

test("a guarded key says why instead of acting", () => {
  const said = [];
  let ran = 0;
  const context = { capabilities: { cull: false }, role: "viewer", say: (text, level) => said.push([text, level]) };
  guard(context, "cull", () => ran++)();
  assert.equal(ran, 0);
  assert.deepEqual(said, [["Your role (viewer) may not change keep flags, ratings, labels or tags.", "error"]]);
});

test("an allowed action is the function itself", () => {
  const fn = () => 1;
  assert.equal(guard({ capabilities: { cull: true }, role: "culler", say: () => {} }, "cull", fn), fn);
  assert.ok(may({ cull: true }, "cull"));
  assert.ok(!may({ cull: true }, "commit"));
});

test("guardAll guards every method and leaves the original object alone", () => {
  const said = [];
  const actions = { rate: () => "rated", undo: () => "undone" };
  const guarded = guardAll({ capabilities: {}, role: null, say: (text) => said.push(text) }, "cull", actions);
  guarded.rate(3);
  guarded.undo();
  assert.equal(actions.rate(), "rated");
  assert.equal(said.length, 2);
  assert.equal(said[0], refusal(null, "cull"));
  assert.match(said[0], /not a member of a studio/);
});
