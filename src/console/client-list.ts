/**
 * The page script's list view: the filters read from the URL (a value the page does not know is
 * dropped, and the page says so, so a mistyped shared link still shows incidents), the table
 * (cards on a phone), the empty states, paging, and the manual escalation form.
 */
export const CLIENT_LIST = String.raw`
const LAST_SEEN = [["24h", "last 24 h", 86400000], ["7d", "last 7 days", 7 * 86400000], ["30d", "last 30 days", 30 * 86400000]];
const UNRESOLVED = "open,acknowledged,investigating";

/** The list's filters from the URL, and a line for each value left out. */
function listFilters() {
  const ignored = [];
  const values = session.values;
  const pick = (name, what, allowed) => {
    const given = params.getAll(name).flatMap((x) => x.split(",")).filter((x) => x !== "");
    for (const x of given) if (!allowed.includes(x)) ignored.push("Ignored " + what + " " + say(x) + ": not one of " + allowed.join(", ") + ".");
    return given.filter((x) => allowed.includes(x));
  };
  const text = (name, what) => {
    const given = (params.get(name) || "").trim();
    if (given.length > 200) { ignored.push("Ignored the " + what + ": longer than 200 characters."); return ""; }
    return given;
  };
  const f = {
    q: text("q", "search text"),
    severity: pick("severity", "severity", values.severities),
    status: pick("status", "status", [...values.statuses, "all"]),
    kind: pick("kind", "kind", values.kinds),
    environment: pick("environment", "environment", values.environments),
    agent: text("agent", "agent"),
    assignee: text("assignee", "assignee"),
    lastSeen: pick("lastSeen", "last seen", [...LAST_SEEN.map((p) => p[0]), "all"])[0] || "",
    members: pick("members", "members", ["1"])[0] === "1",
    cursor: params.get("cursor") || "",
  };
  if (f.status.includes("all")) f.status = ["all"];
  return { f, ignored };
}

/** What the API is asked for these filters. */
function listQuery(f) {
  const q = {};
  if (f.status.length === 0) q.status = UNRESOLVED;
  else if (f.status[0] !== "all") q.status = f.status.join(",");
  for (const key of ["severity", "kind", "environment"]) if (f[key].length > 0) q[key] = f[key].join(",");
  if (f.agent) q.agent = f.agent;
  if (f.assignee === "mine") q.assignee = session.actor.id;
  else if (f.assignee === "none") q.unassigned = "1";
  else if (f.assignee) q.assignee = f.assignee;
  const period = LAST_SEEN.find((p) => p[0] === f.lastSeen);
  if (period) q.seenSince = new Date(Date.now() - period[2]).toISOString();
  if (f.members) q.members = "1";
  if (f.q) q.q = f.q;
  if (f.cursor) q.cursor = f.cursor;
  return q;
}

async function list() {
  const { f, ignored } = listFilters();
  const filtered = Boolean(f.q || f.severity.length || (f.status.length && f.status[0] !== "all") || f.kind.length || f.environment.length || f.agent || f.assignee || f.lastSeen);
  let page;
  try {
    page = await api("/incidents?" + new URLSearchParams(listQuery(f)));
  } catch (error) {
    if (error.code !== "VALIDATION") { show(el("h2", {}, "Incidents"), problem(message(error))); return; }
    // a link the API cannot use: its page if only that is wrong, else the default list
    if (f.cursor) ignored.push("This link's page of the list could not be found (" + error.message + "): showing the first page.");
    else ignored.push("This link's filters could not be used (" + error.message + "): showing unresolved incidents.");
    try {
      page = await api("/incidents?" + new URLSearchParams(f.cursor ? listQuery(Object.assign({}, f, { cursor: "" })) : { status: UNRESOLVED }));
    } catch (again) { show(el("h2", {}, "Incidents"), notices(ignored), problem(message(again))); return; }
  }
  const total = session.values.severities.reduce((n, s) => n + Object.values(page.counts[s]).reduce((a, b) => a + b, 0), 0);
  const counts = total === 0 ? null : el("div", { class: "counts", "aria-label": "Counts by severity" },
    session.values.severities.map((s) => {
      const c = page.counts[s];
      const unresolved = c.open + c.acknowledged + c.investigating;
      return el("div", {}, sev(s), " ", el("strong", {}, unresolved), " unresolved", el("br", { class: "breakdown" }), el("span", { class: "muted breakdown" }, c.open + " open · " + c.acknowledged + " acknowledged · " + c.investigating + " investigating · " + c.resolved + " resolved"));
    }));
  const rows = page.items.map((i) => el("tr", { "data-id": i.id },
    cell("Number", "inline", "#" + i.number),
    cell("Severity", "inline", sev(i.severity)),
    cell("Title", "title", el("a", { href: href({ incident: i.id }) }, i.title), badges(i, page.refs)),
    cell("Agent", null, i.agentId || "—"),
    cell("Status", null, i.status),
    cell("Assignee", null, i.assignee || "—"),
    cell("Occurrences", null, i.occurrences),
    cell("Last seen", "when", when(i.lastSeenAt))));
  const ws = session.actor.workspaceId;
  const empty = filtered || f.cursor
    ? el("p", {}, "No incidents match these filters. ", el("a", { href: href({}) }, "Clear the filters"))
    : total === 0
      ? [el("p", { class: "empty" }, "No incidents in workspace " + ws + ": check the workspace id."),
         el("p", { class: "muted" }, "Incidents show here when your runtime reports them with workspaceId " + say(ws) + ", or when someone escalates one below.")]
      : el("p", { class: "empty" }, "No unresolved incidents in workspace " + ws + ". ", el("a", { href: href({ status: "all" }) }, "Show all incidents"));
  const table = page.items.length === 0 ? empty : el("table", { class: "incidents cards" },
    el("caption", { class: "muted" }, "Sorted by severity, then most recent"),
    el("thead", {}, el("tr", {}, ["Number", "Severity", "Title", "Agent", "Status", "Assignee", "Occurrences", "Last seen"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
  const searched = typeof page.searched === "number" && page.nextCursor ? el("span", { class: "muted" }, " (" + page.searched + " incidents searched for these filters so far)") : null;
  const paging = page.nextCursor || f.cursor ? el("p", { class: "paging" },
    f.cursor ? el("a", { href: href(Object.fromEntries([...params].filter(([k]) => k !== "cursor"))) }, "First page") : null,
    f.cursor && page.nextCursor ? " · " : null,
    page.nextCursor ? el("a", { href: href(Object.assign(Object.fromEntries(params), { cursor: page.nextCursor })) }, page.items.length < 50 && searched ? "Search further" : "Next page") : null,
    searched) : null;
  // the counts include group members; say where they are when the list leaves them out
  const grouped = f.members ? 0 : page.items.filter((i) => i.kind === "group").reduce((n, i) => n + i.occurrences, 0);
  const members = grouped === 0 ? null : el("p", { class: "muted" }, (grouped === 1 ? "1 incident is" : grouped + " incidents are") + " listed under " + (page.items.filter((i) => i.kind === "group").length === 1 ? "its group" : "their groups") + ", not on their own. ",
    el("a", { href: href(Object.assign(Object.fromEntries([...params].filter(([k]) => k !== "cursor")), { members: "1" })) }, "Include group members"));
  show(el("h2", {}, "Incidents"), notices(ignored), counts, filterForm(f, filtered), table, members, paging, session.can.escalate ? escalateForm() : null);
}

function filterForm(f, filtered) {
  const me = session.actor.id;
  const assignees = [["mine", "me (" + me + ")"], ["none", "nobody"]];
  if (f.assignee && f.assignee !== "mine" && f.assignee !== "none") assignees.push([f.assignee, f.assignee]);
  const form = el("form", { class: "inline filters", role: "search", onsubmit: (event) => {
    event.preventDefault();
    // only what is set goes into the link, so it stays short enough to share
    const query = [...new FormData(form)].filter(([, v]) => typeof v === "string" && v.trim() !== "").map(([k, v]) => [k, v.trim()]);
    location.href = href(query);
  } },
    el("label", {}, "Search titles", el("input", { name: "q", type: "search", value: f.q, placeholder: "text or #number", maxlength: 200 })),
    select("severity", "Severity", session.values.severities, f.severity[0], "any"),
    el("label", {}, "Status", el("select", { name: "status" },
      el("option", { value: "" }, "unresolved"),
      session.values.statuses.map((v) => el("option", { value: v, selected: f.status.length === 1 && v === f.status[0] }, v)),
      el("option", { value: "all", selected: f.status[0] === "all" }, "all"))),
    select("kind", "Kind", session.values.kinds, f.kind[0], "any"),
    select("environment", "Environment", session.values.environments, f.environment[0], "any"),
    el("label", {}, "Agent", el("input", { name: "agent", value: f.agent, placeholder: "agent id", size: 12 })),
    select("assignee", "Assignee", assignees, f.assignee, "anyone"),
    select("lastSeen", "Last seen", LAST_SEEN.map((p) => [p[0], p[1]]), f.lastSeen, "any time"),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "members", value: "1", checked: f.members }), "Include group members"),
    el("button", { type: "submit" }, "Filter"),
    filtered ? el("a", { href: href({}), class: "clear" }, "Clear") : null);
  return form;
}

function escalateForm() {
  const status = el("div", { class: "form-status", role: "status" });
  const form = el("form", { class: "inline", "data-form": "escalate", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const { incident } = await post("/escalate", { title: data.get("title"), severity: data.get("severity"), summary: data.get("summary") || undefined });
      location.href = href({ incident: incident.id });
    } catch (error) { status.replaceChildren(problem(message(error))); }
  } },
    el("label", {}, "Title", el("input", { name: "title", required: true, maxlength: 300 })),
    select("severity", "Severity", session.values.severities, "high", null),
    el("label", {}, "Summary", el("input", { name: "summary" })),
    el("button", { type: "submit" }, "Escalate"), status);
  return el("section", {}, el("h3", {}, "Escalate manually"), form);
}
`;
