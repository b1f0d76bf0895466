/**
 * The embedded durable store: one SQLite file through better-sqlite3 (an optional peer dependency).
 *
 * @packageDocumentation
 * @module agent-incidents/sqlite
 */
import Database from "better-sqlite3";
import { z } from "zod";
import { asIncidentError, ClosedError, NotFoundError, StorageError, type IncidentError } from "../core/errors.js";
import { parseOrThrow } from "../core/schemas.js";
import type { Activity, Incident } from "../core/incident.js";
import { numbered } from "../core/ingest.js";
import { changeOfReport, type ChangeInput } from "../core/notification.js";
import type { Timer } from "../core/noise.js";
import {
  defineStore,
  type ChangeFeed,
  type ClaimedDelivery,
  type IncidentStore,
  type IngestRequest,
  type IngestResult,
  type Outbox,
  type SilenceStore,
  type TimerStore,
} from "./contract.js";
import { lastOfEachId, noiseSql, rowToSilence, rowToTimer, silenceParams, timerParams, type SilenceRow, type TimerRow } from "./sql-noise.js";
import { changeParams, listParam, named, outboxParams, outboxSql, rowToChange, rowToDelivery, type ChangeRow, type OutboxRow } from "./sql-outbox.js";
import { migrationFailed, pendingMigrations, requireCurrentSchema } from "./sql-migrations.js";
import { openReadOnly } from "./sqlite-read-only.js";
import {
  countDeltas,
  duplicateIdError,
  foldCounts,
  incidentToRow,
  listClause,
  rowToActivity,
  rowToIncident,
  rowToOccurrence,
  rowToSnapshot,
  type IncidentRow,
  type OccurrenceRow,
} from "./sql-rows.js";

/** The few better-sqlite3 `Database` members this store uses. */
export interface SqliteDatabase {
  /** Compiles a statement. */
  prepare(sql: string): SqliteStatement;
  /** Runs statements without results (migrations). */
  exec(sql: string): unknown;
  /** Reads or sets a pragma (journal mode, busy timeout, foreign keys). */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Wraps a function in a transaction; `immediate` takes the write lock at BEGIN. */
  transaction(fn: (...args: any[]) => any): ((...args: any[]) => any) & {
    /** The same transaction, begun with `BEGIN IMMEDIATE`. */
    immediate(...args: any[]): any;
  };
  /** Closes the connection (only a database the store opened itself). */
  close(): unknown;
  /** Whether the connection is still open. */
  readonly open: boolean;
}

/** The few better-sqlite3 `Statement` members this store uses. */
export interface SqliteStatement {
  /** Runs a write; `changes` is how many rows it touched. */
  run(...params: unknown[]): { changes: number };
  /** The first row, or `undefined`. */
  get(...params: unknown[]): unknown;
  /** Every row. */
  all(...params: unknown[]): unknown[];
}

/** Options of {@link sqliteStore}: a `filename` to open (and close), or an open `database` that stays yours. */
export type SqliteStoreOptions = (
  | {
      filename: string;
      database?: never;
      /**
       * `true`: read the file and change nothing on disk, for tools that only look (the CLI's
       * `list`, `show`, `stats`). It is never migrated, its journal mode stays as it is, and no
       * `-wal`/`-shm` files are left behind or created under another user; a database at another
       * schema version is refused as with `migrate: false`, and every write fails with a
       * `StorageError`. Works for a user who may only read the file.
       * @example
       * ```ts
       * const store = sqliteStore({ filename: "incidents.db", readOnly: true });
       * ```
       */
      readOnly?: boolean;
    }
  | { database: SqliteDatabase; filename?: never; readOnly?: never }
) & {
  /**
   * How long a call waits for another connection's lock before failing with a retryable
   * `StorageError` (default 5000 ms). The wait polls without blocking the event loop.
   */
  busyTimeoutMs?: number;
  /**
   * `"full"` (default) syncs every commit to disk, so a report whose promise resolved survives a
   * power loss too; `"normal"` survives process crashes only and writes about 40% faster.
   */
  synchronous?: "full" | "normal";
  /**
   * `false`: create and migrate nothing. The database must already be at this library's schema
   * version; one without agent-incidents tables, an older or a newer one is a `StorageError`
   * saying which (default `true`: migrate on open, as a runtime should).
   */
  migrate?: boolean;
};

