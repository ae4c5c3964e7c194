// Unit tests of the client's picks in the workspace (photos/static/photos/cull/picks.js): how
// ``share_pick`` events and the API's pick rows make the badges, notes and messages.
// Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { Picks, pickApply, pickFilterChange, pickMark, pickText } from "../../photos/static/photos/cull/picks.js";

const pick = (extra = {}) => ({ share_id: 3, photo_id: 10, picked: true, comment: "", client_name: "Anna", ...extra });

test("a heart adds a pick; the same again changes nothing; taking it back removes it", () => {
  const picks = new Map();
  assert.equal(pickApply(picks, pick()), true);
  assert.equal(pickApply(picks, pick()), false);
  assert.equal(pickMark(picks.get(10)).hearts, 1);
  assert.equal(pickApply(picks, pick({ picked: false })), true);
  assert.equal(picks.has(10), false);
  assert.equal(pickMark(picks.get(10)), null);
});

test("a comment without a heart stays as a note; two clients of a link count apart", () => {
  const picks = new Map();
  pickApply(picks, pick({ picked: false, comment: "Too dark" }));
  pickApply(picks, pick({ client_name: "Ben" }));
  const mark = pickMark(picks.get(10), (id) => `Link ${id}`);
  assert.deepEqual([mark.hearts, mark.comments], [1, 1]);
  assert.match(mark.title, /Anna \(Link 3\), Ben ♥ \(Link 3\)/);
});

test("ids as strings (from the API or events) land on the same photo", () => {
  const picks = new Map();
  pickApply(picks, pick({ photo_id: "10", share_id: "3" }));
  pickApply(picks, pick({ client_name: "Ben" }));
  assert.equal(picks.get(10).size, 2);
});

test("each kind of pick reads as a sentence", () => {
  assert.equal(pickText(pick(), "IMG_1", "Selects"), "♥ Anna picked IMG_1 in “Selects”.");
  assert.equal(pickText(pick({ comment: "Yes!" }), "IMG_1", "Selects"), "♥ Anna picked IMG_1 in “Selects”: “Yes!”");
  assert.equal(pickText(pick({ picked: false, comment: "No" }), "IMG_1"), "Anna commented on IMG_1: “No”");
  assert.equal(pickText(pick({ picked: false, client_name: "" }), "IMG_1"), "The client took back the heart on IMG_1.");
});

test("share_pick events announce new picks once and re-render; other events update the links", () => {
  const said = [];
  let changes = 0;
  const picks = new Picks({ api: {}, say: (text) => said.push(text), name: () => "IMG_7", onChange: () => (changes += 1), select: null });
  picks.onEvent({ type: "share_created", payload: { share_id: 3, title: "Selects" } });
  picks.onEvent({ type: "share_pick", payload: pick({ photo_id: 7 }) });
  picks.onEvent({ type: "share_pick", payload: pick({ photo_id: 7 }) }); // delivered twice
  assert.deepEqual(said, ["♥ Anna picked IMG_7 in “Selects”."]);
  assert.equal(changes, 1);
  assert.equal(picks.mark(7).hearts, 1);
  assert.deepEqual(picks.notes(7), [["♥ Anna (Selects)", "picked"]]);
  picks.onEvent({ type: "share_revoked", payload: { share_id: 3, title: "Selects" } });
  assert.equal(picks.links.get(3).is_live, false);
});

test("load reads the links and the picks of those with picks", async () => {
  const asked = [];
  const api = {
    shares: async () => ({ results: [{ id: 1, title: "A", picks_count: 1 }, { id: 2, title: "B", picks_count: 0, comments_count: 0 }] }),
    sharePicks: async (id) => (asked.push(id), { results: [pick({ share_id: id, photo_id: 5 })] }),
  };
  const picks = new Picks({ api, say: () => {}, name: () => "", onChange: () => {}, select: null });
  await picks.load();
  assert.deepEqual(asked, [1]);
  assert.equal(picks.signature(5) !== "", true);
  assert.equal(picks.signature(6), "");
});

test("with the filter on a link's picks, a heart there adds the photo and its last heart there removes it", () => {
  const picks = new Map();
  pickApply(picks, pick());
  assert.equal(pickFilterChange(picks, pick(), "3"), "add");
  assert.equal(pickFilterChange(picks, pick({ share_id: "3", photo_id: "10" }), 3), "add");
  assert.equal(pickFilterChange(picks, pick(), ""), null); // No such filter.
  assert.equal(pickFilterChange(picks, pick(), "4"), null); // Another link's pick.
  assert.equal(pickFilterChange(picks, undefined, "3"), null); // The picks were read.
  pickApply(picks, pick({ picked: false, comment: "Hmm" })); // A comment is no heart.
  assert.equal(pickFilterChange(picks, pick({ picked: false, comment: "Hmm" }), "3"), "remove");
  pickApply(picks, pick({ share_id: 4 })); // A heart through another link keeps nothing here.
  assert.equal(pickFilterChange(picks, pick({ share_id: 3, picked: false }), "3"), "remove");
});

test("follow reads a newly picked photo into the store and removes an unpicked one", async () => {
  const calls = [];
  const store = { upsert: (photo) => calls.push(["upsert", photo.id]), remove: (ids) => calls.push(["remove", ids]) };
  const api = { photo: async (id) => (calls.push(["read", id]), { id }) };
  const picks = new Picks({ api, say: () => {}, name: () => "IMG_7", onChange: () => {}, select: null });
  picks.onEvent({ type: "share_pick", payload: pick({ photo_id: "7" }) });
  picks.follow(pick({ photo_id: "7" }), "3", store);
  await new Promise((resolve) => setTimeout(resolve));
  picks.follow(pick({ photo_id: "7" }), "9", store); // Another link's filter: nothing.
  picks.onEvent({ type: "share_pick", payload: pick({ photo_id: 7, picked: false }) });
  picks.follow(pick({ photo_id: 7, picked: false }), "3", store);
  assert.deepEqual(calls, [["read", 7], ["upsert", 7], ["remove", [7]]]);
});
