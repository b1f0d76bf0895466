/**
 * The report spool: reports the store could not take wait here, oldest first, until it answers.
 * A report's path: the engine's `ingest` cleans the signal and stamps its time, then calls
 * `report()`. With nothing waiting it is written at once (the engine's `ingestAt`); a retryable
 * `StorageError` keeps it, and so does anything waiting before it. The drainer (drainer.ts) writes
 * the oldest through `ingestAt` again, with the report's own time and signal, so the store's
 * idempotency key (kind, runId, eventId) counts a replay of a write whose answer was lost once.
 * With a file, each kept report is also a line of it (journal.ts) until the spool drains.
 */
import { resolve } from "node:path";
import { ClosedError, describeError, StorageError, ValidationError } from "../core/errors.js";
import type { ReportResult, SpooledReport, WrittenReport } from "../engine.js";
import type { IncidentEvent, IncidentEvents, ReportSpoolEventType } from "../events.js";
import { ulidFactory } from "../ids.js";
import { createDrainer } from "./drainer.js";
import { entryOf, identityOf, readEntries, type Entry, type PendingReport } from "./entries.js";
import { openJournal, replaceFileSync, type Journal } from "./journal.js";

export type { PendingReport } from "./entries.js";

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

const SPOOLED: SpooledReport = Object.freeze({ incident: null, outcome: "spooled" });
/** Spool files open in this process: two spools on one file would empty each other's. */
const openFiles = new Set<string>();

export function createSpool(config: SpoolConfig): Spool {
  const { events, adapter } = config;
  const queue: Entry[] = [];
  let bytes = 0;
  let state: "open" | "closing" | "stopped" = "open";
  const nextId = ulidFactory();
  /** Lines of the file that could not be read, until they are reported (once). */
  let unreadable: number[] = [];

  const emit = <T extends ReportSpoolEventType>(type: T, data: IncidentEvent<T>["data"]): void => {
    if (!events.has(type)) return;
    events.emit({ id: `evt_${nextId()}`, type, timestamp: new Date().toISOString(), data } as IncidentEvent<T>);
  };
  const dropped = (report: PendingReport, reason: string) => emit("report.dropped", { ...identityOf(report), reason });
  const retryable = (error: unknown) => error instanceof StorageError && error.retryable;

  const journal: Journal | null = config.filename === undefined ? null : load(config.filename);

  const drainer = createDrainer({
    queue,
    write: (entry) => config.write(entry.report),
    retryable,
    settled(entry, result) {
      bytes -= entry.bytes;
      if ("written" in result) {
        emit("report.written", { incident: result.written.incident, outcome: result.written.outcome, spooledAt: entry.spooledAt });
      } else {
        dropped(entry.report, describeError(result.error));
      }
      // the file keeps written reports until the spool drains: compact one that grew far past what waits
      if (journal && queue.length > 0 && journal.size > 2 * bytes + 1024 * 1024) void journal.rewrite(queue.map((e) => e.line)).catch(ignore);
    },
    // a file that cannot be emptied keeps lines whose replay is a duplicate
    drained: async () => journal?.rewrite([]).catch(ignore),
  });

  const keep = async (report: PendingReport, cause: unknown): Promise<ReportResult> => {
    if (state === "stopped") {
      dropped(report, "closed");
      throw cause ?? new ClosedError();
    }
    const entry = entryOf(report, new Date().toISOString());
    if (queue.length >= config.maxReports || bytes + entry.bytes > config.maxBytes) {
      dropped(report, "spool full");
      const why = cause === undefined ? "older reports are still waiting for the store" : `the store failed: ${describeError(cause)}`;
      throw new StorageError(
        adapter,
        `report not kept: the spool is full (${queue.length} reports, ${bytes} bytes; limits ${config.maxReports} reports, ${config.maxBytes} bytes) and ${why}`,
        { cause, retryable: true },
      );
    }
    queue.push(entry);
    bytes += entry.bytes;
    // before the drainer can write it, so that report.spooled always comes before its report.written
    emit("report.spooled", { ...identityOf(report), spool: { reports: queue.length, bytes }, kept: false });
    drainer.start(cause !== undefined);
    if (journal) {
      try {
        await journal.append(entry.line);
      } catch (error) {
        // still in the spool, and written when the store answers: a host that retries it is counted once
        throw new StorageError(adapter, `report kept in memory only: the spool file ${config.filename} could not be written: ${describeError(error)}`, { cause: error, retryable: true });
      }
    }
    return SPOOLED;
  };

  const reportUnreadable = () => {
    for (const line of unreadable.splice(0)) {
      emit("report.dropped", { workspaceId: null, agentId: null, kind: null, runId: null, eventId: null, at: null, reason: "unreadable spool line", line });
    }
  };

  /** Takes what a previous process left in the file; bad lines are reported once, then removed. */
  function load(filename: string): Journal {
    const path = resolve(filename);
    if (openFiles.has(path)) {
      throw new ValidationError("createIncidents options", [{ path: ["spool", "filename"], message: `${filename} is the spool file of another open createIncidents in this process`, code: "custom" }]);
    }
    let read: ReturnType<typeof readEntries>;
    try {
      read = readEntries(filename);
      // made now, so that a path that cannot be written fails createIncidents, not a report during an outage
      if (read.size === 0) replaceFileSync(filename, "");
      if (read.rewrite) replaceFileSync(filename, read.entries.map((e) => `${e.line}\n`).join(""));
    } catch (error) {
      throw new StorageError(adapter, `cannot use the spool file ${filename}: ${describeError(error)}`, { cause: error });
    }
    openFiles.add(path);
    for (const entry of read.entries) {
      queue.push(entry);
      bytes += entry.bytes;
    }
    unreadable = read.unreadable;
    // after createIncidents returns, so that handlers registered right after it hear these (or
    // in close(), if that comes first)
    setImmediate(() => {
      reportUnreadable();
      if (state === "open") drainer.start(false);
    }).unref();
    return openJournal(filename, read.rewrite ? bytes : read.size);
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
      reportUnreadable();
      drainer.hurry();
      while (queue.length > 0 && Date.now() < deadline) {
        drainer.start(false);
        if (!(await within(drainer.running, deadline))) break;
      }
      state = "stopped";
      drainer.stop();
      const left = queue.splice(0);
      const spool = { reports: left.length, bytes };
      bytes = 0;
      for (const entry of left) {
        if (journal) emit("report.spooled", { ...identityOf(entry.report), spool, kept: true });
        else dropped(entry.report, "closed before the store answered");
      }
      if (!journal) return;
      if (left.length > 0 && journal.size > spool.bytes) await journal.rewrite(left.map((e) => e.line)).catch(ignore);
      await journal.close();
      openFiles.delete(resolve(config.filename!));
    },
  };
}

/** True when `promise` settled before `deadline`; the timer keeps the process alive (the host awaits it). */
export async function within(promise: Promise<unknown> | null, deadline: number): Promise<boolean> {
  if (!promise) return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((done) => (timer = setTimeout(() => done(false), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([promise.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

function ignore(): void {
  // a spool file that cannot be tidied keeps lines whose replay is a duplicate
}
