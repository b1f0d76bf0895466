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

export function row(i: Incident, color: boolean): string {
  const severity = paint(color, SEVERITY_STYLE[i.severity], i.severity.padEnd(9));
  return `${String(i.number).padEnd(6)} ${severity} ${i.status.padEnd(13)} ${cell(i.agentId ?? "-", 18)} ${String(i.occurrences).padEnd(5)} ${shortTime(i.lastSeenAt).padEnd(20)} ${cell(i.title, 80).trimEnd()}`;
}

export function showText(context: IncidentContext, color: boolean): string {
  const i = context.incident;
  const lines = [
    paint(color, "bold", `${tag(i, color)} ${cell(i.title, 200).trimEnd()}`),
    `  status       ${i.status}`,
    `  assignee     ${i.assignee === null ? "nobody" : plain(i.assignee)}`,
    `  severity     ${i.severity}: ${plain(i.severityReason.explanation)}`,
    `  kind         ${i.kind}`,
    `  agent        ${plain(i.agentId)} in ${i.environment}`,
    `  run          ${plain(i.runId)}, event ${plain(i.eventId)}`,
    `  occurrences  ${i.occurrences} (first ${i.firstSeenAt}, last ${i.lastSeenAt})`,
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
  if (context.snapshot) lines.push("", "Snapshot (redacted):", safeJson(context.snapshot).replace(/^/gm, "  "));
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
