/**
 * The page script's detail view: the facts, the actions the role allows, the run (the latest
 * occurrence's, or the one picked from the occurrences), the occurrences twenty at a time, the
 * captured context and the activity. A refresh that must not lose what the operator typed (a
 * version conflict, "show the latest") carries the forms' input over to the new rendering.
 */
export const CLIENT_DETAIL = String.raw`
const OCCURRENCES_PAGE = 20;
/** How many occurrences the detail shows; more after "Show more", kept across refreshes. */
let occurrencesShown = { id: null, count: OCCURRENCES_PAGE };

async function detail(id) {
  if (occurrencesShown.id !== id) occurrencesShown = { id, count: OCCURRENCES_PAGE };
  const run = params.get("run");
  const notes = [];
  const path = (withRun) => "/incidents/" + encodeURIComponent(id) + "?" + new URLSearchParams(Object.assign({ occurrences: occurrencesShown.count }, withRun && run ? { run } : {}));
  let data;
  try {
    data = await api(path(true));
  } catch (error) {
    let failed = error;
    if (run && error.code === "VALIDATION") {
      notes.push("Ignored run " + say(run) + " from the link (" + error.message + "): showing the latest run.");
      try { data = await api(path(false)); } catch (again) { failed = again; }
    }
    if (!data) {
      show(el("p", {}, el("a", { href: href({}) }, "All incidents")), el("h2", {}, failed.code === "NOT_FOUND" ? "Incident not found" : "The incident could not be shown"),
        notices(notes), problem(message(failed)));
      return;
    }
  }
  const i = Object.assign({}, data.incident, { quiet: data.quiet || null });
  shown = { id: i.id, version: i.version };
  const marks = badges(i, data.refs);
  const held = marks.filter((b) => !b.classList.contains("group")).map((b) => b.title);
  const runLink = data.link ? [" ", el("a", { href: data.link, rel: "noopener" }, "Open the run")] : null;
  const runs = data.shownRun;
  const facts = el("dl", { class: "facts" },
    el("dt", {}, "Severity"), el("dd", {}, sev(i.severity), " ", i.severityReason.explanation),
    el("dt", {}, "Status"), el("dd", {}, i.status),
    el("dt", {}, "Kind"), el("dd", {}, i.kind),
    el("dt", {}, "Agent"), el("dd", {}, i.agentId || "—"),
    el("dt", {}, "Environment"), el("dd", {}, i.environment),
    el("dt", {}, "Assignee"), el("dd", {}, i.assignee || "nobody"),
    i.kind === "group" ? null : [el("dt", {}, "Run"), el("dd", {}, runs ? runs.runId + (runs.latest ? (runs.runs > 1 ? " (latest of " + runs.runs + (i.runId ? "; first " + i.runId : "") + ")" : "") : " (picked from the occurrences)") : "—", runLink),
    el("dt", {}, "Triggering event"), el("dd", {}, (runs && runs.eventId) || i.eventId || "—")],
    i.kind === "group" ? [el("dt", {}, "Members"), el("dd", {}, i.occurrences + (i.group && i.group.agents.length ? " from " + i.group.agents.length + (i.group.agents.length === 1 ? " agent" : " agents") + " (" + i.group.agents.join(", ") + ")" : ""))]
      : [el("dt", {}, "Occurrences"), el("dd", {}, i.occurrences)],
    held.length ? [el("dt", {}, "Notifications"), el("dd", {}, "Held back. " + held.join(" "))] : null,
    el("dt", {}, "First seen"), el("dd", {}, when(i.firstSeenAt)),
    el("dt", {}, "Last seen"), el("dd", {}, when(i.lastSeenAt)),
    el("dt", {}, "Acknowledged"), el("dd", {}, i.acknowledgedAt ? when(i.acknowledgedAt) : "not yet"),
    el("dt", {}, "Resolved"), el("dd", {}, i.resolvedAt ? when(i.resolvedAt) : "not yet"),
    i.resolution ? [el("dt", {}, "Resolution"), el("dd", {}, resolutionText(i.resolution))] : null);
  show(el("p", {}, el("a", { href: href({}) }, "All incidents")), notices(notes),
    el("h2", {}, "#" + i.number + " " + i.title), marks.length ? el("p", { class: "badges" }, marks) : null, el("p", {}, i.summary), facts, actions(i), membersSection(data),
    // a group's members stand for its runs, occurrences and context
    i.kind === "group" ? null : [timeline(data), occurrences(data), contextPanel(data.snapshot)], activity(data.activity, data.refs && data.refs.groups));
}

function timeline(data) {
  const i = data.incident;
  const runs = data.shownRun;
  const trigger = runs ? runs.eventId : i.eventId;
  const events = data.run ? data.run.events : data.snapshot ? data.snapshot.events : [];
  const title = data.run
    ? "Run timeline: " + data.run.runId + (runs && runs.latest ? (runs.runs > 1 ? " (the latest of " + runs.runs + " runs)" : "") : " (an earlier run)")
    : "Run timeline (from the snapshot taken when the incident opened)";
  const latest = runs && !runs.latest ? [" ", el("a", { href: href({ incident: i.id }) }, "Show the latest run")] : null;
  const start = events.length > 0 ? Date.parse(events[0].at) : NaN;
  return el("section", { id: "timeline" }, el("h3", {}, title), latest ? el("p", {}, latest) : null,
    data.runError ? problem("The run could not be loaded: " + data.runError) : null,
    events.length === 0 ? el("p", { class: "muted" }, "No events recorded.") : el("ol", {}, events.map((e) => {
      const offset = Date.parse(e.at) - start;
      return el("li", { class: e.id === trigger ? "trigger" : null }, when(e.at), Number.isFinite(offset) ? " · +" + (offset / 1000).toFixed(1) + " s" : null,
        " · " + e.type + " · " + e.id + (e.id === trigger ? " ← triggered this incident" : ""),
        e.data !== undefined && e.data !== null ? el("pre", {}, JSON.stringify(e.data, null, 2)) : null);
    })));
}

function occurrences(data) {
  const i = data.incident;
  const log = data.occurrenceLog.slice().reverse();
  const total = data.occurrenceTotal;
  const traced = log.some((o) => o.traceId);
  const more = Math.min(OCCURRENCES_PAGE, total - log.length);
  const section = el("section", { id: "occurrences" },
    el("h3", {}, "Occurrences", el("span", { class: "muted" }, " · " + (total > log.length ? "newest " + log.length + " of " + total : total))),
    log.length === 0 ? el("p", { class: "muted" }, "None recorded.") : scroller(el("table", {},
      el("thead", {}, el("tr", {}, ["When", "Run", "Event", traced ? "Trace" : null].filter(Boolean).map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, log.map((o) => el("tr", {},
        el("td", {}, when(o.at)),
        el("td", {}, o.runId ? el("a", { href: href({ incident: i.id, run: o.runId }) }, o.runId) : "—"),
        el("td", {}, o.eventId || "—"),
        traced ? el("td", {}, o.traceId || "—") : null))))),
    more > 0 ? el("button", { type: "button", onclick: async () => {
      occurrencesShown.count += OCCURRENCES_PAGE;
      try {
        const next = await api("/incidents/" + encodeURIComponent(i.id) + "?occurrences=" + occurrencesShown.count);
        section.replaceWith(occurrences(Object.assign({}, data, { occurrenceLog: next.occurrenceLog, occurrenceTotal: next.occurrenceTotal })));
      } catch (error) { section.append(problem(message(error))); }
    } }, "Show " + more + " more") : null);
  return section;
}

/** The captured context as named fields; a field that was not captured is left out. */
function contextPanel(snapshot) {
  const parts = [];
  const add = (name, value) => parts.push(el("dt", {}, name), el("dd", {}, value));
  const json = (value) => el("pre", {}, JSON.stringify(value, null, 2));
  if (snapshot && snapshot.action) {
    add("Action", snapshot.action.type + (snapshot.action.id ? " · " + snapshot.action.id : ""));
    if (snapshot.action.payload && Object.keys(snapshot.action.payload).length > 0) add("Payload", json(snapshot.action.payload));
  }
  if (snapshot && snapshot.policy) add("Policy", snapshot.policy.name + " (" + snapshot.policy.id + ") · " + snapshot.policy.effect + (snapshot.policy.reason ? " · " + snapshot.policy.reason : ""));
  if (snapshot && snapshot.data && Object.keys(snapshot.data).length > 0) add("Data", json(snapshot.data));
  if (snapshot && snapshot.droppedEvents > 0) add("Left out", snapshot.droppedEvents + " run events, to fit the size limit");
  if (snapshot && snapshot.truncated) add("Cut", "some values were shortened to fit the size limit");
  return el("section", { id: "context" }, el("h3", {}, "Context (redacted)"),
    parts.length === 0 ? el("p", { class: "muted" }, snapshot ? "Nothing beyond the run was captured." : "No context was captured.") : el("dl", {}, parts));
}

function activity(entries, groups) {
  return el("section", { id: "activity" }, el("h3", {}, "Activity"), el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, ["When", "Who", "What", "Change", "Note"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, entries.map((a) => {
      const change = changeText(a, groups);
      return el("tr", {},
        cell("When", "inline", when(a.at)),
        cell("Who", "inline nowrap", who(a.actor)),
        cell("What", "inline what", activityName(a)),
        cell("Change", change ? null : "blank", change),
        cell("Note", a.message ? null : "blank", a.message || ""));
    }))));
}

/** What the operator has typed or ticked in the detail's forms, by form and field. */
function typedInput() {
  return [...app.querySelectorAll("form[data-form]")].map((form) => [form.dataset.form,
    [...form.elements].filter((x) => x.name).map((x) => [x.name, x.value, x.type === "checkbox" ? x.checked : null])]);
}
function restoreInput(typed) {
  for (const [name, fields] of typed) {
    const form = app.querySelector('form[data-form="' + name + '"]');
    if (!form) continue;
    for (const [field, value, checked] of fields) {
      for (const x of form.elements) {
        if (x.name !== field) continue;
        if (x.type === "checkbox") { if (x.value === value) x.checked = checked; }
        else x.value = value;
      }
    }
  }
}
/** The latest incident, with what the operator typed still in its forms. */
async function refreshKeepingInput(id) {
  const typed = typedInput();
  await detail(id);
  restoreInput(typed);
}

function actions(i) {
  const status = el("div", { class: "form-status", role: "status", "aria-live": "polite" });
  const run = async (body, where, label) => {
    try {
      await post("/incidents/" + encodeURIComponent(i.id) + "/actions", Object.assign({ expectedVersion: i.version }, body));
      await detail(i.id);
    } catch (error) {
      let target = where;
      let text = message(error);
      if (error.code === "CONFLICT") {
        await refreshKeepingInput(i.id);
        const name = where.closest("form[data-form]") ? where.closest("form[data-form]").dataset.form : null;
        target = (name && app.querySelector('form[data-form="' + name + '"] .form-status')) || app.querySelector("#actions > .form-status") || where;
        text = "Someone changed this incident first: the page now shows their change" + (name ? ", and what you typed is still here" : "") + ". Check it, then " + (label ? "press " + label + " again." : "try again.");
      }
      target.replaceChildren(problem(text));
      target.scrollIntoView({ block: "center" });
    }
  };
  const form = (name, label, fields, body) => {
    const here = el("div", { class: "form-status", role: "status", "aria-live": "polite" });
    const f = el("form", { class: "inline", "data-form": name, onsubmit: (event) => { event.preventDefault(); here.replaceChildren(); run(body(new FormData(f)), here, label); } },
      fields, el("button", { type: "submit" }, label), here);
    return f;
  };
  const can = session.can;
  const open = i.status !== "resolved";
  const buttons = [];
  const parts = [];
  if (can.triage && i.status === "open") buttons.push(el("button", { type: "button", onclick: () => run({ action: "acknowledge" }, status, "Acknowledge") }, "Acknowledge"));
  if (can.triage && (i.status === "open" || i.status === "acknowledged")) buttons.push(el("button", { type: "button", onclick: () => run({ action: "investigate" }, status, "Start investigating") }, "Start investigating"));
  if (can.triage && open) parts.push(form("assign", "Assign", el("label", {}, "Assignee", el("input", { name: "assignee", value: i.assignee || "" })), (d) => ({ action: "assign", assignee: d.get("assignee") || null })));
  if (can.note) parts.push(form("note", "Add note", el("label", {}, "Note", el("input", { name: "note", required: true })), (d) => ({ action: "note", note: d.get("note") })));
  if (can.triage && open) parts.push(form("severity", "Set severity", [select("severity", "Severity", session.values.severities, i.severity, null), el("label", {}, "Reason", el("input", { name: "reason", required: true }))], (d) => ({ action: "severity", severity: d.get("severity"), reason: d.get("reason") })));
  if (can.resolve && open) parts.push(form("resolve", "Resolve", [
    el("label", {}, "Resolution note", el("textarea", { name: "note", required: true, rows: 2 })),
    el("label", {}, "Root cause", el("select", { name: "rootCause", required: true }, el("option", { value: "" }, "choose"), session.values.rootCauses.map((v) => el("option", { value: v }, v)))),
    el("fieldset", {}, el("legend", {}, "Actions taken"), session.values.actions.map((a) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "actions", value: a }), a))),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "systemic" }), "Systemic (needs a lasting fix)"),
  ], (d) => ({ action: "resolve", note: d.get("note"), rootCause: d.get("rootCause"), actions: d.getAll("actions"), systemic: d.get("systemic") === "on" })));
  if (can.triage && (i.status === "acknowledged" || i.status === "investigating")) parts.push(form("snooze", "Snooze", snoozeFields(), (d) => ({ action: "snooze", forMs: Number(d.get("forMs")), reason: d.get("reason") })));
  if (can.triage && !open) parts.push(form("reopen", "Reopen", el("label", {}, "Reason", el("input", { name: "reason" })), (d) => ({ action: "reopen", reason: d.get("reason") || undefined })));
  parts.push(silenceSimilar(i));
  if (buttons.length === 0 && !parts.some(Boolean)) return el("section", { id: "actions" }, el("h3", {}, "Actions"), el("p", { class: "muted" }, "Your role (" + session.actor.role + ") can only read."));
  return el("section", { id: "actions" }, el("h3", {}, "Actions"), buttons.length ? el("div", { class: "buttons" }, buttons) : null, status, parts);
}
`;
