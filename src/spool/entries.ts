/**
 * What the spool keeps: a report as it will be written later, and its line in the spool file.
 * Reading the file back is here too: which lines are reports, which cannot be read.
 */
import { z } from "zod";
import { ActivityActorSchema, type ActivityActor } from "../core/incident.js";
import { IdSchema, TimestampSchema } from "../core/schemas.js";
import type { ReportableSignal } from "../core/signals.js";
import type { SpooledReportIdentity } from "../events.js";
import { readJournal } from "./journal.js";

/** Everything needed to write a report later: the cleaned signal, who reported it, and when. */
export interface PendingReport {
  signal: ReportableSignal;
  actor: ActivityActor;
  at: string;
}

export interface Entry {
  report: PendingReport;
  spooledAt: string;
  /** The report as one line of the spool file (JSON, no newline). */
  line: string;
  /** The line's bytes with its newline: what counts against `maxBytes`. */
  bytes: number;
}

const KINDS = ["policy_blocked", "execution_failed", "approval_rejected", "agent_error", "anomaly"] as const satisfies readonly ReportableSignal["kind"][];

/** A line of the spool file. The signal is checked, never copied through zod: its payloads may hold `__proto__` keys. */
const LineSchema = z.object({
  v: z.literal(1),
  at: TimestampSchema,
  spooledAt: TimestampSchema,
  actor: ActivityActorSchema,
  signal: z.looseObject({ kind: z.enum(KINDS), workspaceId: IdSchema, agentId: IdSchema, runId: IdSchema, eventId: IdSchema }),
});

export function entryOf(report: PendingReport, spooledAt: string): Entry {
  const line = JSON.stringify({ v: 1, at: report.at, spooledAt, actor: report.actor, signal: report.signal });
  return { report, spooledAt, line, bytes: Buffer.byteLength(line) + 1 };
}

export function identityOf({ signal, at }: PendingReport): SpooledReportIdentity {
  return { workspaceId: signal.workspaceId, agentId: signal.agentId, kind: signal.kind, runId: signal.runId, eventId: signal.eventId, at };
}

/**
 * The reports a previous process left in `filename`, oldest first, each key once (a later line
 * of the same key would be a duplicate); the numbers of the lines that could not be read; and
 * whether the file should be rewritten with only the reports (it had bad or repeated lines, or
 * was cut mid-line, so that the next append would join that line).
 */
export function readEntries(filename: string): { entries: Entry[]; unreadable: number[]; size: number; rewrite: boolean } {
  const { lines, size, tornTail } = readJournal(filename);
  const entries: Entry[] = [];
  const unreadable: number[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  for (const line of lines) {
    if (!("value" in line) || !LineSchema.safeParse(line.value).success) {
      unreadable.push(line.line);
      continue;
    }
    const value = line.value as { at: string; spooledAt: string; actor: ActivityActor; signal: ReportableSignal };
    const key = JSON.stringify([value.signal.workspaceId, value.signal.kind, value.signal.runId, value.signal.eventId]);
    if (seen.has(key)) {
      repeated += 1;
      continue;
    }
    seen.add(key);
    entries.push({ report: { signal: value.signal, actor: value.actor, at: value.at }, spooledAt: value.spooledAt, line: line.text, bytes: Buffer.byteLength(line.text) + 1 });
  }
  return { entries, unreadable, size, rewrite: unreadable.length > 0 || repeated > 0 || tornTail };
}
