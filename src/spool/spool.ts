/**
 * The report spool: reports the store could not take wait here, oldest first, until it answers.
 * A report's path: the engine's `ingest` cleans the signal and stamps its time, then calls
 * `report()`. With nothing waiting it is written at once (the engine's `ingestAt`); a retryable
 * `StorageError` keeps it, and so does anything waiting before it. The drainer writes the oldest
 * through `ingestAt` again, with the report's own time and signal, so the store's idempotency key
 * (kind, runId, eventId) counts a replay of a write whose outcome was unknown once.
 */
import { z } from "zod";
import { ClosedError, describeError, StorageError } from "../core/errors.js";
import { ActivityActorSchema, type ActivityActor } from "../core/incident.js";
import { IdSchema, TimestampSchema } from "../core/schemas.js";
import type { ReportableSignal } from "../core/signals.js";
import { isSafeId } from "../core/text.js";
import type { ReportResult, SpooledReport, WrittenReport } from "../engine.js";
import type { IncidentEvent, IncidentEvents, ReportSpoolEventType, SpooledReportIdentity } from "../events.js";
import { ulidFactory } from "../ids.js";
import { openJournal, readJournal, replaceFileSync, type Journal } from "./journal.js";

/** The `spool` option: limits of the reports kept while the store is away, and an optional file. */
const SpoolObjectSchema = z
  .object({
    maxReports: z.number().int().min(1).max(10_000_000).optional(),
    maxBytes: z.number().int().min(1024).max(2 ** 40).optional(),
    filename: z.string().min(1).max(4096).refine((f) => isSafeId(f), "must not contain NUL or unpaired surrogate characters").optional(),
  })
  .strict();
export type SpoolOptions = z.input<typeof SpoolObjectSchema>;
/** `false`, or the options; not a union, so that an error names the field (`spool.maxReports`), not only `spool`. */
export const SpoolOptionsSchema = z.preprocess((value) => (value === false ? undefined : value), SpoolObjectSchema.optional());

export const DEFAULT_SPOOL = { maxReports: 10_000, maxBytes: 64 * 1024 * 1024 } as const;

/** Everything needed to write a report later: the cleaned signal, who reported it, and when. */
export interface PendingReport {
  signal: ReportableSignal;
  actor: ActivityActor;
  at: string;
}

export interface SpoolConfig {
  maxReports: number;
  maxBytes: number;
  filename: string | undefined;
  /** Writes a report as of its own time (the engine's `ingestAt`). */
  write(report: PendingReport): Promise<WrittenReport>;
  events: IncidentEvents;
  /** The store's name, for the errors the spool raises. */
  adapter: string;
}

export interface Spool {
  /** Writes the report, or keeps it; `check` runs before a report is kept without being tried. */
  report(report: PendingReport, check: () => void): Promise<ReportResult>;
  /** Writes what is kept until `deadline` (ms since the epoch), then reports what is left. Never rejects. */
  close(deadline: number): Promise<void>;
}

interface Entry {
  report: PendingReport;
  spooledAt: string;
  /** The report as one line of the spool file. */
  line: string;
  bytes: number;
}

const SPOOLED: SpooledReport = Object.freeze({ incident: null, outcome: "spooled" });
const KINDS = ["policy_blocked", "execution_failed", "approval_rejected", "agent_error", "anomaly"] as const satisfies readonly ReportableSignal["kind"][];

/** A line of the spool file. The signal is checked, never copied through zod: its payloads may hold `__proto__` keys. */
const LineSchema = z.object({
  v: z.literal(1),
  at: TimestampSchema,
  spooledAt: TimestampSchema,
  actor: ActivityActorSchema,
  signal: z.looseObject({ kind: z.enum(KINDS), workspaceId: IdSchema, agentId: IdSchema, runId: IdSchema, eventId: IdSchema }),
});

