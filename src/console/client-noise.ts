/**
 * The page script's noise control in the list and the detail: the badge saying why an incident
 * notifies nobody (silenced, inhibited, snoozed, flapping, held for grouping, in a group) and
 * that a group is one, a group's members, the Snooze fields, and the "Silence similar" form. Each
 * badge names what it can (a group's number, a silence's comment) and says the rest on hover.
 */
export const CLIENT_NOISE = String.raw`
const CLOCK = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const CLOCK_DAY = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
/** A time to come as a clock reads: "10:30" today, "Tue 3 Mar, 10:30" on another day. */
function clock(iso) {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return "a time not known";
  return (new Date(time).toDateString() === new Date().toDateString() ? CLOCK : CLOCK_DAY).format(time);
}
const absolute = (iso) => (Number.isFinite(Date.parse(iso)) ? ABSOLUTE.format(Date.parse(iso)) + " (" + ZONE + ")" : "a time not known");
const short = (text, n) => (text.length > n ? text.slice(0, n - 1) + "\u2026" : text);
const refOf = (list, id) => (list || []).find((x) => x.id === id) || null;

function badge(kind, text, title, link) {
  return link ? el("a", { class: "badge " + kind, title, href: link }, text) : el("span", { class: "badge " + kind, title }, text);
}

/** The badges of an incident: whether it is a group, and why it is quiet. */
function badges(i, refs) {
  const out = [];
  if (i.kind === "group") {
    const rule = i.group ? " by rule " + say(i.group.rule) : "";
    out.push(badge("group", "group of " + i.occurrences, "Groups " + i.occurrences + (i.occurrences === 1 ? " incident" : " incidents") + " that fail alike" + rule + ": the group notifies, its members do not"));
  }
  const q = i.quiet;
  if (!q) return out;
  if (q.kind === "grouped") {
    const g = refOf(refs && refs.groups, q.groupId);
    out.push(badge("grouped", g ? "in group #" + g.number : "in a group", (g ? "Member of #" + g.number + " " + g.title : "Member of a group") + ": the group notifies for it", href({ incident: q.groupId })));
  } else if (q.kind === "held") {
    out.push(badge("held", "held for grouping", "Its first notification waits until " + absolute(q.until) + " for similar incidents to group with"));
  } else if (q.kind === "snoozed") {
    const why = i.noise && i.noise.snoozeReason ? ": " + i.noise.snoozeReason : "";
    out.push(badge("snoozed", "snoozed until " + clock(q.until), "Snoozed until " + absolute(q.until) + why + ". Then it opens again and notifies."));
  } else if (q.kind === "flapping") {
    out.push(badge("flapping", "flapping", "It resolves and comes back often: its changes notify nobody until it settles"));
  } else if (q.kind === "silenced") {
    const s = refOf(refs && refs.silences, q.silenceId);
    const ends = s ? (s.endsAt ? " until " + absolute(s.endsAt) : " until the incident it waits for resolves") : "";
    out.push(badge("silenced", s ? "silenced: " + short(s.comment, 48) : "silenced", "Silenced" + ends + (s ? ": " + s.comment : " (silence " + q.silenceId + ")"),
      session.can.silence ? href({ view: "silences" }) : null));
  } else if (q.kind === "inhibited") {
    out.push(badge("inhibited", "inhibited by #" + q.by.number, "Open incident #" + q.by.number + " explains this one: it notifies nobody while #" + q.by.number + " is unresolved", href({ incident: q.by.id })));
  }
  return out;
}

/** A group's members, each a link; the newest hundred of a larger group. */
function membersSection(data) {
  const m = data.members;
  if (!m) return null;
  const i = data.incident;
  return el("section", { id: "members" }, el("h3", {}, "Members", el("span", { class: "muted" }, " · " + (m.more ? "newest " + m.items.length + " of " + i.occurrences : m.items.length))),
    m.items.length === 0 ? el("p", { class: "muted" }, "No members any more.") : el("table", { class: "cards" },
      el("thead", {}, el("tr", {}, ["Number", "Severity", "Title", "Agent", "Status", "Last seen"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, m.items.map((x) => el("tr", { "data-id": x.id },
        cell("Number", "inline", el("a", { href: href({ incident: x.id }) }, "#" + x.number)),
        cell("Severity", "inline", sev(x.severity)),
        cell("Title", "title", el("a", { href: href({ incident: x.id }) }, x.title)),
        cell("Agent", null, x.agentId || "—"),
        cell("Status", null, x.status),
        cell("Last seen", "when", when(x.lastSeenAt)))))));
}

const SNOOZE_FOR = [["1800000", "30 min"], ["3600000", "1 h"], ["14400000", "4 h"], ["86400000", "24 h"]];
/** The Snooze form's fields: for how long, and why (audited). */
function snoozeFields() {
  return [select("forMs", "Snooze for", SNOOZE_FOR, "3600000", null), el("label", {}, "Reason", el("input", { name: "reason", required: true, maxlength: 2000 }))];
}

const SILENCE_FOR = [["3600000", "1 h"], ["14400000", "4 h"], ["86400000", "24 h"], ["604800000", "7 days"]];
/**
 * A form to create a silence. From an incident, its fields are filled in from it (clear one to
 * match more widely) and it may last until that incident resolves; a group is silenced by its
 * fingerprint (its members notify through it).
 */
function silenceForm(from, done) {
  const status = el("div", { class: "form-status", role: "status", "aria-live": "polite" });
  const trig = from && from.trigger ? from.trigger : {};
  const pick = (o, k) => (o && typeof o === "object" && typeof o[k] === "string" ? o[k] : "");
  const group = from && from.kind === "group";
  const lasting = SILENCE_FOR.slice();
  if (from && from.status !== "resolved") lasting.push(["resolved", "until #" + from.number + " resolves"]);
  const fields = group
    ? [el("p", { class: "muted" }, "Matches this group (its fingerprint): its members notify through it.")]
    : [el("label", {}, "Agent", el("input", { name: "agents", value: from ? from.agentId || "" : "", size: 14 })),
       el("label", {}, "Connector", el("input", { name: "connectors", value: pick(trig.connector, "id"), size: 14 })),
       el("label", {}, "Error code", el("input", { name: "errorCodes", value: pick(trig.error, "code"), size: 14 })),
       select("kinds", "Kind", session.values.kinds.filter((k) => k !== "group"), from ? from.kind : "", "any")];
  const form = el("form", { class: "inline", "data-form": "silence", onsubmit: async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const d = new FormData(form);
    const match = {};
    if (group) Object.assign(match, { fingerprints: [from.fingerprint], kinds: ["group"] });
    for (const key of ["agents", "connectors", "errorCodes", "kinds"]) {
      const v = typeof d.get(key) === "string" ? d.get(key).trim() : "";
      if (v) match[key] = [v];
    }
    if (Object.keys(match).length === 0) { status.replaceChildren(problem("Name at least one field to match: a silence of everything would quiet every incident.")); return; }
    const how = d.get("lasting");
    const body = Object.assign({ match, comment: d.get("comment") }, how === "resolved" ? { untilResolved: from.id } : { forMs: Number(how) });
    try {
      const { silence } = await post("/silences", body);
      await done(silence);
    } catch (error) { status.replaceChildren(problem(message(error))); }
  } },
    fields,
    select("lasting", "Lasting", lasting, "3600000", null),
    el("label", {}, "Comment (why)", el("input", { name: "comment", required: true, maxlength: 2000, size: 28 })),
    el("button", { type: "submit" }, "Silence"), status);
  return form;
}

/** "Silence similar" in an incident's detail: the form, folded until asked for. */
function silenceSimilar(i) {
  if (!session.can.silence) return null;
  return el("details", { id: "silence-similar" }, el("summary", {}, i.kind === "group" ? "Silence this group" : "Silence similar"),
    silenceForm(i, async () => { await detail(i.id); }));
}
`;
