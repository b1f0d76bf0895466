/**
 * How incidents, their detail and the stats read on a terminal. Every string that came from an
 * agent, a host or an operator goes through `plain`/`cell`: nothing reaches the terminal as a command.
 */
import type { styleText } from "node:util";
import type { Incident, IncidentContext, IncidentStats, Severity } from "agent-incidents";
import { cell, paint, plain, safeJson, shortTime } from "./text.js";

const SEVERITY_STYLE: Record<Severity, Parameters<typeof styleText>[0]> = { critical: ["bold", "red"], high: "red", medium: "yellow", low: "cyan" };

/** `#2 critical`, coloured by severity. */
export const tag = (i: Incident, color: boolean) => paint(color, SEVERITY_STYLE[i.severity], `#${i.number} ${i.severity}`);

/** The list's header line; rows come from `row`, so a long export can be written page by page. */
export const header = (color: boolean) =>
  paint(color, "bold", `${"#".padEnd(6)} ${"SEVERITY".padEnd(9)} ${"STATUS".padEnd(13)} ${"AGENT".padEnd(18)} ${"SEEN".padEnd(5)} ${"LAST SEEN".padEnd(20)} TITLE`);

/** One incident on one line; `badge` says why it is quiet (`[silenced sil_…]`), after the title. */
export function row(i: Incident, color: boolean, badge = ""): string {
  const severity = paint(color, SEVERITY_STYLE[i.severity], i.severity.padEnd(9));
  // a group has no agent of its own: it stands for its members' agents
  const agent = i.agentId ?? (i.group ? `${i.group.agents.length}${i.group.agents.length >= 100 ? "+" : ""} agent${i.group.agents.length === 1 ? "" : "s"}` : "-");
  const quiet = badge ? `  ${paint(color, "dim", badge)}` : "";
  return `${String(i.number).padEnd(6)} ${severity} ${i.status.padEnd(13)} ${cell(agent, 18)} ${String(i.occurrences).padEnd(5)} ${shortTime(i.lastSeenAt).padEnd(20)} ${cell(i.title, 80).trimEnd()}${quiet}`;
}

/** What `show` adds for noise control: the quiet line, and a group's members. */
export interface ShowNoise {
  /** The `quiet` line (see quiet.ts). */
  quiet: string;
  /** `con_openai rate_limited · 37 members · agents …`, for a group incident. */
  group: string;
  /** A group's member rows (with their badges), and how many more there are. */
  members: { rows: string[]; more: number } | null;
}

export function showText(context: IncidentContext, color: boolean, noise?: ShowNoise): string {
  const i = context.incident;
  const lines = [
    paint(color, "bold", `${tag(i, color)} ${cell(i.title, 200).trimEnd()}`),
    `  status       ${i.status}`,
    `  assignee     ${i.assignee === null ? "nobody" : plain(i.assignee)}`,
    `  severity     ${i.severity}: ${plain(i.severityReason.explanation)}`,
    `  kind         ${i.kind}`,
    ...(noise?.group ? [`  group        ${noise.group}`, `  environment  ${i.environment}`] : [`  agent        ${plain(i.agentId)} in ${i.environment}`, `  run          ${plain(i.runId)}, event ${plain(i.eventId)}`]),
    `  ${i.kind === "group" ? "members     " : "occurrences "} ${i.occurrences} (first ${i.firstSeenAt}, last ${i.lastSeenAt})`,
    ...(noise ? [`  quiet        ${noise.quiet}`] : []),
  ];
  if (i.resolution) {
    const r = i.resolution;
    lines.push(
      `  resolved     ${i.resolvedAt ?? "-"}`,
      `  root cause   ${r.rootCause}${r.systemic ? " (systemic: needs a lasting fix)" : ""}`,
      `  actions      ${r.actions.length === 0 ? "none" : r.actions.join(", ")}`,
      `  note         ${cell(r.note, 200).trimEnd()}`,
    );
  }
  lines.push(
    `  id           ${plain(i.id)}`,
    "",
    "Activity:",
    ...context.activity.map((a) => `  ${a.at}  ${plain(a.actor.id)}  ${a.type}${a.message ? `: ${cell(a.message, 120).trimEnd()}` : ""}`),
  );
  if (noise?.members) {
    const { rows, more } = noise.members;
    lines.push("", "Members:", ...(rows.length === 0 ? ["  none"] : [`  ${header(color)}`, ...rows.map((r) => `  ${r}`)]));
    if (more > 0) lines.push(`  … and ${more} more (agent-incidents list --members --json)`);
  }
  const snapshot = context.snapshot;
  // a group's (or an escalation's) snapshot holds nothing: no block of nulls
  const empty = snapshot !== null && snapshot.events.length === 0 && !snapshot.action && !snapshot.policy && !snapshot.data;
  if (snapshot && !empty) lines.push("", "Snapshot (redacted):", safeJson(snapshot).replace(/^/gm, "  "));
  return lines.join("\n");
}

/** `period` says which incidents these are: "in the last 30 days (since ...)", "since ...", "of all time". */
export function statsText(s: IncidentStats, period: string): string {
  const duration = (ms: number | null) => (ms === null ? "-" : ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);
  const counts = (entries: Array<[string, number]>) => plain(entries.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")) || "-";
  const lines = [
    `incidents    ${s.total} (${s.unresolved} unresolved) ${period}`,
    `MTTA         ${duration(s.mtta.meanMs)} mean, ${duration(s.mtta.medianMs)} median`,
    `MTTR         ${duration(s.mttr.meanMs)} mean, ${duration(s.mttr.medianMs)} median`,
    `by severity  ${Object.entries(s.bySeverity).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `by kind      ${counts(Object.entries(s.byKind))}`,
    `by agent     ${counts(Object.entries(s.byAgent))}`,
    `root causes  ${counts(Object.entries(s.rootCauses) as Array<[string, number]>)}`,
    `systemic     ${s.systemic.share === null ? "-" : `${Math.round(s.systemic.share * 100)}%`} of ${s.systemic.resolved} resolved`,
    `top recurring${s.topRecurring.length === 0 ? "  none yet" : ""}`,
    ...s.topRecurring.map((t) => `  ${String(t.occurrences).padStart(5)} seen in ${String(t.incidents).padStart(3)} incident${t.incidents === 1 ? " " : "s"}  ${cell(t.title, 70)}  ${plain(t.fingerprint)}`),
  ];
  return lines.join("\n");
}