export function createSpool(config: SpoolConfig): Spool {
  const { events, adapter } = config;
  const queue: Entry[] = [];
  let bytes = 0;
  let state: "open" | "closing" | "stopped" = "open";
  // a function, not a comparison: TypeScript would keep a narrowing of `state` across awaits
  const stopped = () => state === "stopped";
  let draining: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const nextId = ulidFactory();

  const emit = <T extends ReportSpoolEventType>(type: T, data: IncidentEvent<T>["data"]): void => {
    if (!events.has(type)) return;
    events.emit({ id: `evt_${nextId()}`, type, timestamp: new Date().toISOString(), data } as IncidentEvent<T>);
  };
  const dropped = (report: PendingReport, reason: string) => emit("report.dropped", { ...identityOf(report), reason });

  const retryable = (error: unknown) => error instanceof StorageError && error.retryable;

  const keep = async (report: PendingReport, cause: unknown): Promise<ReportResult> => {
    if (state === "stopped") {
      dropped(report, "closed");
      throw cause ?? new ClosedError();
    }
    const spooledAt = new Date().toISOString();
    const line = JSON.stringify({ v: 1, at: report.at, spooledAt, actor: report.actor, signal: report.signal });
    const size = Buffer.byteLength(line) + 1;
    if (queue.length >= config.maxReports || bytes + size > config.maxBytes) {
      dropped(report, "spool full");
      const why = cause === undefined ? "older reports are still waiting for the store" : `the store failed: ${describeError(cause)}`;
      throw new StorageError(
        adapter,
        `report not kept: the spool is full (${queue.length} reports, ${bytes} bytes; limits ${config.maxReports} reports, ${config.maxBytes} bytes) and ${why}`,
        { cause, retryable: true },
      );
    }
    queue.push({ report, spooledAt, line, bytes: size });
    bytes += size;
    const spool = { reports: queue.length, bytes };
    drain(cause !== undefined);
    if (journal) {
      try {
        await journal.append(line);
      } catch (error) {
        throw new StorageError(adapter, `report kept in memory only: the spool file ${config.filename} could not be written: ${describeError(error)}`, { cause: error, retryable: true });
      }
    }
    emit("report.spooled", { ...identityOf(report), spool, kept: false });
    return SPOOLED;
  };

  const drain = (afterFailure: boolean): void => {
    if (draining || state === "stopped") return;
    draining = writeAll(afterFailure ? 1 : 0).finally(() => {
      draining = null;
      if (queue.length > 0) drain(false);
    });
  };

  /** Writes the oldest report until none is left, waiting longer after each retryable failure. */
  const writeAll = async (failures: number): Promise<void> => {
    while (queue.length > 0 && !stopped()) {
      if (failures > 0) await pause(backoff(failures));
      if (stopped()) return;
      const entry = queue[0]!;
      try {
        const written = await config.write(entry.report);
        // once stopped, close() has reported the entry already
        if (stopped()) return;
        take();
        failures = 0;
        emit("report.written", { incident: written.incident, outcome: written.outcome, spooledAt: entry.spooledAt });
      } catch (error) {
        if (stopped()) return;
        if (retryable(error)) {
          failures += 1;
          continue;
        }
        take();
        failures = 0;
        dropped(entry.report, describeError(error));
      }
    }
    if (journal && !stopped()) {
      // a failed truncate only leaves lines whose replay is a duplicate
      if (queue.length === 0) await journal.rewrite([]).catch(ignore);
    }
  };

  const take = (): void => {
    bytes -= queue.shift()!.bytes;
    // the file keeps written reports until the spool drains: compact one that grew far past what waits
    if (journal && queue.length > 0 && journal.size > 2 * bytes + 1024 * 1024) void journal.rewrite(queue.map((e) => e.line)).catch(ignore);
  };

  /** Waits `ms`; `wake` cuts it short. Only close() (which the host awaits) keeps the process alive. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (state === "open") timer.unref();
      wake = done;
    });

  const journal: Journal | null = config.filename === undefined ? null : load(config.filename);

  /** Takes what a previous process left in the file; bad lines are reported once, then removed. */
  function load(filename: string): Journal {
    let read: ReturnType<typeof readJournal>;
    try {
      read = readJournal(filename);
      // made now, so that a path that cannot be written fails createIncidents, not a report during an outage
      if (read.size === 0) replaceFileSync(filename, "");
    } catch (error) {
      throw new StorageError(adapter, `cannot use the spool file ${filename}: ${describeError(error)}`, { cause: error });
    }
    const { lines, size, tornTail } = read;
    const seen = new Set<string>();
    const unreadable: number[] = [];
    let duplicates = 0;
    for (const line of lines) {
      if (!("value" in line) || !LineSchema.safeParse(line.value).success) {
        unreadable.push(line.line);
        continue;
      }
      const value = line.value as { at: string; spooledAt: string; actor: ActivityActor; signal: ReportableSignal };
      const key = JSON.stringify([value.signal.workspaceId, value.signal.kind, value.signal.runId, value.signal.eventId]);
      if (seen.has(key)) {
        duplicates += 1;
        continue;
      }
      seen.add(key);
      const size = Buffer.byteLength(line.text) + 1;
      queue.push({ report: { signal: value.signal, actor: value.actor, at: value.at }, spooledAt: value.spooledAt, line: line.text, bytes: size });
      bytes += size;
    }
    let fileSize = size;
    if (unreadable.length > 0 || duplicates > 0 || tornTail) {
      const text = queue.map((e) => `${e.line}\n`).join("");
      replaceFileSync(filename, text);
      fileSize = Buffer.byteLength(text);
    }
    // after createIncidents returns, so that handlers registered right after it hear these
    setImmediate(() => {
      for (const line of unreadable) {
        emit("report.dropped", { workspaceId: null, agentId: null, kind: null, runId: null, eventId: null, at: null, reason: "unreadable spool line", line });
      }
      drain(false);
    }).unref();
    return openJournal(filename, fileSize);
  }

  return {
    async report(report, check) {
      if (queue.length === 0) {
        try {
          return await config.write(report);
        } catch (error) {
          if (!retryable(error)) throw error;
          return await keep(report, error);
        }
      }
      // never overtakes what waits; a host callback that would fail it fails now, not on replay
      check();
      return await keep(report, undefined);
    },

    async close(deadline) {
      if (state !== "open") return;
      state = "closing";
      wake?.();
      while (queue.length > 0 && Date.now() < deadline) {
        drain(false);
        if (!(await within(draining, deadline))) break;
      }
      state = "stopped";
      wake?.();
      const left = queue.splice(0);
      const leftBytes = bytes;
      bytes = 0;
      for (const entry of left) {
        if (journal) emit("report.spooled", { ...identityOf(entry.report), spool: { reports: left.length, bytes: leftBytes }, kept: true });
        else dropped(entry.report, "closed before the store answered");
      }
      if (!journal) return;
      if (left.length > 0 && journal.size > leftBytes) await journal.rewrite(left.map((e) => e.line)).catch(ignore);
      await journal.close();
    },
  };
}

function identityOf({ signal, at }: PendingReport): SpooledReportIdentity {
  return { workspaceId: signal.workspaceId, agentId: signal.agentId, kind: signal.kind, runId: signal.runId, eventId: signal.eventId, at };
}

/** Capped exponential backoff with jitter: 50 ms doubling to 2 s, each wait between half and all of it. */
function backoff(failures: number): number {
  const ms = Math.min(2000, 50 * 2 ** Math.min(failures - 1, 10));
  return ms / 2 + (Math.random() * ms) / 2;
}

/** True when `promise` settled before `deadline`; the timer keeps the process alive (the host awaits it). */
export async function within(promise: Promise<unknown> | null, deadline: number): Promise<boolean> {
  if (!promise) return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function ignore(): void {
  // a spool file that cannot be tidied keeps lines whose replay is a duplicate
}
