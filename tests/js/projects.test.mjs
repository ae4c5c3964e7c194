// Unit tests of the workspace's project list (photos/static/photos/cull/projects.js): the
// events that make, rename, archive and remove projects. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { projectsApply } from "../../photos/static/photos/cull/projects.js";

const list = () => [
  { id: 2, name: "Beach", folder: "Beach" },
  { id: 1, name: "Wedding", folder: "Wedding" },
];

test("a project made elsewhere joins the list in name order, once", () => {
  const projects = list();
  const made = { type: "project_discovered", project_id: 7, payload: { project_id: 7, name: "Alps", folder: "Alps", created: true } };
  assert.equal(projectsApply(projects, made), true);
  assert.deepEqual(projects.map((p) => p.name), ["Alps", "Beach", "Wedding"]);
  assert.equal(projectsApply(projects, made), false); // The echo of this tab's own create.
  assert.equal(projects.length, 3);
});

test("a rename changes the name and the order; a manifest event without a name changes nothing", () => {
  const projects = list();
  assert.equal(projectsApply(projects, { type: "manifest_changed", payload: { project_id: 1, old_name: "Wedding", name: "Anna & Tom" } }), true);
  assert.deepEqual(projects.map((p) => [p.id, p.name]), [[1, "Anna & Tom"], [2, "Beach"]]);
  assert.equal(projectsApply(projects, { type: "manifest_changed", payload: { project_id: 2, manifest: { uid: "x" } } }), false);
  // The rename of a project the list does not show (archived) adds nothing.
  assert.equal(projectsApply(projects, { type: "manifest_changed", payload: { project_id: 9, name: "Old" } }), false);
  assert.equal(projects.length, 2);
});

test("archived and removed projects leave the list; unknown ids and other events change nothing", () => {
  const projects = list();
  assert.equal(projectsApply(projects, { type: "project_archived", project_id: 2, payload: { project_id: 2, reason: "" } }), true);
  assert.deepEqual(projects.map((p) => p.id), [1]);
  assert.equal(projectsApply(projects, { type: "project_removed", payload: { project_id: 2 } }), false);
  assert.equal(projectsApply(projects, { type: "item", payload: { project_id: 1, name: "x" } }), false);
  assert.equal(projectsApply(projects, { type: "project_removed", payload: { project_id: 1 } }), true);
  assert.deepEqual(projects, []);
});
