// Unit tests of the tray's grouping (photos/static/photos/cull/tray.js) and the pending
// summary (pending.js): what events make of the rows. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { pendingText } from "../../photos/static/photos/cull/pending.js";
import { jobFromEvent, trayGroups } from "../../photos/static/photos/cull/tray.js";

const queued = (id, step, extra = {}) => ({
  type: "job_queued",
  payload: { job_id: id, task_id: "t1", task_type: "photos_commit", task_title: "Committing changes in Iceland", type: `step${step}`, step_index: step, steps_total: 3, status: "queued", progress: { done: 0, total: 4 }, ...extra },
});
const event = (type, id, extra = {}) => ({ type, payload: { job_id: id, ...extra } });

test("a job event alone gives the row its task's title, its step of the total and its progress", () => {
  const job = jobFromEvent(undefined, queued(7, 1));
  const { groups } = trayGroups([job], new Map(), 1000);
  assert.deepEqual(groups, [{ key: "t1", title: "Committing changes in Iceland", step: "step 2/3 · running", done: 0, total: 4, label: "Committing changes in Iceland: progress", finished: false, failed: false }]);
});

test("the first step of a task not started yet is queued; job type names are never shown", () => {
  const { groups } = trayGroups([jobFromEvent(undefined, queued(7, 0))], new Map(), 1000);
  assert.equal(groups[0].step, "step 1/3 · queued");
  assert.doesNotMatch(JSON.stringify(groups), /step0|photos_commit/);
});

test("a job of no known title reads as words", () => {
  const job = { id: 3, task: null, type: "folder_discovery", status: "queued" };
  const { groups } = trayGroups([job], new Map(), 1000);
  assert.equal(groups[0].title, "Folder discovery");
  assert.equal(groups[0].step, "queued"); // One step: no step count.
});

test("progress and the failure of a job update the same row", () => {
  let job = jobFromEvent(undefined, queued(7, 0));
  job = jobFromEvent(job, event("job_progress", 7, { status: "running", progress: { done: 3, total: 4 } }));
  assert.equal(job.step_index, 0);
  assert.equal(job.progress_done, 3);
  job = jobFromEvent(job, event("job_failed", 7));
  const { groups } = trayGroups([job], new Map(), 1000);
  assert.equal(groups[0].failed, true);
  assert.equal(groups[0].step, "step 1/3 · failed");
});

test("a late event of an ended job does not make it run again; a retry does", () => {
  let job = jobFromEvent(undefined, queued(7, 0));
  job = jobFromEvent(job, event("job_completed", 7, { progress: { done: 4, total: 4 } }));
  job = jobFromEvent(job, event("job_progress", 7, { status: "running", progress: { done: 2, total: 4 } }));
  assert.equal(job.status, "completed");
  assert.equal(job.progress_done, 4);
  job = jobFromEvent(job, event("job_failed", 7));
  job = jobFromEvent(job, event("job_queued", 7, { status: "queued" }));
  assert.equal(job.status, "queued");
});

test("the jobs of one task are one row at its latest step, whatever order their events come in", () => {
  const first = jobFromEvent(undefined, queued(1, 0));
  const second = jobFromEvent(undefined, queued(2, 1));
  const late = jobFromEvent(first, event("job_progress", 1, { status: "running", progress: { done: 1, total: 4 } }));
  const other = { id: 3, task: null, type: "thumbs", status: "queued" };
  const { groups } = trayGroups([late, second, other], new Map(), 1000);
  assert.deepEqual(groups.map((g) => g.key), ["t1", "job-3"]);
  assert.equal(groups[0].step, "step 2/3 · running");
});

test("a task between two steps stays running, not done then running again", () => {
  // A move: its first step's job ends, the next step's job is queued by the same transaction.
  const first = jobFromEvent(jobFromEvent(undefined, queued(1, 0)), event("job_completed", 1));
  let shown = trayGroups([first], new Map(), 1000).groups[0];
  assert.equal(shown.finished, false);
  assert.equal(shown.step, "step 1/3 · running");
  const second = jobFromEvent(undefined, queued(2, 1));
  shown = trayGroups([first, second], new Map(), 1100).groups[0];
  assert.equal(shown.step, "step 2/3 · running");
  const third = jobFromEvent(jobFromEvent(undefined, queued(3, 2)), event("job_completed", 3));
  const ended = jobFromEvent(second, event("job_completed", 2));
  shown = trayGroups([first, ended, third], new Map(), 1200).groups[0];
  assert.deepEqual([shown.finished, shown.step], [true, "done"]);
});

test("a task whose remaining steps were skipped shows done once it settled", () => {
  const only = jobFromEvent(jobFromEvent(undefined, queued(1, 0)), event("job_completed", 1));
  const settling = trayGroups([only], new Map(), 1000, { settleMs: 500 });
  assert.equal(settling.groups[0].finished, false);
  assert.equal(settling.wake, 1500);
  assert.equal(trayGroups([only], new Map(), 1500, { settleMs: 500 }).groups[0].finished, true);
  // The API says the task ended: done at once.
  const other = jobFromEvent(jobFromEvent(undefined, queued(2, 0, { task_id: "t2" })), event("job_completed", 2));
  assert.equal(trayGroups([other], new Map([["t2", { ended: true }]]), 1000).groups[0].finished, true);
});

test("a completed task leaves after a few seconds; a failed one stays", () => {
  const job = jobFromEvent(jobFromEvent(undefined, queued(1, 2)), event("job_completed", 1));
  const shown = trayGroups([job], new Map(), 1000, { keepMs: 500 });
  assert.equal(shown.groups[0].finished, true);
  assert.equal(shown.wake, 1500);
  assert.equal(job.finishedAt, 1000);
  assert.deepEqual(trayGroups([job], new Map(), 1600, { keepMs: 500 }), { groups: [], expired: [1], wake: null });
  const failed = jobFromEvent(jobFromEvent(undefined, queued(2, 0)), event("job_failed", 2));
  const kept = trayGroups([failed], new Map(), 1000 + 3_600_000, { keepMs: 500 });
  assert.deepEqual([kept.groups[0].failed, kept.expired, kept.wake], [true, [], null]);
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
