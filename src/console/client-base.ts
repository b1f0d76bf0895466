/**
 * The page script's common part: building elements (text only), calling the JSON API, and the
 * one way every value reaches the screen. A time is a `<time>` saying how long ago, with the
 * absolute time and zone on hover; a change, a resolution or a missing value is written out in
 * words, never `String(value)`.
 */
export const CLIENT_BASE = String.raw`
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
const sev = (s) => el("span", { class: "sev " + s }, s);
const href = (query) => { const q = new URLSearchParams(query).toString(); return location.pathname + (q ? "?" + q : ""); };
const say = (v) => "\u201c" + v + "\u201d";

const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
const ABSOLUTE = new Intl.DateTimeFormat(undefined, { weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
const DAY_ONLY = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
/** How long ago (or until) a time: "just now", "12 min ago", "3 h ago", "5 days ago", then the date. */
function ago(time, now) {
  const seconds = Math.round((now - time) / 1000);
  const a = Math.abs(seconds);
  if (a < 45) return "just now";
  if (a >= 60 * 86400) return DAY_ONLY.format(time);
  const n = a < 3600 ? Math.max(1, Math.round(a / 60)) + " min" : a < 86400 ? Math.floor(a / 3600) + " h" : Math.floor(a / 86400) + (a < 2 * 86400 ? " day" : " days");
  return seconds < 0 ? "in " + n : n + " ago";
}
/** A time as the page shows every time; "—" for none. */
function when(iso) {
  const time = typeof iso === "string" ? Date.parse(iso) : NaN;
  if (!Number.isFinite(time)) return el("span", { class: "muted" }, "—");
  return el("time", { datetime: new Date(time).toISOString(), title: ABSOLUTE.format(time) + " (" + ZONE + ")" }, ago(time, Date.now()));
}
// relative times stay true while the page is open
setInterval(() => {
  for (const node of document.querySelectorAll("time[datetime]")) node.textContent = ago(Date.parse(node.dateTime), Date.now());
}, 30000);
const duration = (ms) => (typeof ms !== "number" || !Number.isFinite(ms) ? "—" : ms < 60000 ? Math.round(ms / 1000) + " s" : ms < 3600000 ? Math.round(ms / 60000) + " min" : (ms / 3600000).toFixed(1) + " h");

const LABELS = { rootCause: "root cause", acknowledgedAt: "acknowledged", resolvedAt: "resolved", lastSeenAt: "last seen", groupId: "group" };
const label = (field) => LABELS[field] || field.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
/** A resolution in words; its note only when it is not already beside it. */
function resolutionText(r, besideNote) {
  const parts = ["root cause " + r.rootCause, "actions: " + (r.actions && r.actions.length ? r.actions.join(", ") : "none"), r.systemic ? "systemic" : "not systemic"];
  if (r.note && r.note !== besideNote) parts.push("note: " + r.note);
  return parts.join("; ");
}
/** Any stored value in words. */
function words(v, field) {
  if (v === null || v === undefined || v === "") return field === "assignee" ? "nobody" : "none";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "—";
  if (typeof v === "string") return /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$/.test(v) ? ABSOLUTE.format(Date.parse(v)) : v;
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.map((x) => words(x)).join(", ");
  if (typeof v === "object" && "rootCause" in v) return resolutionText(v);
  if (typeof v === "object") return Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => label(k) + " " + words(x, k)).join(", ") || "none";
  return "—";
}
/** What an activity entry changed, in words: "status: open → acknowledged · assignee: nobody → usr_bo". */
function changeText(a, groups) {
  // a group by its number when the page knows it
  const named = (side) => {
    const g = side && typeof side.groupId === "string" ? (groups || []).find((x) => x.id === side.groupId) : null;
    return g ? Object.assign({}, side, { groupId: "#" + g.number }) : side || {};
  };
  const before = named(a.before);
  const after = named(a.after);
  const out = [];
  for (const f of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
    if (f === "resolution") {
      if (after.resolution) out.push("resolution: " + resolutionText(after.resolution, a.message));
      else if (before.resolution) out.push("resolution removed (was " + resolutionText(before.resolution, a.message) + ")");
      continue;
    }
    const had = f in before;
    const has = f in after;
    if (had && has && JSON.stringify(before[f]) === JSON.stringify(after[f])) out.push(label(f) + ": " + words(after[f], f));
    else if (had && has) out.push(label(f) + ": " + words(before[f], f) + " → " + words(after[f], f));
    else if (has) out.push(label(f) + ": " + words(after[f], f));
    else out.push(label(f) + ": " + words(before[f], f) + " → " + words(null, f));
  }
  return out.join(" · ");
}
const ACTIVITY = { status_changed: "status changed", severity_changed: "severity changed", note_added: "note added" };
const activityName = (a) => (a.type === "status_changed" && a.after && a.after.status === "investigating" ? "started investigating" : ACTIVITY[a.type] || a.type);
function who(actor) {
  if (actor.type === "user") return actor.id + (actor.role ? " (" + actor.role + ")" : "");
  if (actor.id.startsWith("agent:")) return "agent " + actor.id.slice(6);
  return "system" + (actor.id ? " (" + actor.id + ")" : "");
}

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
function notices(lines) { return lines.length === 0 ? null : el("div", { class: "notice", role: "status" }, lines.map((line) => el("p", {}, line))); }
/** A cell of a table that becomes cards on a phone: there, its column's name shows beside it. */
const cell = (name, cls, ...content) => el("td", { class: cls }, el("span", { class: "label" }, name), content);
/** A wide table in a box that scrolls sideways on a narrow screen, instead of the page. */
const scroller = (table) => el("div", { class: "scroll" }, table);

function select(name, label, values, current, any) {
  return el("label", {}, label, el("select", { name }, any === null ? null : el("option", { value: "" }, any), values.map((v) => Array.isArray(v)
    ? el("option", { value: v[0], selected: v[0] === current }, v[1])
    : el("option", { value: v, selected: v === current }, v))));
}
`;
