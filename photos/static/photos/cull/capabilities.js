// What the user's role may do (SPEC §14): the page's bootstrap carries `capabilities`
// ({action: allowed} for every action of projects/roles.py) and `role`. The workspace hides the
// controls of what the role may not do (`data-needs="ACTION"` in the page) and answers their keys
// with a message instead of a request. The API refuses them anyway (403): this is courtesy.

export function may(capabilities, action) {
  return Boolean(capabilities && capabilities[action]);
}

// Hide every control under `root` whose `data-needs` action the role may not take.
export function applyCapabilities(root, capabilities) {
  for (const element of root.querySelectorAll("[data-needs]")) {
    element.hidden = !may(capabilities, element.dataset.needs);
  }
}

export function refusal(role, action) {
  const what = ACTION_TEXT[action] || action;
  return role ? `Your role (${role}) may not ${what}.` : `You are not a member of a studio, so you may not ${what}.`;
}

const ACTION_TEXT = {
  cull: "change keep flags, ratings, labels or tags",
  commit: "commit changes",
  revert: "revert changes",
  move: "move photos",
  process: "re-process photos",
  upload: "upload photos",
  visibility: "change visibility",
  share: "manage share links",
};

// `fn` when the role may take `action`, else a function that says why not (`say(text, level)`).
export function guard({ capabilities, role, say }, action, fn) {
  if (may(capabilities, action)) return fn;
  return () => say(refusal(role, action), "error");
}

// Every method of `actions` guarded by one action (the culling keys: keep, rating, label, tags,
// undo), as a new object; the original is left as it is.
export function guardAll(context, action, actions) {
  return Object.fromEntries(Object.entries(actions).map(([name, fn]) => [name, guard(context, action, fn)]));
}