const NAME = "sqlite";

const OptionsSchema = z.union([
  z
    .object({
      filename: z
        .string()
        .min(1, "must name a file; use \":memory:\" for a database that lives and dies with the process")
        .refine((f) => !f.includes("\u0000"), "must not contain NUL"),
      busyTimeoutMs: z.number().int().min(0).max(600_000).optional(),
      synchronous: z.enum(["full", "normal"]).optional(),
      migrate: z.boolean().optional(),
      readOnly: z.boolean().optional(),
    })
    .strict()
    .refine((o) => !(o.readOnly === true && o.migrate === true), { message: "readOnly never migrates: leave out migrate: true", path: ["migrate"] })
    .refine((o) => !(o.readOnly === true && o.filename === ":memory:"), { message: "a database in memory cannot be opened read-only", path: ["readOnly"] }),
  z
    .object({
      database: z.custom<SqliteDatabase>((d) => typeof d === "object" && d !== null && typeof (d as SqliteDatabase).prepare === "function", {
        message: "must be a better-sqlite3 Database",
      }),
      busyTimeoutMs: z.number().int().min(0).max(600_000).optional(),
      synchronous: z.enum(["full", "normal"]).optional(),
      migrate: z.boolean().optional(),
    })
    .strict(),
], { error: () => "needs either filename (a path, or \":memory:\") or database (an open better-sqlite3 Database)" });

/** The blocking part of a lock wait: short, so the event loop stays responsive; the rest polls. */
const BLOCKING_BUSY_MS = 10;
const INCIDENT_INSERT = `INSERT INTO incidents (id, workspace_id, number, agent_id, run_id, kind, severity, severity_rank, status,
  fingerprint, last_seen_at, created_at, resolved_at, version, group_id, group_key, data, seal)
  VALUES (@id, @workspace_id, @number, @agent_id, @run_id, @kind, @severity, @severity_rank, @status,
  @fingerprint, @last_seen_at, @created_at, @resolved_at, @version, @group_id, @group_key, @data, @seal)`;
const INCIDENT_UPDATE = `UPDATE incidents SET severity = @severity, severity_rank = @severity_rank, status = @status,
  last_seen_at = @last_seen_at, resolved_at = @resolved_at, version = @version, group_id = @group_id, group_key = @group_key, data = @data, seal = @seal
  WHERE id = @id AND workspace_id = @workspace_id AND version = @expected_version`;

/**
 * The embedded durable store: one SQLite file through better-sqlite3, in WAL mode, migrated on
 * open (or, with `readOnly`, only read: see that option). Several processes may share the file: every write is one `BEGIN IMMEDIATE` transaction
 * and waits up to `busyTimeoutMs` (default 5000) for the lock. Pass `filename` to let the store
 * open and close the file, or an open `database` that stays yours to close.
 */
