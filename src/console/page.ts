/**
 * The console page: one HTML document with its CSS and script inline (allowed by a per-response
 * nonce, nothing from another origin). The script builds every element with `textContent`, so a
 * string from an agent is always shown as text, never parsed as HTML.
 */

const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: #777; --critical: #c0262d; --high: #d9651b; --medium: #b58a00; --low: #4a7bb7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.1rem; margin: 0; }
header nav { display: flex; gap: 1rem; }
header .who { margin-left: auto; color: var(--muted); }
main { padding: 1rem 1.25rem; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
.sev { display: inline-block; min-width: 4.8rem; padding: 0 .4rem; border-radius: 3px; color: #fff; font-weight: 600; text-align: center; }
.sev.critical { background: var(--critical); } .sev.high { background: var(--high); } .sev.medium { background: var(--medium); } .sev.low { background: var(--low); }
form.inline { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin: .75rem 0; }
label { display: flex; flex-direction: column; gap: .15rem; font-size: .85rem; }
label.check { flex-direction: row; align-items: center; gap: .35rem; }
input, select, textarea, button { font: inherit; }
button { padding: .3rem .8rem; cursor: pointer; }
.error { color: var(--critical); font-weight: 600; }
.muted { color: var(--muted); }
.counts { display: flex; gap: 1rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
.counts div { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .7rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; }
pre { white-space: pre-wrap; word-break: break-word; background: #8881; padding: .5rem; border-radius: 4px; }
li.trigger { font-weight: 700; }
.bars { display: grid; grid-template-columns: max-content 1fr max-content; gap: .25rem .75rem; align-items: center; margin-bottom: 1rem; }
.bar { height: .9rem; background: var(--low); border-radius: 2px; }
section { margin: 1.25rem 0; }
h2 { font-size: 1.2rem; } h3 { font-size: 1rem; margin-bottom: .4rem; }
.live { font-size: .8rem; color: var(--muted); }
`;

/** The client: reads the URL, calls the JSON API, renders with DOM methods only. */
const SCRIPT = String.raw`
"use strict";
const BASE = document.body.dataset.base;
const app = document.getElementById("app");
const params = new URLSearchParams(location.search);
let session = null;
/** The incident the detail view shows, and its version. */
let shown = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const sev = (s) => el("span", { class: "sev " + s }, s);
const href = (query) => { const q = new URLSearchParams(query).toString(); return location.pathname + (q ? "?" + q : ""); };
const duration = (ms) => (ms === null ? "—" : ms < 60000 ? Math.round(ms / 1000) + " s" : ms < 3600000 ? Math.round(ms / 60000) + " min" : (ms / 3600000).toFixed(1) + " h");

async function api(path, options) {
  const response = await fetch(BASE + "/api" + path, Object.assign({ headers: { accept: "application/json" }, credentials: "same-origin" }, options || {}));
  const body = await response.json().catch(() => ({ error: { message: "Unexpected response (" + response.status + ")" } }));
  if (!response.ok) {
    const error = new Error(body.error ? body.error.message : "Request failed");
    error.code = body.error ? body.error.code : "HTTP_" + response.status;
    throw error;
  }
  return body;
}
const post = (path, value) => api(path, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(value) });

function message(error) {
  if (error.code === "CONFLICT") return "Someone changed this incident first: it now shows their change. Check it, then try again.";
  return error.message;
}
/** Shows these in the main area; null and false leave nothing. */
function show(...nodes) { app.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false)); }
function problem(text) { return el("p", { class: "error", role: "alert" }, text); }

async function main() {
  try {
    session = await api("/session");
  } catch (error) {
    show(problem(message(error)));
    return;
  }
  document.getElementById("who").textContent = (session.actor.name || session.actor.id) + " · " + session.actor.role + " · " + session.actor.workspaceId;
  if (params.get("incident")) await detail(params.get("incident"));
  else if (params.get("view") === "review") await review();
  else await list();
  listen();
}

function select(name, label, values, current, any) {
  return el("label", {}, label, el("select", { name }, el("option", { value: "" }, any), values.map((v) => el("option", { value: v, selected: v === current }, v))));
}

async function list() {
  const query = {};
  for (const key of ["severity", "status", "agent", "cursor"]) if (params.get(key)) query[key] = params.get(key);
  if (!query.status) query.status = "open,acknowledged,investigating";
  if (params.get("status") === "all") delete query.status;
  let page;
  try {
    page = await api("/incidents?" + new URLSearchParams(query));
  } catch (error) {
    show(problem(message(error)));
    return;
  }
  const counts = el("div", { class: "counts", "aria-label": "Counts by severity" },
    session.values.severities.map((s) => {
      const c = page.counts[s];
      const unresolved = c.open + c.acknowledged + c.investigating;
      return el("div", {}, sev(s), " ", el("strong", {}, unresolved), " unresolved", el("br"), el("span", { class: "muted" }, c.open + " open · " + c.acknowledged + " acknowledged · " + c.investigating + " investigating · " + c.resolved + " resolved"));
    }));
  const filters = el("form", { class: "inline", method: "get", role: "search" },
    select("severity", "Severity", session.values.severities, params.get("severity"), "any"),
    el("label", {}, "Status", el("select", { name: "status" },
      el("option", { value: "" }, "unresolved"),
      session.values.statuses.map((v) => el("option", { value: v, selected: v === params.get("status") }, v)),
      el("option", { value: "all", selected: params.get("status") === "all" }, "all"))),
    el("label", {}, "Agent", el("input", { name: "agent", value: params.get("agent") || "", placeholder: "agent id" })),
    el("button", { type: "submit" }, "Filter"));
  const rows = page.items.map((i) => el("tr", { "data-id": i.id },
    el("td", {}, "#" + i.number),
    el("td", {}, sev(i.severity)),
    el("td", {}, el("a", { href: href({ incident: i.id }) }, i.title)),
    el("td", {}, i.agentId || "—"),
    el("td", {}, i.status),
    el("td", {}, i.occurrences),
    el("td", {}, when(i.lastSeenAt))));
  const table = page.items.length === 0 ? el("p", { class: "muted" }, "No incidents match.") : el("table", {},
    el("caption", { class: "muted" }, "Sorted by severity, then most recent"),
    el("thead", {}, el("tr", {}, ["Number", "Severity", "Title", "Agent", "Status", "Occurrences", "Last seen"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
  const next = page.nextCursor ? el("p", {}, el("a", { href: href(Object.assign(Object.fromEntries(params), { cursor: page.nextCursor })) }, "Next page")) : null;
  show(el("h2", {}, "Incidents"), counts, filters, table, next, session.can.escalate ? escalateForm() : null);
}

function escalateForm() {
  const status = el("p", { role: "status" });
  const form = el("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const { incident } = await post("/escalate", { title: data.get("title"), severity: data.get("severity"), summary: data.get("summary") || undefined });
      location.href = href({ incident: incident.id });
    } catch (error) { status.replaceChildren(problem(message(error))); }
  } },
    el("label", {}, "Title", el("input", { name: "title", required: true, maxlength: 300 })),
    select("severity", "Severity", session.values.severities, "high", "choose"),
    el("label", {}, "Summary", el("input", { name: "summary" })),
    el("button", { type: "submit" }, "Escalate"));
  return el("section", {}, el("h3", {}, "Escalate manually"), form, status);
}

async function detail(id) {
  let data;
  try {
    data = await api("/incidents/" + encodeURIComponent(id));
  } catch (error) {
    show(el("p", {}, el("a", { href: href({}) }, "All incidents")), problem(message(error)));
    return;
  }
  const i = data.incident;
  shown = { id: i.id, version: i.version };
  const facts = el("dl", {},
    el("dt", {}, "Severity"), el("dd", {}, sev(i.severity), " ", i.severityReason.explanation),
    el("dt", {}, "Status"), el("dd", {}, i.status),
    el("dt", {}, "Kind"), el("dd", {}, i.kind),
    el("dt", {}, "Agent"), el("dd", {}, i.agentId || "—"),
    el("dt", {}, "Environment"), el("dd", {}, i.environment),
    el("dt", {}, "Run"), el("dd", {}, i.runId || "—", data.link ? [" ", el("a", { href: data.link, rel: "noopener" }, "Open the run")] : null),
    el("dt", {}, "Triggering event"), el("dd", {}, i.eventId || "—"),
    el("dt", {}, "Occurrences"), el("dd", {}, i.occurrences),
    el("dt", {}, "Assignee"), el("dd", {}, i.assignee || "—"),
    el("dt", {}, "First seen"), el("dd", {}, when(i.firstSeenAt)),
    el("dt", {}, "Last seen"), el("dd", {}, when(i.lastSeenAt)),
    el("dt", {}, "Acknowledged"), el("dd", {}, when(i.acknowledgedAt)),
    el("dt", {}, "Resolved"), el("dd", {}, when(i.resolvedAt)),
    i.resolution ? [el("dt", {}, "Resolution"), el("dd", {}, i.resolution.rootCause + (i.resolution.systemic ? " (systemic)" : "") + ": " + i.resolution.note)] : null);
  const events = data.run ? data.run.events : data.snapshot ? data.snapshot.events : [];
  const timeline = el("section", {}, el("h3", {}, data.run ? "Run timeline" : "Run timeline (from the snapshot)"),
    data.runError ? problem("The run could not be loaded: " + data.runError) : null,
    events.length === 0 ? el("p", { class: "muted" }, "No events recorded.") : el("ol", {}, events.map((e) => {
      const trigger = e.id === i.eventId;
      return el("li", { class: trigger ? "trigger" : null }, when(e.at) + " · " + e.type + " · " + e.id + (trigger ? " ← triggered this incident" : ""),
        e.data !== undefined ? el("pre", {}, JSON.stringify(e.data, null, 2)) : null);
    })));
  const snapshot = data.snapshot;
  const context = el("section", {}, el("h3", {}, "Context (redacted)"),
    snapshot ? el("pre", {}, JSON.stringify({ action: snapshot.action, policy: snapshot.policy, data: snapshot.data, truncated: snapshot.truncated }, null, 2)) : el("p", { class: "muted" }, "No snapshot."));
  const activity = el("section", {}, el("h3", {}, "Activity"), el("table", {},
    el("thead", {}, el("tr", {}, ["When", "Who", "What", "Change", "Note"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, data.activity.map((a) => el("tr", {},
      el("td", {}, when(a.at)),
      el("td", {}, a.actor.type === "user" ? a.actor.id + " (" + a.actor.role + ")" : a.actor.type + (a.actor.id ? " " + a.actor.id : "")),
      el("td", {}, a.type),
      el("td", {}, changeText(a)),
      el("td", {}, a.message || ""))))));
  show(el("p", {}, el("a", { href: href({}) }, "All incidents")),
    el("h2", {}, "#" + i.number + " " + i.title), el("p", {}, i.summary), facts, actions(i), timeline, context, activity);
}

function changeText(a) {
  const fields = Object.keys(Object.assign({}, a.before || {}, a.after || {}));
  return fields.map((f) => f + ": " + String((a.before || {})[f] ?? "—") + " → " + String((a.after || {})[f] ?? "—")).join("; ");
}

function actions(i) {
  const status = el("div", { role: "status", "aria-live": "polite" });
  const run = async (body) => {
    try {
      await post("/incidents/" + encodeURIComponent(i.id) + "/actions", Object.assign({ expectedVersion: i.version }, body));
      await detail(i.id);
    } catch (error) {
      status.replaceChildren(problem(message(error)));
      if (error.code === "CONFLICT") setTimeout(() => detail(i.id).then(() => document.querySelector("[role=status]").replaceChildren(problem(message(error)))), 0);
    }
  };
  const form = (label, fields, body) => {
    const f = el("form", { class: "inline", onsubmit: (event) => { event.preventDefault(); run(body(new FormData(f))); } }, fields, el("button", { type: "submit" }, label));
    return f;
  };
  const can = session.can;
  const open = i.status !== "resolved";
  const parts = [];
  if (can.triage && i.status === "open") parts.push(el("button", { type: "button", onclick: () => run({ action: "acknowledge" }) }, "Acknowledge"));
  if (can.triage && (i.status === "open" || i.status === "acknowledged")) parts.push(el("button", { type: "button", onclick: () => run({ action: "investigate" }) }, "Start investigating"));
  if (can.triage && open) parts.push(form("Assign", el("label", {}, "Assignee", el("input", { name: "assignee", value: i.assignee || "" })), (d) => ({ action: "assign", assignee: d.get("assignee") || null })));
  if (can.note) parts.push(form("Add note", el("label", {}, "Note", el("input", { name: "note", required: true })), (d) => ({ action: "note", note: d.get("note") })));
  if (can.triage && open) parts.push(form("Set severity", [select("severity", "Severity", session.values.severities, i.severity, "choose"), el("label", {}, "Reason", el("input", { name: "reason", required: true }))], (d) => ({ action: "severity", severity: d.get("severity"), reason: d.get("reason") })));
  if (can.resolve && open) parts.push(form("Resolve", [
    el("label", {}, "Resolution note", el("textarea", { name: "note", required: true, rows: 2 })),
    select("rootCause", "Root cause", session.values.rootCauses, null, "choose"),
    el("fieldset", {}, el("legend", {}, "Actions taken"), session.values.actions.map((a) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "actions", value: a }), a))),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "systemic" }), "Systemic (needs a lasting fix)"),
  ], (d) => ({ action: "resolve", note: d.get("note"), rootCause: d.get("rootCause"), actions: d.getAll("actions"), systemic: d.get("systemic") === "on" })));
  if (can.triage && !open) parts.push(form("Reopen", el("label", {}, "Reason", el("input", { name: "reason" })), (d) => ({ action: "reopen", reason: d.get("reason") || undefined })));
  if (parts.length === 0) return el("section", {}, el("h3", {}, "Actions"), el("p", { class: "muted" }, "Your role (" + session.actor.role + ") can only read."), status);
  return el("section", {}, el("h3", {}, "Actions"), parts, status);
}

