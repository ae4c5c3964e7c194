// The pipeline dashboard's live refresh (templates/admin/jobs/dashboard.html): re-reads the
// snapshot as JSON when the event stream reports job events, and every few seconds (the lane
// counts of an operator cover every tenant, which no tenant's stream reports). The stream is
// read by the workspace's one event-stream client (live.js), loaded as an ES module.
import { JOB_EVENTS, Live } from "../photos/cull/live.js";

(function () {
  "use strict";
  var root = document.getElementById("pipeline-dashboard");
  var dataUrl = root.dataset.dataUrl;
  var pollMs = parseInt(root.dataset.pollMs, 10) || 5000;
  var live = document.getElementById("dash-live");
  var timer = null;
  var inFlight = false;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function jobLink(job) {
    return el("a", job.title || job.type, {href: job.url, title: "#" + job.id + " " + job.type});
  }

  function fillRows(tbody, jobs, columns, emptyText) {
    tbody.replaceChildren();
    if (!jobs.length) {
      var td = el("td", emptyText, {colspan: String(columns.length + 1), "class": "pl-muted"});
      tbody.appendChild(el("tr")).appendChild(td);
      return;
    }
    jobs.forEach(function (job) {
      var tr = el("tr");
      tr.appendChild(el("td")).appendChild(jobLink(job));
      columns.forEach(function (col) { tr.appendChild(el("td", col(job))); });
      tbody.appendChild(tr);
    });
  }

  function render(data) {
    data.lanes.forEach(function (lane) {
      var row = root.querySelector('tr[data-lane="' + lane.lane + '"]');
      if (!row) { return; }
      ["queued", "running", "stale", "failed_24h"].forEach(function (key) {
        row.querySelector('[data-field="' + key + '"]').textContent = lane[key];
      });
      var state = row.querySelector('[data-field="state"]');
      state.textContent = lane.paused ? "paused" : "running";
      state.className = lane.paused ? "pl-state-paused" : "pl-state-running";
      var pause = row.querySelector('form[data-action="pause"]');
      var resume = row.querySelector('form[data-action="resume"]');
      if (pause) { pause.hidden = lane.paused; }
      if (resume) { resume.hidden = !lane.paused; }
      var oldest = row.querySelector('[data-field="oldest"]');
      oldest.replaceChildren();
      var job = lane.oldest_waiting;
      if (job) {
        oldest.appendChild(jobLink(job));
        oldest.appendChild(document.createTextNode(
          " waiting " + job.age_display + (job.project ? " · " + job.project : "")));
      } else {
        oldest.appendChild(el("span", "none", {"class": "pl-muted"}));
      }
    });
    document.getElementById("dash-stale-count").textContent = data.stale.count;
    document.getElementById("dash-failed-count").textContent = data.failures_24h.count;
    fillRows(root.querySelector("#dash-stale tbody"), data.stale.jobs, [
      function (j) { return j.lane; },
      function (j) { return j.project || "–"; },
      function (j) { return j.heartbeat_age_display + " ago"; },
      function (j) { return j.attempts + "/" + j.max_attempts; }
    ], "No stale jobs.");
    fillRows(root.querySelector("#dash-failed tbody"), data.failures_24h.jobs, [
      function (j) { return j.lane; },
      function (j) { return j.project || "–"; },
      function (j) { return j.age_display; },
      function (j) { return j.error; }
    ], "No failures.");
    var updated = document.getElementById("dash-updated");
    updated.textContent = data.generated_at_display;
    updated.setAttribute("datetime", data.generated_at);
    updated.title = data.generated_at;
    root.dataset.refreshed = String(Date.now());
  }

  function refresh() {
    if (inFlight) { return; }
    inFlight = true;
    fetch(dataUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(render)
      .catch(function (err) { live.textContent = "refresh failed (" + err.message + "), retrying"; })
      .finally(function () { inFlight = false; });
  }

  // Coalesce bursts of events (a job reports progress per item) into one refresh.
  function soon() {
    if (timer) { return; }
    timer = setTimeout(function () { timer = null; refresh(); }, 300);
  }

  live.textContent = "polling every " + pollMs / 1000 + "s";
  if (window.EventSource && root.dataset.streamUrl) {
    var stream = new Live({
      url: root.dataset.streamUrl,
      pollMs: pollMs,
      types: JOB_EVENTS,
      onStatus: function (state) {
        live.textContent = state === "live"
          ? "event stream + poll every " + pollMs / 1000 + "s"
          : "polling every " + pollMs / 1000 + "s (event stream reconnecting)";
      }
    });
    stream.on(soon);
    stream.onPoll(refresh);
    stream.start();
  }
  setInterval(refresh, pollMs);
})();