export function sqliteStore(options: SqliteStoreOptions): IncidentStore {
  parseOrThrow(OptionsSchema, options, "sqliteStore options");
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const readOnly = options.readOnly === true;
  let db: SqliteDatabase;
  let ours: SqliteDatabase | undefined;
  try {
    db = options.database ?? (ours = readOnly ? openReadOnly(options.filename) : new Database(options.filename));
    // opening is synchronous anyway: wait for the lock the usual way while migrating
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const opened = db;
    untilUnlocked(busyTimeoutMs, () => {
      // a database refused is left exactly as it was: checked before anything is set
      if (readOnly || options.migrate === false) verifySchema(opened);
      // switching to WAL can report "locked" at once, without waiting, while another process
      // opens the same new file: try again until it is done or the timeout passes
      if (!readOnly) opened.pragma("journal_mode = WAL");
      opened.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      opened.pragma("foreign_keys = ON");
      if (!readOnly && options.migrate !== false) migrate(opened);
    });
    db.pragma(`busy_timeout = ${Math.min(BLOCKING_BUSY_MS, busyTimeoutMs)}`);
  } catch (error) {
    // a connection this store opened is closed again: it would hold the file (and its -wal) open
    if (ours?.open) ours.close();
    throw wrap(error, "cannot open the database");
  }
  const owned = options.database === undefined;
  const durable = owned ? options.filename !== ":memory:" : (db as { memory?: unknown }).memory !== true;
  let closed = false;

  const sql = {
    incident: db.prepare("SELECT * FROM incidents WHERE workspace_id = ? AND id = ?"),
    occurrenceByKey: db.prepare("SELECT incident_id FROM occurrences WHERE workspace_id = ? AND kind = ? AND run_id = ? AND event_id = ?"),
    unresolved: db.prepare(
      "SELECT * FROM incidents WHERE workspace_id = ? AND fingerprint = ? AND status <> 'resolved' ORDER BY number DESC LIMIT 1",
    ),
    lastResolved: db.prepare(
      "SELECT * FROM incidents WHERE workspace_id = ? AND fingerprint = ? AND status = 'resolved' ORDER BY resolved_at DESC LIMIT 1",
    ),
    recent: db.prepare("SELECT count(*) AS n FROM occurrences WHERE workspace_id = ? AND fingerprint = ? AND at >= ?"),
    nextNumber: db.prepare(
      `INSERT INTO workspace_counters (workspace_id, last_number) VALUES (?, 1)
       ON CONFLICT (workspace_id) DO UPDATE SET last_number = last_number + 1 RETURNING last_number`,
    ),
    insertIncident: db.prepare(INCIDENT_INSERT),
    updateIncident: db.prepare(INCIDENT_UPDATE),
    insertSnapshot: db.prepare("INSERT INTO episode_snapshots (incident_id, episode, data) VALUES (?, ?, ?)"),
    insertActivity: db.prepare("INSERT INTO activity (id, incident_id, version, data) VALUES (?, ?, ?, ?)"),
    insertOccurrence: db.prepare(
      "INSERT INTO occurrences (workspace_id, incident_id, kind, fingerprint, run_id, event_id, trace_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    count: db.prepare(
      `INSERT INTO incident_counts (workspace_id, agent_id, severity, status, n) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, agent_id, severity, status) DO UPDATE SET n = n + excluded.n`,
    ),
    activity: db.prepare(
      "SELECT a.data FROM activity a JOIN incidents i ON i.id = a.incident_id WHERE i.workspace_id = ? AND a.incident_id = ? ORDER BY a.version",
    ),
    occurrences: db.prepare(
      "SELECT incident_id, run_id, event_id, trace_id, at FROM occurrences WHERE workspace_id = ? AND incident_id = ? ORDER BY at, seq",
    ),
    snapshot: db.prepare(
      "SELECT s.data FROM episode_snapshots s JOIN incidents i ON i.id = s.incident_id WHERE i.workspace_id = ? AND s.incident_id = ? ORDER BY s.episode DESC LIMIT 1",
    ),
    counts: db.prepare("SELECT severity, status, sum(n) AS n FROM incident_counts WHERE workspace_id = ? GROUP BY severity, status"),
    agentCounts: db.prepare("SELECT severity, status, n FROM incident_counts WHERE workspace_id = ? AND agent_id = ?"),
    scanAll: db.prepare("SELECT * FROM incidents WHERE workspace_id = ?"),
    scanSince: db.prepare("SELECT * FROM incidents WHERE workspace_id = ? AND created_at >= ?"),
  };

  const outboxText = outboxSql("sqlite", "");
  const { insertRows: _many, ...texts } = outboxText;
  const outboxSt = Object.fromEntries(Object.entries(texts).map(([name, text]) => [name, db.prepare(text)])) as Record<keyof typeof texts, SqliteStatement>;
  const appendChange = (change: ChangeInput | null): void => {
    if (change) outboxSt.appendChange.run(named(changeParams(change)));
  };

  // list queries vary only by which filters are present: a handful of shapes, each prepared once
  const statements = new Map<string, SqliteStatement>();
  const prepared = (text: string): SqliteStatement => {
    let statement = statements.get(text);
    if (!statement) {
      if (statements.size > 200) statements.clear();
      statements.set(text, (statement = db.prepare(text)));
    }
    return statement;
  };

  const read = (row: unknown): Incident => rowToIncident(row as IncidentRow, NAME);
  const recount = (before: Incident | null, after: Incident): void => {
    for (const d of countDeltas(before, after)) sql.count.run(after.workspaceId, d.agentId, d.severity, d.status, d.delta);
  };
  const addActivity = (activity: Activity): void => {
    sql.insertActivity.run(activity.id, activity.incidentId, activity.version, JSON.stringify(activity));
  };
  const update = (before: Incident, after: Incident): void => {
    const result = sql.updateIncident.run({ ...incidentToRow(after), expected_version: before.version });
    if (result.changes !== 1) throw new StorageError(NAME, `incident ${after.id} changed during the transaction`);
    recount(before, after);
  };

  // nested in ingestMany's transaction, each report is a savepoint of it: all or nothing together
  const ingestMany = db.transaction((requests: readonly IngestRequest[]): IngestResult[] => requests.map((request) => ingest(request)));
  const ingest = db.transaction((request: Parameters<IncidentStore["ingest"]>[0]): IngestResult => {
    const { workspaceId, fingerprint } = request;
    if (request.runId !== null && request.eventId !== null) {
      const seen = sql.occurrenceByKey.get(workspaceId, request.kind, request.runId, request.eventId) as { incident_id: string } | undefined;
      if (seen) return { outcome: "duplicate", incident: read(sql.incident.get(workspaceId, seen.incident_id)) };
    }
    let existing: Incident | null = null;
    let recent = 1;
    if (request.merge) {
      const row = sql.unresolved.get(workspaceId, fingerprint) ?? sql.lastResolved.get(workspaceId, fingerprint);
      existing = row ? read(row) : null;
      recent += (sql.recent.get(workspaceId, fingerprint, request.windowStart) as { n: number }).n;
    }
    const decision = request.decide(existing, recent);
    let incident: Incident;
    if (decision.outcome === "created") {
      const { last_number } = sql.nextNumber.get(workspaceId) as { last_number: number };
      incident = numbered(decision.incident, last_number);
      sql.insertIncident.run(incidentToRow(incident));
      recount(null, incident);
    } else {
      incident = decision.incident;
      update(existing!, incident);
    }
    if (decision.outcome !== "recurred") sql.insertSnapshot.run(incident.id, incident.episodes.length, JSON.stringify(request.snapshot()));
    if (decision.activity) addActivity(decision.activity);
    sql.insertOccurrence.run(workspaceId, incident.id, request.kind, fingerprint, request.runId, request.eventId, request.traceId, request.at);
    appendChange(changeOfReport(decision.outcome, incident, existing, request.at));
    return { outcome: decision.outcome, incident };
  });

  const mutate = db.transaction((workspaceId: string, id: string, apply: Parameters<IncidentStore["mutate"]>[2]): Incident => {
    const row = sql.incident.get(workspaceId, id);
    if (!row) throw new NotFoundError(id);
    const current = read(row);
    const result = apply(current);
    if (result === null) return current;
    update(current, result.incident);
    if (result.activity) addActivity(result.activity);
    appendChange({ workspaceId, incidentId: id, event: result.event, at: result.at ?? result.activity?.at ?? result.incident.updatedAt, incident: result.incident, previous: current });
    return result.incident;
  });

  const claim = db.transaction((request: Parameters<Outbox["claim"]>[0]): ClaimedDelivery[] => {
    const rows = outboxSt.claim.all(named([request.now, request.worker, request.notifier, request.limit, request.leaseUntil])) as Array<OutboxRow & { seq: number }>;
    for (const row of rows) outboxSt.claimUpdate.run(request.worker, request.leaseUntil, row.seq);
    return rows.map(rowToDelivery);
  });

  const plan = (limit: number, planner: Parameters<Outbox["plan"]>[1]): number => {
    const changes = (outboxSt.unplanned.all(named([limit])) as ChangeRow[]).map(rowToChange);
    if (changes.length === 0) return 0;
    const incidents = [...new Set(changes.map((c) => c.incidentId))];
    const notified = new Set((outboxSt.notifiedOf.all(named([JSON.stringify(incidents)])) as Array<{ notifier: string; incident_id: string }>).map((r) => JSON.stringify([r.notifier, r.incident_id])));
    const entries = planner(changes, (notifier, incidentId) => notified.has(JSON.stringify([notifier, incidentId])));
    const now = new Date().toISOString();
    for (const entry of entries) {
      outboxSt.insert.run(named(outboxParams(entry, now)));
      outboxSt.addNotified.run(named([entry.notifier, entry.incidentId]));
    }
    outboxSt.markPlanned.run(named([JSON.stringify(changes.map((c) => c.seq))]));
    return changes.length;
  };
  const planTx = db.transaction(plan);
  // the renamed notifier counts as notified of the incidents it takes over, in the same transaction
  const retryTx = db.transaction((params: unknown[]): number => {
    outboxSt.retryNotified.run(named(params));
    return outboxSt.retry.run(named(params)).changes;
  });

  const outbox: Outbox = {
    // planning shares the group commit with reports
    // an idle poll reads without taking the write lock
    plan: async (limit, planner) =>
      (await guard("outbox plan failed", () => outboxSt.anyUnplanned.get()))
        ? write("outbox plan failed", (): number => planTx(limit, planner), (): number => planTx.immediate(limit, planner))
        : 0,
    claim: (request) =>
      guard("outbox claim failed", () => (outboxSt.anyDue.get(named([request.now, request.notifier])) ? claim.immediate(request) : [])),
    // settles share the group commit with reports: a poll's worth of them is one transaction
    settle: (id, worker, outcome) => {
      const run = () => void outboxSt.settle.run(named([outcome.status, outcome.attempts, outcome.dueAt ?? null, outcome.error ?? null, outcome.at, id, worker]));
      return write("outbox update failed", run, run);
    },
    release: (worker) =>
      guard("outbox release failed", () => {
        outboxSt.release.run(named([worker]));
      }),
    prune: ({ settledBefore, changesBefore }) =>
      guard("outbox prune failed", () => {
        outboxSt.pruneChanges.run(named([changesBefore, settledBefore]));
        return outboxSt.prune.run(named([settledBefore])).changes;
      }),
    deliveries: (q) =>
      guard("outbox read failed", () =>
        (outboxSt.list.all(named([q.status ?? null, q.notifier ?? null, listParam("sqlite", q.ids), q.limit])) as OutboxRow[]).map(rowToDelivery),
      ),
    retry: (q, update) =>
      guard("outbox retry failed", () => retryTx.immediate([update.now, update.to ?? null, q.status ?? null, q.notifier ?? null, listParam("sqlite", q.ids), update.keep ? 1 : 0])),
    heartbeat: (names, now) =>
      guard("outbox heartbeat failed", () => {
        for (const name of names) outboxSt.heartbeat.run(named([name, now]));
      }),
    stranded: (before) => guard("outbox read failed", () => (outboxSt.stranded.all(named([before])) as Array<{ notifier: string }>).map((r) => r.notifier)),
    bury: (notifier, error, at, before) => guard("outbox update failed", () => (outboxSt.bury.all(named([error, at, notifier, before])) as OutboxRow[]).map(rowToDelivery)),
  };

  const noiseText = noiseSql("sqlite", "");
  const { scheduleRows: _rows, ...noiseTexts } = noiseText;
  const noiseSt = Object.fromEntries(Object.entries(noiseTexts).map(([name, text]) => [name, db.prepare(text)])) as Record<keyof typeof noiseTexts, SqliteStatement>;
  const scheduleTx = db.transaction((list: readonly Timer[]) => {
    for (const timer of list) noiseSt.schedule.run(named(timerParams(timer)));
  });
  const claimTimersTx = db.transaction((request: Parameters<TimerStore["claim"]>[0]): Timer[] => {
    const rows = noiseSt.claim.all(named([request.now, request.worker, request.leaseUntil, request.limit])) as TimerRow[];
    for (const row of rows) noiseSt.claimUpdate.run(named([request.worker, request.leaseUntil, row.id]));
    return rows.map(rowToTimer);
  });
  const expireTx = db.transaction((workspaceId: string, id: string, at: string, by: string) => {
    noiseSt.expireSilence.run(named([workspaceId, id, at, by]));
    const row = noiseSt.getSilence.get(named([workspaceId, id])) as SilenceRow | undefined;
    return row ? rowToSilence(row) : null;
  });

  const timers: TimerStore = {
    schedule: (list) => guard("timer schedule failed", () => void scheduleTx.immediate(lastOfEachId(list))),
    // an idle poll reads without taking the write lock
    claim: (request) =>
      guard("timer claim failed", () => (request.limit > 0 && noiseSt.anyDue.get(named([request.now])) ? claimTimersTx.immediate(request) : [])),
    done: (id, worker, dueAt) => guard("timer update failed", () => void noiseSt.done.run(named([id, worker, dueAt]))),
    cancel: (id) => guard("timer update failed", () => void noiseSt.cancel.run(named([id]))),
    list: (q) => guard("timer read failed", () => (noiseSt.listTimers.all(named([q.workspaceId ?? null, q.limit])) as TimerRow[]).map(rowToTimer)),
  };

  const silences: SilenceStore = {
    create: (silence) => guard("silence create failed", () => void noiseSt.createSilence.run(named(silenceParams(silence)))),
    get: (workspaceId, id) =>
      guard("silence read failed", () => {
        const row = noiseSt.getSilence.get(named([workspaceId, id])) as SilenceRow | undefined;
        return row ? rowToSilence(row) : null;
      }),
    list: (q) =>
      guard("silence read failed", () => (noiseSt.listSilences.all(named([q.workspaceId ?? null, q.activeAt ?? null, q.limit])) as SilenceRow[]).map(rowToSilence)),
    expire: (workspaceId, id, at, by) => guard("silence expire failed", () => expireTx.immediate(workspaceId, id, at, JSON.stringify(by))),
  };

  const feed: ChangeFeed = {
    read: (q) => guard("feed read failed", () => (outboxSt.readChanges.all(named([q.after, q.workspaceId ?? null, q.limit])) as ChangeRow[]).map(rowToChange)),
    head: () => guard("feed read failed", () => (outboxSt.head.get() as { seq: number }).seq),
  };

  /**
   * Runs `body`; while another connection holds the lock, waits without blocking the event loop
   * (SQLite blocks for at most 10 ms, then this polls with backoff) for up to `busyTimeoutMs`.
   * A transaction that met the lock was rolled back whole, so running it again is safe.
   */
  const guard = async <T>(what: string, body: () => T): Promise<T> => {
    const deadline = Date.now() + busyTimeoutMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if (closed) throw new ClosedError("sqlite store");
      try {
        return body();
      } catch (error) {
        if (!isBusy(error)) throw wrap(error, what);
        if (Date.now() >= deadline) {
          throw new StorageError(NAME, `${what}: the database stayed locked by another connection for ${busyTimeoutMs} ms`, {
            cause: error,
            retryable: true,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
      }
    }
  };

  /**
   * Group commit: writes that arrive while one is being scheduled share one transaction, each in
   * a savepoint of its own (so each is still all or nothing), and every promise settles only after
   * the shared COMMIT. Many reports in flight then cost one sync to disk, not one each.
   */
  type Write = { run: () => unknown; alone: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void; what: string };
  let batch: Write[] = [];
  const runBatch = db.transaction((writes: Write[]) =>
    writes.map((write) => {
      try {
        return { ok: true as const, value: write.run() };
      } catch (error) {
        return { ok: false as const, error };
      }
    }),
  );
  const flush = async (): Promise<void> => {
    const writes = batch;
    batch = [];
    if (writes.length === 1) {
      // alone: its own transaction, no savepoint
      const [only] = writes as [Write];
      return guard(only.what, only.alone).then(only.resolve, only.reject);
    }
    let results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
    try {
      results = await guard("write failed", () => runBatch.immediate(writes));
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    results.forEach((result, i) => {
      const write = writes[i]!;
      if (result.ok) write.resolve(result.value);
      else write.reject(wrap(result.error, write.what));
    });
  };
  const write = <T>(what: string, run: () => T, alone: () => T): Promise<T> => {
    if (closed) return Promise.reject(new ClosedError("sqlite store"));
    return new Promise<T>((resolve, reject) => {
      if (batch.length === 0) queueMicrotask(() => void flush());
      batch.push({ run, alone, resolve: resolve as (value: unknown) => void, reject, what });
    });
  };

  const readActivity = (workspaceId: string, id: string) =>
    (sql.activity.all(workspaceId, id) as Array<{ data: string }>).map((r) => rowToActivity(r.data, NAME));
  const readOccurrences = (workspaceId: string, id: string) => (sql.occurrences.all(workspaceId, id) as OccurrenceRow[]).map((r) => rowToOccurrence(r, NAME));
  const readDetail = db.transaction((workspaceId: string, id: string) => {
    const row = sql.incident.get(workspaceId, id);
    return row ? { incident: read(row), activity: readActivity(workspaceId, id), occurrences: readOccurrences(workspaceId, id) } : null;
  });

  return defineStore({
    name: NAME,
    durable,
    outbox,
    feed,
    timers,
    silences,
    // inside the shared transaction, better-sqlite3 runs each of these in a savepoint
    ingest: (request) => write("report failed", (): IngestResult => ingest(request), (): IngestResult => ingest.immediate(request)),
    ingestMany: (requests) => write("report failed", (): IngestResult[] => ingestMany(requests), (): IngestResult[] => ingestMany.immediate(requests)),
    mutate: (workspaceId, id, apply) =>
      write("update failed", (): Incident => mutate(workspaceId, id, apply), (): Incident => mutate.immediate(workspaceId, id, apply)),
    get: (workspaceId, id) =>
      guard("read failed", () => {
        const row = sql.incident.get(workspaceId, id);
        return row ? read(row) : null;
      }),
    activity: (workspaceId, id) => guard("read failed", () => readActivity(workspaceId, id)),
    occurrences: (workspaceId, id) => guard("read failed", () => readOccurrences(workspaceId, id)),
    // one read transaction: the three parts agree with each other
    detail: (workspaceId, id) => guard("read failed", () => readDetail(workspaceId, id)),
    snapshot: (workspaceId, id) =>
      guard("read failed", () => {
        const row = sql.snapshot.get(workspaceId, id) as { data: string } | undefined;
        return row ? rowToSnapshot(row.data, NAME, id) : null;
      }),
    list: (workspaceId, query) =>
      guard("list failed", () => {
        const { sql: clause, params } = listClause(workspaceId, query, (n) => `@p${n}`);
        const named = Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
        return prepared(`SELECT * FROM incidents ${clause}`).all(named).map(read);
      }),
    counts: (workspaceId, filter) =>
      guard("counts failed", () =>
        foldCounts(
          (filter.agentId === undefined ? sql.counts.all(workspaceId) : sql.agentCounts.all(workspaceId, filter.agentId)) as Array<{
            severity: string;
            status: string;
            n: number;
          }>,
        ),
      ),
    scan: (workspaceId, query) =>
      guard("scan failed", () =>
        (query.createdSince === null ? sql.scanAll.all(workspaceId) : sql.scanSince.all(workspaceId, query.createdSince)).map(read),
      ),
    async close() {
      if (closed) return;
      closed = true;
      if (owned && db.open) db.close();
    },
  });
}

function migrate(db: SqliteDatabase): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const apply = db.transaction(() => {
    const applied = new Set((db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version));
    for (const migration of pendingMigrations("sqlite", applied, "the database")) {
      try {
        db.exec(migration.sql);
      } catch (error) {
        throw migrationFailed("sqlite", migration, error);
      }
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, new Date().toISOString());
    }
  });
  // schema 6 rebuilds tables as SQLite's guide to it does, with foreign keys off: a row that
  // already broke one (its incident deleted by hand) is copied as it is instead of failing the open
  db.pragma("foreign_keys = OFF");
  try {
    apply.immediate();
  } finally {
    db.pragma("foreign_keys = ON");
  }
}

/** For a store that does not migrate: the database must be at this library's schema version. */
function verifySchema(db: SqliteDatabase): void {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
  const applied = hasTable ? new Set((db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map((r) => r.version)) : null;
  requireCurrentSchema("sqlite", applied, "the database");
}

/** Runs `body` again while it meets a lock, for up to `timeoutMs`, sleeping a little in between. */
function untilUnlocked(timeoutMs: number, body: () => void): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      return body();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, delay);
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

function wrap(error: unknown, what: string): IncidentError {
  return duplicateIdError(error) ?? asIncidentError(error, NAME, what, isBusy);
}
