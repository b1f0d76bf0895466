/**
 * The page script's silences view (`?view=silences`, for roles that may silence): each silence's
 * state, what it matches in words, when it ends, its comment and who made (or ended) it, an
 * Expire button on those still in force, and a form for a new one. A state the view does not
 * offer (a mistyped link) falls back to all silences and says so.
 */
export const CLIENT_SILENCES = String.raw`
const SILENCE_STATES = [["active", "active"], ["pending", "pending"], ["expired", "expired"]];
const MATCH_WORDS = [["agents", "agent"], ["connectors", "connector"], ["errorCodes", "error code"], ["kinds", "kind"], ["severities", "severity"], ["environments", "environment"], ["policies", "policy"], ["fingerprints", "fingerprint"]];

/** What a silence matches, in words: "agent agt_1 · connector con_openai". */
function matchText(m) {
  const parts = [];
  for (const [key, name] of MATCH_WORDS) if (Array.isArray(m[key]) && m[key].length > 0) parts.push(name + " " + m[key].join(" or "));
  if (m.tags && typeof m.tags === "object") for (const k of Object.keys(m.tags)) parts.push("tag " + k + "=" + m.tags[k]);
  return parts.length ? parts.join(" · ") : "every incident";
}

async function silencesView(done) {
  const heading = el("h2", {}, "Silences");
  if (!session.can.silence) { show(heading, el("p", { class: "muted" }, "Your role (" + session.actor.role + ") cannot see or change silences.")); return; }
  const given = params.get("state");
  const state = SILENCE_STATES.some((s) => s[0] === given) ? given : "";
  const notes = given && !state ? ["Ignored state " + say(given) + ": not one of active, pending, expired. Showing every silence."] : [];
  let data;
  try { data = await api("/silences" + (state ? "?state=" + state : "")); } catch (error) { show(heading, notices(notes), problem(message(error))); return; }
  const status = el("div", { class: "form-status", role: "status", "aria-live": "polite" }, done ? el("p", {}, done) : null);
  const incident = (id) => refOf(data.incidents, id);
  const ends = (s) => {
    if (s.endsAt) return when(s.endsAt);
    const i = incident(s.untilResolved);
    return ["when ", el("a", { href: href({ incident: s.untilResolved }) }, i ? "#" + i.number : "its incident"), " resolves"];
  };
  const expire = (s) => el("button", { type: "button", onclick: async () => {
    try {
      await post("/silences/" + encodeURIComponent(s.id) + "/expire", {});
      await silencesView("Expired the silence of " + matchText(s.match) + ": what it held back is sent now.");
    } catch (error) { status.replaceChildren(problem(message(error))); }
  } }, "Expire");
  const filter = el("form", { class: "inline", method: "get" }, el("input", { type: "hidden", name: "view", value: "silences" }),
    select("state", "State", SILENCE_STATES, state, "any"), el("button", { type: "submit" }, "Show"));
  const table = data.items.length === 0
    ? el("p", { class: "muted" }, state ? "No " + state + " silences." : "No silences yet: create one below, or from an incident (Silence similar).")
    : el("table", { class: "cards silences" },
      el("thead", {}, el("tr", {}, ["State", "Matches", "Starts", "Ends", "Comment", "Who", ""].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, data.items.map((s) => el("tr", { "data-id": s.id },
        cell("State", "inline", el("span", { class: "badge " + s.state }, s.state)),
        cell("Matches", null, matchText(s.match)),
        cell("Starts", null, when(s.startsAt)),
        cell("Ends", null, s.expiredAt ? ["expired ", when(s.expiredAt)] : ends(s)),
        cell("Comment", null, s.comment),
        cell("Who", null, who(s.createdBy), s.expiredBy ? el("span", { class: "muted" }, "; expired by " + who(s.expiredBy)) : null),
        cell("", s.state === "expired" ? "blank" : "inline", s.state === "expired" ? null : expire(s))))));
  show(heading, notices(notes), el("p", { class: "muted" }, "A silenced incident is still created, counted and listed: only its notifications are held back."),
    filter, status, table,
    el("section", {}, el("h3", {}, "New silence"), silenceForm(null, async () => { await silencesView("Silence created."); })));
}
`;
