// Unit tests of the workspace's export pieces: the dialog's body (exports.js ``exportBody``)
// and the tray's done export row, which stays with its Download link (tray.js). Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { exportBody } from "../../photos/static/photos/cull/exports.js";
import { jobFromEvent, trayGroups } from "../../photos/static/photos/cull/tray.js";

test("an originals export sends the kind and the template only", () => {
  assert.deepEqual(exportBody({ kind: "originals", longEdge: "2048", quality: "90", watermark: "x", template: "{date}_{seq}" }), { kind: "originals", name_template: "{date}_{seq}" });
});

test("a JPEG export sends its numbers, the watermark when given, and {basename} for an empty template", () => {
  assert.deepEqual(exportBody({ kind: "jpeg", longEdge: "1600", quality: "80", watermark: "  © Acme ", template: " " }), { kind: "jpeg", name_template: "{basename}", long_edge: 1600, quality: 80, watermark: "© Acme" });
  assert.equal(exportBody({ kind: "jpeg", longEdge: "big", quality: "80" }), null);
});

const exportJob = (status) => jobFromEvent(undefined, { type: `job_${status}`, payload: { job_id: 5, task_id: "t9", task_type: "export", task_title: "Exporting 3 photos", type: "export_files", step_index: 0, steps_total: 1, status, progress: { done: 3, total: 3 } } });

test("a done export stays in the tray, marked sticky, long after other tasks leave", () => {
  const job = exportJob("completed");
  job.finishedAt = 1000;
  const { groups, expired } = trayGroups([job], new Map(), 1000 + 60_000);
  assert.deepEqual(expired, []);
  assert.equal(groups.length, 1);
  assert.equal(groups[0].sticky, true);
  assert.equal(groups[0].finished, true);
  assert.equal(groups[0].title, "Exporting 3 photos");
});

test("other done tasks still leave, and carry no sticky flag", () => {
  const job = { ...exportJob("completed"), task_type: "generate_derivatives", finishedAt: 1000 };
  const { groups, expired } = trayGroups([job], new Map(), 1000 + 60_000);
  assert.deepEqual(groups, []);
  assert.deepEqual(expired, [5]);
  const running = trayGroups([{ ...exportJob("running"), task_type: "image_move" }], new Map(), 0);
  assert.equal("sticky" in running.groups[0], false);
});
