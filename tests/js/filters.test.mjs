// Unit tests of the workspace's filters (photos/static/photos/cull/filters.js): the URL and the
// API query of a filter. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { filterFromUrl, filterKnownProjects, filterToApi, filterToUrl, projectsSummary } from "../../photos/static/photos/cull/filters.js";

test("a filter survives the URL both ways", () => {
  const filter = { projects: ["3", "5"], state: "pending", rating_min: "2", tags: "sky" };
  assert.equal(filterToUrl(filter), "?projects=3%2C5&state=pending&rating_min=2&tags=sky");
  assert.deepEqual(filterFromUrl(filterToUrl(filter)), filter);
});

test("one project is ?project=, no filter is an empty query", () => {
  assert.equal(filterToUrl({ projects: ["4"] }), "?project=4");
  assert.equal(filterToUrl({ projects: [] }), "");
  assert.deepEqual(filterFromUrl("?project=4&projects=4,6"), { projects: ["4", "6"] });
});

test("states map onto the API's pending and keep_mismatch, dates onto whole days", () => {
  assert.deepEqual(filterToApi({ projects: [], state: "kept" }), { pending: "false" });
  assert.deepEqual(filterToApi({ projects: [], state: "pending" }), { pending: "true" });
  assert.deepEqual(filterToApi({ projects: [], state: "mismatch" }), { keep_mismatch: "true" });
  assert.deepEqual(filterToApi({ projects: ["1", "2"], taken_at_after: "2026-01-02", taken_at_before: "2026-01-03" }), {
    projects: "1,2",
    taken_at_after: "2026-01-02T00:00:00",
    taken_at_before: "2026-01-03T23:59:59",
  });
});

test("unknown URL parameters are not taken into the filter", () => {
  assert.deepEqual(filterFromUrl("?evil=1&label=red"), { projects: [], label: "red" });
});

test("the sort and the less common filters reach the API's query", () => {
  const filter = { projects: [], sort: "sharpness", lens: "56mm", iso_min: "800", rating: "0", clipped: "true", in_burst: "false" };
  assert.deepEqual(filterToApi(filter), {
    ordering: "-sharpness,taken_at,basename",
    lens: "56mm",
    iso_min: "800",
    rating: "0",
    clipped: "true",
    in_burst: "false",
  });
  assert.deepEqual(filterFromUrl(filterToUrl(filter)), filter);
  assert.deepEqual(filterToApi({ projects: [], sort: "bogus" }), {});
});

test("the project picker's summary names the projects shown", () => {
  const name = (id) => ({ 3: "Beach", 5: "Wedding" })[id] || `#${id}`;
  assert.equal(projectsSummary({ projects: [] }, name), "All projects");
  assert.equal(projectsSummary({ projects: ["5", "3", "9"] }, name), "Wedding, Beach, #9");
});

test("a project gone from the list leaves the filter, the rest of the filter kept", () => {
  const filter = { projects: ["3", "5"], state: "pending" };
  assert.equal(filterKnownProjects(filter, new Set(["3", "5", "7"])), null);
  assert.deepEqual(filterKnownProjects(filter, new Set(["5"])), { projects: ["5"], state: "pending" });
  assert.deepEqual(filterKnownProjects(filter, new Set()), { projects: [], state: "pending" });
  assert.deepEqual(filter.projects, ["3", "5"]); // Not changed in place.
});