function bars(title, entries) {
  const max = Math.max(1, ...entries.map((e) => e[1]));
  return el("section", {}, el("h3", {}, title), entries.length === 0 ? el("p", { class: "muted" }, "None.") : el("div", { class: "bars", role: "list" },
    entries.map(([name, n]) => [el("span", { role: "listitem" }, name), el("div", { class: "bar", style: null, "data-width": Math.round((n / max) * 100) }), el("span", {}, n)])));
}

async function review() {
  const since = params.get("since") || "30";
  const sinceIso = since === "all" ? null : new Date(Date.now() - Number(since) * 86400000).toISOString();
  let s;
  try { s = await api("/stats" + (sinceIso ? "?since=" + encodeURIComponent(sinceIso) : "")); } catch (error) { show(problem(message(error))); return; }
  const period = el("form", { class: "inline", method: "get" }, el("input", { type: "hidden", name: "view", value: "review" }),
    el("label", {}, "Period", el("select", { name: "since" }, [["7", "last 7 days"], ["30", "last 30 days"], ["90", "last 90 days"], ["all", "all time"]].map(([v, t]) => el("option", { value: v, selected: v === since }, t)))),
    el("button", { type: "submit" }, "Show"));
  const share = s.systemic.share === null ? "—" : Math.round(s.systemic.share * 100) + "%";
  show(el("h2", {}, "Review"), period,
    el("dl", {}, el("dt", {}, "Incidents"), el("dd", {}, s.total + " (" + s.unresolved + " unresolved)"),
      el("dt", {}, "MTTA"), el("dd", {}, duration(s.mtta.meanMs) + " mean, " + duration(s.mtta.medianMs) + " median"),
      el("dt", {}, "MTTR"), el("dd", {}, duration(s.mttr.meanMs) + " mean, " + duration(s.mttr.medianMs) + " median"),
      el("dt", {}, "Systemic"), el("dd", {}, share + " of " + s.systemic.resolved + " resolved")),
    bars("By severity", Object.entries(s.bySeverity)),
    bars("By kind", Object.entries(s.byKind).filter((e) => e[1] > 0)),
    bars("By agent", Object.entries(s.byAgent).sort((a, b) => b[1] - a[1]).slice(0, 15)),
    bars("Root causes", Object.entries(s.rootCauses).sort((a, b) => b[1] - a[1])),
    el("section", {}, el("h3", {}, "Top recurring"), el("table", {},
      el("thead", {}, el("tr", {}, ["Title", "Fingerprint", "Incidents", "Occurrences"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, s.topRecurring.map((t) => el("tr", {}, el("td", {}, t.title), el("td", {}, el("code", {}, t.fingerprint)), el("td", {}, t.incidents), el("td", {}, t.occurrences)))))));
  // widths through the CSSOM: the policy allows no inline style attributes
  for (const bar of document.querySelectorAll(".bar")) bar.style.width = bar.dataset.width + "%";
}

/** Whether the operator has started filling in a form: a refresh would throw their input away. */
function editing() {
  return [...app.querySelectorAll("input, textarea, select")].some((x) =>
    x.type === "checkbox" ? x.checked !== x.defaultChecked
      : x.tagName === "SELECT" ? [...x.options].some((o) => o.selected !== o.defaultSelected)
      : x.type !== "hidden" && x.value !== x.defaultValue);
}

function changedNotice(id) {
  if (document.getElementById("changed")) return;
  app.prepend(el("p", { id: "changed", role: "status" }, "This incident changed since you opened it. ",
    el("button", { type: "button", onclick: () => detail(id) }, "Show the latest")));
}

/**
 * Live updates. The header says "live" only while the stream is connected and the server is
 * reading changes: the server pings every 15 s, so silence means the connection is gone even when
 * the browser has not noticed (a laptop that slept, a proxy that dropped it).
 */
function listen() {
  if (!("EventSource" in window)) return;
  const live = document.getElementById("live");
  let source = null;
  let pending = null;
  let watchdog = null;
  /** Whether the view may have missed changes by the next connection (it was connected, or hidden, before). */
  let gap = false;
  const refresh = () => {
    const current = params.get("incident");
    clearTimeout(pending);
    pending = setTimeout(() => (current ? detail(current) : list()), 150);
  };
  /** After a gap (a reconnect, a hidden tab) changes may have been missed: show the latest. */
  const catchUp = () => {
    if (params.get("view") === "review") return;
    const current = params.get("incident");
    if (editing()) return current ? changedNotice(current) : undefined;
    refresh();
  };
  const alive = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (source) source.close();
      live.textContent = "reconnecting…";
      connect();
    }, 40000);
  };
  const connect = () => {
    live.textContent = "connecting…";
    const mine = new EventSource(BASE + "/api/events");
    source = mine;
    mine.addEventListener("open", () => {
      live.textContent = "live";
      alive();
      if (gap) catchUp();
      gap = true;
    });
    mine.addEventListener("error", () => {
      if (source !== mine) return;
      clearTimeout(watchdog);
      // closed for good (signed out, or the server refused): say so instead of "reconnecting" forever
      live.textContent = mine.readyState === EventSource.CLOSED ? "not live: reload the page" : "reconnecting…";
    });
    mine.addEventListener("ping", alive);
    mine.addEventListener("state", (event) => {
      alive();
      const state = JSON.parse(event.data);
      live.textContent = state.live ? "live" : "not live: " + state.reason;
    });
    mine.addEventListener("change", (event) => {
      alive();
      const change = JSON.parse(event.data);
      const current = params.get("incident");
      if (params.get("view") === "review") return;
      if (current && current !== change.id) return;
      if (current && shown && shown.version >= change.version) return; // already showing it (our own change)
      if (current && editing()) return changedNotice(current);
      refresh();
    });
  };
  // a hidden tab gives its connection back (browsers allow six per server), and catches up when shown
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      if (source) source.close();
      source = null;
      clearTimeout(watchdog);
      gap = true;
      live.textContent = "paused";
    } else if (!source) {
      connect();
    }
  });
  if (!document.hidden) connect();
}

main();
`;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function consolePage(options: { nonce: string; title: string; base: string }): string {
  const { nonce, title, base } = options;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-base="${escapeHtml(base)}">
<header><h1>${escapeHtml(title)}</h1><nav aria-label="Views"><a href="${escapeHtml(base || "/")}">Incidents</a><a href="${escapeHtml(base || "")}?view=review">Review</a></nav><span class="who" id="who"></span><span class="live" id="live" aria-live="polite"></span></header>
<main id="app"><p class="muted">Loading…</p></main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
