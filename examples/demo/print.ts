import type { Activity, Incident, IncidentContext, IncidentStats, Severity } from "agent-incidents";

const tty = process.stdout.isTTY === true && !process.env["NO_COLOR"];
const paint = (code: string) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint("1");
export const dim = paint("2");
const SEVERITY_COLOR: Record<Severity, (t: string) => string> = { critical: paint("1;31"), high: paint("31"), medium: paint("33"), low: paint("36") };

export const severity = (s: Severity) => SEVERITY_COLOR[s](s.toUpperCase().padEnd(8));

export function heading(text: string): void {
  console.log(`\n${bold(text)}\n${dim("─".repeat(Math.min(96, text.length + 8)))}`);
}

/** A duration as people say it: "40 s", "12 min", "3 h". */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

const ago = (iso: string, now: Date) => {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  return s < 90 ? `${s}s ago` : s < 5400 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};

const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width));

/** The console's list: one line per incident, sorted as `list()` returns them. */
export function printTable(items: Incident[], now: Date): void {
  console.log(dim(`${"#".padStart(4)}  ${"SEVERITY"}  ${"STATUS".padEnd(13)}  ${"AGENT".padEnd(12)}  ${"SEEN".padStart(4)}  ${"LAST".padEnd(8)}  TITLE`));
  for (const i of items) {
    console.log(
      `${String(i.number).padStart(4)}  ${severity(i.severity)}  ${i.status.padEnd(13)}  ${cut(i.agentId ?? "-", 12)}  ${`${i.occurrences}x`.padStart(4)}  ${ago(i.lastSeenAt, now).padEnd(8)}  ${cut(i.title, 60)}`,
    );
  }
  if (items.length === 0) console.log(dim("  (none)"));
}

/** One incident's detail: what happened, why this severity, the triggering event and the run. */
export function printDetail(ctx: IncidentContext): void {
  const i = ctx.incident;
  console.log(`${bold(`#${i.number} ${i.title}`)}  ${dim(i.id)}`);
  console.log(`  severity   ${severity(i.severity)} ${dim(`${i.severityReason.rule}: ${i.severityReason.explanation}`)}`);
  console.log(`  status     ${i.status}   version ${i.version}   occurrences ${i.occurrences}`);
  console.log(`  where      ${i.agentId} in ${i.environment}, run ${i.runId}, event ${i.eventId}`);
  console.log(`  summary    ${i.summary}`);
  const action = ctx.snapshot?.action;
  if (action) console.log(`  action     ${action.type} ${dim(JSON.stringify(action.payload ?? {}))}`);
  if (ctx.snapshot?.data) console.log(`  context    ${dim(JSON.stringify(ctx.snapshot.data))}`);
  const trigger = ctx.snapshot?.events.find((e) => e.id === i.eventId);
  if (trigger) console.log(`  trigger    ${trigger.type} at ${trigger.at} ${dim(JSON.stringify(trigger.data ?? {}))}`);
  const events = ctx.run?.events ?? ctx.snapshot?.events ?? [];
  console.log(`  run        ${ctx.run ? `${ctx.run.status} (from the RunSource)` : "(snapshot only)"}`);
  for (const e of events) {
    const mark = e.id === i.eventId ? bold("▶") : " ";
    console.log(`   ${mark} ${dim(e.at.slice(11, 19))}  ${e.type.padEnd(20)} ${dim(JSON.stringify(e.data ?? {}))}`);
  }
}

export function printActivity(activity: Activity[]): void {
  for (const a of activity) {
    const { resolution, ...after } = a.after ?? {};
    const shown = resolution ? { ...after, rootCause: (resolution as { rootCause: string }).rootCause } : after;
    const change = Object.keys(shown).length > 0 ? dim(JSON.stringify(shown)) : "";
    console.log(`  v${a.version}  ${dim(a.at.slice(11, 19))}  ${a.type.padEnd(16)} ${a.actor.id.padEnd(20)} ${a.message ? `"${a.message}" ` : ""}${change}`);
  }
}

const minutes = (ms: number | null) => (ms === null ? "-" : `${(ms / 60_000).toFixed(1)} min`);

export function printStats(stats: IncidentStats): void {
  console.log(`  incidents  ${stats.total} (${stats.unresolved} unresolved)`);
  console.log(`  MTTA       ${minutes(stats.mtta.meanMs)} over ${stats.mtta.count}   MTTR ${minutes(stats.mttr.meanMs)} over ${stats.mttr.count}`);
  console.log(`  severity   ${Object.entries(stats.bySeverity).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(`  kind       ${Object.entries(stats.byKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(`  agents     ${Object.entries(stats.byAgent).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  console.log(`  root cause ${Object.entries(stats.rootCauses).map(([k, v]) => `${k} ${v}`).join(", ") || "-"}`);
  for (const r of stats.topRecurring.slice(0, 3)) console.log(`  recurring  ${r.occurrences}x  ${r.title}`);
}
