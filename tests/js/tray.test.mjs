// Unit tests of the tray's grouping (photos/static/photos/cull/tray.js) and the pending
// summary (pending.js): what events make of the rows. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { pendingText } from "../../photos/static/photos/cull/pending.js";
import { jobFromEvent, trayGroups } from "../../photos/static/photos/cull/tray.js";

const queued = (id, step, extra = {}) => ({
  type: "job_queued",
  payload: { job_id: id, task_id: "t1", task_type: "photos_commit", type: `step${step}`, step_index: step, steps_total: 3, status: "queued", progress: { done: 0, total: 4 }, ...extra },
});

test("a job event alone gives the row its task, its step of the total and its progress", () => {
  const job = jobFromEvent(undefined, queued(7, 1));
  const { groups } = trayGroups([job], new Map(), 1000);
  assert.deepEqual(groups, [{ key: "t1", title: "photos_commit", step: "step 2/3: step1 · queued", done: 0, total: 4, label: "step1 progress", finished: false, failed: false }]);
});

test("progress and the end of a job update the same row", () => {
  let job = jobFromEvent(undefined, queued(7, 0));
  job = jobFromEvent(job, { type: "job_progress", payload: { job_id: 7, status: "running", progress: { done: 3, total: 4 } } });
  assert.equal(job.step_index, 0);
  assert.equal(job.progress_done, 3);
  job = jobFromEvent(job, { type: "job_failed", payload: { job_id: 7 } });
  const { groups } = trayGroups([job], new Map(), 1000);
  assert.equal(groups[0].failed, true);
  assert.equal(groups[0].step, "step 1/3: step0 · failed");
});

test("the jobs of one task are one row showing its running step", () => {
  const done = { ...jobFromEvent(undefined, queued(1, 0)), status: "completed" };
  const running = { ...jobFromEvent(undefined, queued(2, 1)), status: "running" };
  const other = { id: 3, task: null, type: "thumbs", status: "queued" };
  const { groups } = trayGroups([running, done, other], new Map(), 1000);
  assert.deepEqual(groups.map((g) => g.key), ["t1", "job-3"]);
  assert.equal(groups[0].step, "step 2/3: step1 · running");
  assert.equal(groups[1].step, "thumbs · queued"); // No step count known: none shown.
});

test("a finished task stays a while, then expires", () => {
  const job = { ...jobFromEvent(undefined, queued(1, 2)), status: "completed" };
  assert.equal(trayGroups([job], new Map(), 1000, 500).groups[0].finished, true);
  assert.equal(job.finishedAt, 1000);
  const later = trayGroups([job], new Map(), 1600, 500);
  assert.deepEqual(later, { groups: [], expired: [1] });
});

test("other events are not jobs", () => {
  assert.equal(jobFromEvent(undefined, { type: "item", payload: { photo_id: 1 } }), null);
  assert.equal(jobFromEvent(undefined, { type: "job_queued", payload: {} }), null);
});

test("the pending summary adds the shown projects' totals", () => {
  const byProject = new Map([
    [1, { project_id: 1, name: "Iceland", jpg: 2, raw: 1 }],
    [2, { project_id: 2, name: "Oslo", jpg: 0, raw: 0 }],
    [3, { project_id: 3, name: "Rome", jpg: 1, raw: 0 }],
  ]);
  assert.deepEqual(pendingText(byProject, []), { text: "To trash: 3 JPG, 1 RAW", title: "Iceland: 2 JPG, 1 RAW\nRome: 1 JPG, 0 RAW" });
  assert.equal(pendingText(byProject, ["2"]).text, "Nothing to trash");
});
