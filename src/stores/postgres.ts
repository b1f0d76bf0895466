/**
 * The store for many processes or machines: PostgreSQL through pg (an optional peer dependency).
 *
 * @packageDocumentation
 * @module agent-incidents/postgres
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { z } from "zod";
import { asIncidentError, ClosedError, NotFoundError, StorageError, type IncidentError } from "../core/errors.js";
import { parseOrThrow } from "../core/schemas.js";
import type { Activity, Incident } from "../core/incident.js";
import { numbered } from "../core/ingest.js";
import { changeOfReport, type ChangeInput } from "../core/notification.js";
import {
  defineStore,
  type ChangeFeed,
  type IncidentStore,
  type IngestRequest,
  type IngestResult,
  type Outbox,
  type SilenceStore,
  type TimerStore,
} from "./contract.js";
import { lastOfEachId, noiseSql, rowToSilence, rowToTimer, silenceParams, timerParams, type SilenceRow, type TimerRow } from "./sql-noise.js";
import { changeParams, listParam, outboxParams, outboxSql, rowToChange, rowToDelivery, type ChangeRow, type OutboxRow } from "./sql-outbox.js";
import { readOnlyPool } from "./postgres-read-only.js";
import { migrationFailed, pendingMigrations, requireCurrentSchema } from "./sql-migrations.js";
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

/** The few `pg` client members this store uses. */
export interface PgClient {
  /** Runs a statement with positional parameters. */
  query(text: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  /** A named (prepared once per connection) statement, as `pg.PoolClient` takes it. */
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: any[]; rowCount: number | null }>;
  /** Gives the connection back to the pool; with an error, the pool destroys it. */
  release(error?: Error | boolean): void;
  /** Used, when present, to catch the `'error'` a connection emits while checked out. */
  on?(event: "error", listener: (error: Error) => void): unknown;
  /** Removes that listener when the connection goes back. */
  removeListener?(event: "error", listener: (error: Error) => void): unknown;
}

/** The few `pg.Pool` members this store uses. */
export interface PgPool {
  /** Checks a connection out, for a transaction. */
  connect(): Promise<PgClient>;
  /** Runs one statement on any connection. */
  query(text: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  /** A named (prepared once per connection) statement, as `pg.Pool` takes it. */
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: any[]; rowCount: number | null }>;
  /** Closes every connection (only a pool the store built itself). */
  end(): Promise<void>;
}

/** Options of {@link postgresStore}: a `pool` you own, or a `connectionString` for a pool the store owns. */
export type PostgresStoreOptions = (
  | { pool: PgPool; connectionString?: never; readOnly?: never }
  | {
      connectionString: string;
      pool?: never;
      /**
       * `true`: the store's connections are read-only sessions (`default_transaction_read_only`),
       * for tools that only look: nothing is created or migrated (as with `migrate: false`), and
       * every write fails with a `StorageError`.
       */
      readOnly?: boolean;
    }
) & {
  /** Schema holding the tables (default `agent_incidents`); created if missing, unless `migrate: false`. */
  schema?: string;
  /**
   * `false`: create and migrate nothing. The schema must exist at this library's schema version;
   * a missing schema, one without agent-incidents tables, an older or a newer one is a
   * `StorageError` saying which, from the first call (or `migrate()`). Default `true`.
   * @example
   * ```ts
   * // a tool that must not create a schema from a mistyped name
   * const store = postgresStore({ connectionString, schema: "agent_incidents", migrate: false });
   * ```
   */
  migrate?: boolean;
  /** Pool size when the store builds its own pool (default 10). */
  max?: number;
  /** Longest a write waits for a lock before failing with a retryable `StorageError` (default 15 000 ms). */
  lockTimeoutMs?: number;
  /** Longest one statement of a write may run (default 30 000 ms). */
  statementTimeoutMs?: number;
  /** Longest to wait for a connection from the store's own pool (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** `application_name` of the store's own connections (default `agent-incidents`). */
  applicationName?: string;
  /**
   * Prepare the report's statements once per connection (default `true`). Set `false` behind a
   * pooler that hands each transaction a different server connection (PgBouncer in transaction
   * mode before 1.21): statements prepared on one are unknown to the next.
   */
  preparedStatements?: boolean;
};

const timeout = z.number().int().min(1).max(3_600_000).optional();
const common = {
  schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "must be a plain SQL identifier").optional(),
  max: z.number().int().min(1).max(1000).optional(),
  lockTimeoutMs: timeout,
  statementTimeoutMs: timeout,
  connectTimeoutMs: timeout,
  applicationName: z.string().min(1).max(63).regex(/^[\x20-\x7e]*$/, "must be printable ASCII").optional(),
  preparedStatements: z.boolean().optional(),
  migrate: z.boolean().optional(),
};
const OptionsSchema = z.union(
  [
    z
      .object({
        pool: z.custom<PgPool>((p) => typeof p === "object" && p !== null && typeof (p as PgPool).connect === "function" && typeof (p as PgPool).query === "function", {
          message: "must be a pg Pool",
        }),
        ...common,
      })
      .strict(),
    z
      .object({ connectionString: z.string().min(1, "must not be empty").refine((c) => !c.includes("\u0000"), "must not contain NUL"), readOnly: z.boolean().optional(), ...common })
      .strict()
      .refine((o) => !(o.readOnly === true && o.migrate === true), { message: "readOnly never migrates: leave out migrate: true", path: ["migrate"] }),
  ],
  { error: () => "needs either pool (a pg Pool) or connectionString" },
);

/** A PostgreSQL store with its migrations, run before its first query (or by `migrate()`). */
export interface PostgresStore extends IncidentStore {
  /**
   * Applies pending migrations now; safe when several processes start at once. With
   * `migrate: false` or `readOnly`, only checks that the schema is at this library's version.
   */
  migrate(): Promise<void>;
}

const NAME = "postgres";
const MIGRATION_LOCK = 0x61_69_6e_63; // "ainc": serializes migrations of every schema

/**
 * The store for many processes or machines: PostgreSQL through `pg`. Reports of one fingerprint
 * serialize on a transaction-scoped advisory lock keyed by workspace and fingerprint, so
 * concurrent workers make one incident with an exact count; operator changes lock the incident
 * row. Pass a `pool` you own, or a `connectionString` for a pool the store owns and ends.
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  parseOrThrow(OptionsSchema, options, "postgresStore options");
  const schemaName = options.schema ?? "agent_incidents";
  const s = `"${schemaName}"`;
  const owned = options.pool === undefined;
  const lockTimeoutMs = options.lockTimeoutMs ?? 15_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const pool: PgPool = options.pool ?? createPool(options.connectionString!, options, statementTimeoutMs);
  const verifyOnly = options.migrate === false || options.readOnly === true;
  // Plans cached by this store's named statements and plpgsql functions are made inside these
  // transactions. On a new schema the tables are empty when they are first planned, and a plan
  // cached then scans the whole table on every report as it grows (until autovacuum analyzes it):
  // every query here has an index, so sequential scans are priced out.
  const begin = `BEGIN; SET LOCAL lock_timeout = ${lockTimeoutMs}; SET LOCAL statement_timeout = ${statementTimeoutMs}; SET LOCAL enable_seqscan = off`;
  const inFlight = new Set<Promise<unknown>>();
  // statement names are cut at 63 bytes by the server: a short hash keeps two schemas' apart
  const statementPrefix = `ai_${digest(schemaName)}_`;
  const prepare = options.preparedStatements ?? true;
  /** A statement as `pg` takes it: named (prepared once per connection) unless turned off. */
  const statement = (name: string, text: string, values: unknown[]) => (prepare ? { name: `${statementPrefix}${name}`, text, values } : { text, values });
  let closed = false;
  let ready: Promise<void> | null = null;

  const migrate = (): Promise<void> => (ready ??= (verifyOnly ? verifySchema : runMigrations)(pool, schemaName).catch((error: unknown) => {
    ready = null;
    throw wrap(error, isConnectionError(error) || isUnreachable(error) ? "cannot connect" : verifyOnly ? "schema check failed" : "migration failed");
  }));

  /** Runs an operation unless closed, and tracks it so `close()` waits for it before ending the pool. */
  const tracked = <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new ClosedError("postgres store"));
    const promise = operation();
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  /**
   * One transaction on a checked-out client. The client has an `'error'` listener for as long as
   * it is out (a terminated backend must not crash the host), and goes back to the pool only if
   * it still works. A transient failure (lost connection, failover, lock timeout) is tried again
   * up to twice when that cannot apply the change twice: before COMMIT was sent, or always when
   * `idempotent`.
   */
  const tx = <T>(what: string, body: (client: PgClient) => Promise<T>, idempotent = false): Promise<T> =>
    tracked(async () => {
      await migrate();
      for (let attempt = 1; ; attempt++) {
        let committing = false;
        try {
          return await withClient(what, async (client) => {
            await client.query(begin);
            const result = await body(client);
            committing = true;
            await client.query("COMMIT");
            return result;
          });
        } catch (error) {
          const retry = attempt < 3 && !closed && error instanceof StorageError && error.retryable && (!committing || idempotent);
          if (!retry) throw error;
          await new Promise((resolve) => setTimeout(resolve, 25 * 4 ** (attempt - 1) * (0.5 + Math.random())));
        }
      }
    });

  const withClient = async <T>(what: string, body: (client: PgClient) => Promise<T>): Promise<T> => {
    let client: PgClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw wrap(error, `${what}: cannot connect`);
    }
    let broken: Error | null = null;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on?.("error", onError);
    try {
      return await body(client);
    } catch (error) {
      if (!broken && isConnectionError(error)) broken = error as Error;
      if (!broken) await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw wrap(error, what);
    } finally {
      client.removeListener?.("error", onError);
      // a connection that failed is destroyed, not handed to the next caller
      client.release(broken ?? undefined);
    }
  };

  /**
   * `name`: prepare the statement once per connection, for reads whose planning costs more than a
   * round trip. Such a read runs on a connection of its own checking out, so that one whose
   * prepared statements are gone (`DISCARD ALL`, a pooler) is destroyed, and the read tried again.
   */
  const execute = (what: string, text: string, params: unknown[], name?: string) =>
    tracked(async () => {
      await migrate();
      if (name === undefined || !prepare) {
        try {
          return await pool.query(text, params);
        } catch (error) {
          throw wrap(error, what);
        }
      }
      for (let attempt = 1; ; attempt++) {
        try {
          return await withClient(what, (client) => client.query(statement(name, text, params)));
        } catch (error) {
          if (attempt >= 2 || !(error instanceof StorageError && isUnknownStatement(error.cause))) throw error;
        }
      }
    });
  const query = async (what: string, text: string, params: unknown[], name?: string): Promise<any[]> => (await execute(what, text, params, name)).rows;

  const read = (row: IncidentRow): Incident => rowToIncident(row, NAME);
  const outboxText = outboxSql("postgres", `${s}.`);
  const appendChange = (client: PgClient, change: ChangeInput) => client.query(statement("change", outboxText.appendChange, changeParams(change)));

  /** Count cells change in one of 16 shards per cell, so concurrent writers rarely wait on the same row. */
  const countUpsert = (p: (value: unknown) => string, workspaceId: string, d: ReturnType<typeof countDeltas>[number], shard: number) =>
    `INSERT INTO ${s}.incident_counts (workspace_id, agent_id, severity, status, shard, n) VALUES (${p(workspaceId)}, ${p(d.agentId)}, ${p(d.severity)}, ${p(d.status)}, ${p(shard)}, ${p(d.delta)})
     ON CONFLICT (workspace_id, agent_id, severity, status, shard) DO UPDATE SET n = ${s}.incident_counts.n + EXCLUDED.n`;
  const recount = async (client: PgClient, before: Incident | null, after: Incident): Promise<void> => {
    const shard = Math.floor(Math.random() * 16);
    // one statement per cell, in a fixed order, so two writers moving incidents between the same cells cannot deadlock
    for (const d of countDeltas(before, after)) {
      const params: unknown[] = [];
      await client.query(countUpsert((v) => (params.push(v), `$${params.length}`), after.workspaceId, d, shard), params);
    }
  };

  const update = async (client: PgClient, before: Incident, after: Incident): Promise<void> => {
    const r = incidentToRow(after);
    const result = await client.query(
      `UPDATE ${s}.incidents SET severity = $1, severity_rank = $2, status = $3, last_seen_at = $4, resolved_at = $5, version = $6, data = $7, seal = $11,
         group_id = $12, group_key = $13
       WHERE id = $8 AND workspace_id = $9 AND version = $10`,
      [r.severity, r.severity_rank, r.status, r.last_seen_at, r.resolved_at, r.version, r.data, r.id, r.workspace_id, before.version, r.seal, r.group_id, r.group_key],
    );
    if (result.rowCount !== 1) throw new StorageError(NAME, `incident ${after.id} changed during the transaction`);
    await recount(client, before, after);
  };

  const addActivity = (client: PgClient, activity: Activity) =>
    client.query(`INSERT INTO ${s}.activity (id, incident_id, version, data) VALUES ($1, $2, $3, $4)`, [
      activity.id,
      activity.incidentId,
      activity.version,
      JSON.stringify(activity),
    ]);

  const duplicateOf = async (client: PgClient, request: IngestRequest): Promise<IngestResult | null> => {
    if (request.runId === null || request.eventId === null) return null;
    const seen = await client.query(
      `SELECT i.* FROM ${s}.occurrences o JOIN ${s}.incidents i ON i.id = o.incident_id
       WHERE o.workspace_id = $1 AND o.kind = $2 AND o.run_id = $3 AND o.event_id = $4`,
      [request.workspaceId, request.kind, request.runId, request.eventId],
    );
    return seen.rows[0] ? { outcome: "duplicate", incident: read(seen.rows[0]) } : null;
  };

  /**
   * A report in four round trips: BEGIN; the reads (lock, idempotency key, latest incident of the
   * fingerprint, recent count) in one call; every write in one statement; COMMIT. A new incident
   * takes its number inside that statement, from the workspace's sequence.
   */
  const ingestIn = async (client: PgClient, request: IngestRequest): Promise<IngestResult> => {
      const { workspaceId, fingerprint } = request;
      const found = (
        await client.query(
          statement("lookup", `SELECT duplicate, recent, incident FROM ${s}.ingest_lookup($1, $2, $3, $4, $5, $6, $7)`, [
            workspaceId,
            fingerprint,
            request.kind,
            request.runId,
            request.eventId,
            request.merge,
            request.windowStart,
          ]),
        )
      ).rows[0] as { duplicate: boolean; recent: string | number; incident: IncidentRow | null };
      if (found.duplicate) return { outcome: "duplicate", incident: read(found.incident!) };
      const existing = found.incident ? read(found.incident) : null;
      const decision = request.decide(existing, 1 + Number(found.recent));
      const created = decision.outcome === "created";
      if (!created) await recount(client, existing, decision.incident);

      const params: unknown[] = [];
      const p = (value: unknown) => (params.push(value), `$${params.length}`);
      const parts: string[] = [];
      const r = incidentToRow(created ? numbered(decision.incident, 0) : decision.incident);
      if (created) {
        parts.push(`inc AS (INSERT INTO ${s}.incidents (id, workspace_id, number, agent_id, run_id, kind, severity, severity_rank, status,
            fingerprint, last_seen_at, created_at, resolved_at, version, data, seal, group_id, group_key)
          VALUES (${p(r.id)}, ${p(r.workspace_id)}, ${s}.next_number(${p(workspaceId)}), ${[r.agent_id, r.run_id, r.kind, r.severity, r.severity_rank, r.status, r.fingerprint, r.last_seen_at, r.created_at, r.resolved_at, r.version, r.data, r.seal, r.group_id, r.group_key].map(p).join(", ")})
          RETURNING number)`);
        parts.push(`counted AS (${countUpsert(p, workspaceId, { agentId: r.agent_id ?? "", severity: r.severity, status: r.status, delta: 1 }, Math.floor(Math.random() * 16))})`);
      } else {
        parts.push(`inc AS (UPDATE ${s}.incidents SET severity = ${p(r.severity)}, severity_rank = ${p(r.severity_rank)}, status = ${p(r.status)},
            last_seen_at = ${p(r.last_seen_at)}, resolved_at = ${p(r.resolved_at)}, version = ${p(r.version)}, data = ${p(r.data)}, seal = ${p(r.seal)},
            group_id = ${p(r.group_id)}, group_key = ${p(r.group_key)}
          WHERE id = ${p(r.id)} AND workspace_id = ${p(workspaceId)} AND version = ${p(existing!.version)} RETURNING number)`);
      }
      if (decision.outcome !== "recurred") {
        parts.push(`snap AS (INSERT INTO ${s}.episode_snapshots (incident_id, episode, data)
          VALUES (${p(r.id)}, ${p(decision.incident.episodes.length)}, ${p(JSON.stringify(request.snapshot()))}))`);
      }
      const activity = decision.activity;
      if (activity) {
        parts.push(`act AS (INSERT INTO ${s}.activity (id, incident_id, version, data)
          VALUES (${p(activity.id)}, ${p(activity.incidentId)}, ${p(activity.version)}, ${p(JSON.stringify(activity))}))`);
      }
      const change = changeOfReport(decision.outcome, created ? numbered(decision.incident, 0) : decision.incident, existing, request.at)!;
      const [cw, ci, ce, ca, cIncident, cPrevious] = changeParams(change);
      // a new incident's number is only known inside the statement: the feed's copy takes it from there
      const incidentJson = created ? `jsonb_set(CAST(${p(cIncident)} AS jsonb), '{number}', to_jsonb((SELECT number FROM inc)))` : `CAST(${p(cIncident)} AS jsonb)`;
      parts.push(`chg AS (INSERT INTO ${s}.changes (workspace_id, incident_id, event, at, incident, previous)
        VALUES (${p(cw)}, ${p(ci)}, ${p(ce)}, ${p(ca)}, ${incidentJson}, CAST(${p(cPrevious)} AS jsonb)))`);
      parts.push(`occ AS (INSERT INTO ${s}.occurrences (workspace_id, incident_id, kind, fingerprint, run_id, event_id, trace_id, at)
        VALUES (${[workspaceId, r.id, request.kind, fingerprint, request.runId, request.eventId, request.traceId, request.at].map(p).join(", ")})
        ON CONFLICT DO NOTHING RETURNING seq)`);
      // a handful of shapes (new, recurred, raised, reopened), each prepared once per connection
      const text = `WITH ${parts.join(",\n")} SELECT (SELECT number FROM inc) AS number, (SELECT count(*) FROM occ) AS occurrences`;
      const written = (await client.query(statement(`write_${nameWrite(text)}`, text, params)))
        .rows[0] as { number: number | string | null; occurrences: string | number };
      if (written.number === null) throw new StorageError(NAME, `incident ${r.id} changed during the transaction`);
      // the same (runId, eventId) reported concurrently under another fingerprint: undo, report a duplicate
      if (Number(written.occurrences) === 0) throw new RetryAsDuplicate();
      const incident = created ? numbered(decision.incident, Number(written.number)) : decision.incident;
      return { outcome: decision.outcome, incident };
  };
  const keyed = (request: IngestRequest) => request.runId !== null && request.eventId !== null;
  const ingestOnce = (request: IngestRequest) => tx("report failed", (client) => ingestIn(client, request), keyed(request));
  /** Several reports in one transaction (the engine's batch of one fingerprint's concurrent reports). */
  const ingestMany = (requests: readonly IngestRequest[]) =>
    tx(
      "report failed",
      async (client) => {
        const results: IngestResult[] = [];
        for (const request of requests) results.push(await ingestIn(client, request));
        return results;
      },
      requests.every(keyed),
    );

  const planLock = `SELECT pg_try_advisory_xact_lock(${MIGRATION_LOCK}, hashtext(${quote(`${schemaName} plan`)})) AS locked`;
  const outbox: Outbox = {
    plan: async (limit, planner) =>
      // an idle poll is one read, without a transaction or a lock
      (await query("outbox plan failed", outboxText.anyUnplanned, [])).length === 0
        ? 0
        : tx("outbox plan failed", async (client) => {
        // one planner at a time: another process planning now takes these changes itself
        if (!(await client.query(planLock)).rows[0].locked) return 0;
        const changes = ((await client.query(outboxText.unplanned, [limit])).rows as ChangeRow[]).map(rowToChange);
        if (changes.length === 0) return 0;
        const incidents = [...new Set(changes.map((c) => c.incidentId))];
        const notified = new Set(((await client.query(outboxText.notifiedOf, [incidents])).rows as Array<{ notifier: string; incident_id: string }>).map((r) => JSON.stringify([r.notifier, r.incident_id])));
        const entries = planner(changes, (notifier, incidentId) => notified.has(JSON.stringify([notifier, incidentId])));
        const now = new Date().toISOString();
        for (let i = 0; i < entries.length; i += 100) {
          const rows = entries.slice(i, i + 100);
          await client.query(outboxText.insertRows(rows.length), rows.flatMap((entry) => outboxParams(entry, now)));
        }
        const pairs = [...new Set(entries.map((e) => JSON.stringify([e.notifier, e.incidentId])))].map((k) => JSON.parse(k) as [string, string]);
        if (pairs.length > 0) {
          await client.query(`INSERT INTO ${s}.notified (notifier, incident_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, [pairs.map((x) => x[0]), pairs.map((x) => x[1])]);
        }
        await client.query(outboxText.markPlanned, [changes.map((c) => String(c.seq))]);
        return changes.length;
      }),
    claim: async (request) =>
      (await query("outbox claim failed", outboxText.anyDue, [request.now, request.notifier])).length === 0
        ? []
        : tx("outbox claim failed", async (client) => {
        // one claim of a notifier at a time: the next one sees this one's leases
        await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK + 1}, hashtext($1))`, [`${schemaName} ${request.notifier}`]);
        const { rows } = await client.query(outboxText.claim, [request.now, request.worker, request.notifier, request.limit, request.leaseUntil]);
        return (rows as Array<OutboxRow & { seq: string }>).sort((a, b) => Number(a.seq) - Number(b.seq)).map(rowToDelivery);
      }),
    async settle(id, worker, outcome) {
      await query("outbox update failed", outboxText.settle, [outcome.status, outcome.attempts, outcome.dueAt ?? null, outcome.error ?? null, outcome.at, id, worker]);
    },
    async release(worker) {
      await query("outbox release failed", outboxText.release, [worker]);
    },
    async prune({ settledBefore, changesBefore }) {
      await execute("outbox prune failed", outboxText.pruneChanges, [changesBefore, settledBefore]);
      return (await execute("outbox prune failed", outboxText.prune, [settledBefore])).rowCount ?? 0;
    },
    async deliveries(q) {
      const rows: OutboxRow[] = await query("outbox read failed", outboxText.list, [q.status ?? null, q.notifier ?? null, listParam("postgres", q.ids), q.limit]);
      return rows.map(rowToDelivery);
    },
    retry: (q, update) =>
      tx("outbox retry failed", async (client) => {
        const params = [update.now, update.to ?? null, q.status ?? null, q.notifier ?? null, listParam("postgres", q.ids), update.keep ? 1 : 0];
        // the renamed notifier counts as notified of the incidents it takes over
        await client.query(outboxText.retryNotified, params);
        return (await client.query(outboxText.retry, params)).rowCount ?? 0;
      }),
    async heartbeat(names, now) {
      for (const name of names) await execute("outbox heartbeat failed", outboxText.heartbeat, [name, now]);
    },
    async stranded(before) {
      return (await query("outbox read failed", outboxText.stranded, [before])).map((r: { notifier: string }) => r.notifier);
    },
    async bury(notifier, error, at, before) {
      return ((await query("outbox update failed", outboxText.bury, [error, at, notifier, before])) as OutboxRow[]).map(rowToDelivery);
    },
  };

  const noiseText = noiseSql("postgres", `${s}.`);
  const timers: TimerStore = {
    async schedule(list) {
      const rows = lastOfEachId(list);
      if (rows.length === 0) return;
      if (rows.length <= 100) return void (await execute("timer schedule failed", noiseText.scheduleRows(rows.length), rows.flatMap(timerParams)));
      // all or nothing, 100 to a statement; writing them again is harmless, so a lost COMMIT is retried
      await tx("timer schedule failed", async (client) => {
        for (let i = 0; i < rows.length; i += 100) {
          const batch = rows.slice(i, i + 100);
          await client.query(noiseText.scheduleRows(batch.length), batch.flatMap(timerParams));
        }
      }, true);
    },
    async claim(request) {
      if (request.limit <= 0) return [];
      // one statement: rows another claim holds are skipped, and each row's lease is checked again under its lock
      const rows: TimerRow[] = await query("timer claim failed", noiseText.claim, [request.now, request.worker, request.leaseUntil, request.limit]);
      return rows.map(rowToTimer).sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.id < b.id ? -1 : 1));
    },
    async done(id, worker, dueAt) {
      await execute("timer update failed", noiseText.done, [id, worker, dueAt]);
    },
    async cancel(id) {
      await execute("timer update failed", noiseText.cancel, [id]);
    },
    list: async (q) => ((await query("timer read failed", noiseText.listTimers, [q.workspaceId ?? null, q.limit])) as TimerRow[]).map(rowToTimer),
  };

  const silences: SilenceStore = {
    async create(silence) {
      await execute("silence create failed", noiseText.createSilence, silenceParams(silence));
    },
    get: async (workspaceId, id) => {
      const rows: SilenceRow[] = await query("silence read failed", noiseText.getSilence, [workspaceId, id]);
      return rows[0] ? rowToSilence(rows[0]) : null;
    },
    list: async (q) => ((await query("silence read failed", noiseText.listSilences, [q.workspaceId ?? null, q.activeAt ?? null, q.limit])) as SilenceRow[]).map(rowToSilence),
    expire: async (workspaceId, id, at, by) => {
      // the update is one atomic compare-and-set; what it leaves is read after it
      await execute("silence expire failed", noiseText.expireSilence, [workspaceId, id, at, JSON.stringify(by)]);
      const rows: SilenceRow[] = await query("silence read failed", noiseText.getSilence, [workspaceId, id]);
      return rows[0] ? rowToSilence(rows[0]) : null;
    },
  };

  const feed: ChangeFeed = {
    read: async (q) => ((await query("feed read failed", outboxText.readChanges, [q.after, q.workspaceId ?? null, q.limit])) as ChangeRow[]).map(rowToChange),
    head: async () => Number((await query("feed read failed", outboxText.head, []))[0].seq),
  };

  return defineStore({
    name: NAME,
    durable: true,
    outbox,
    feed,
    timers,
    silences,
    migrate,
    async ingest(request) {
      try {
        return await ingestOnce(request);
      } catch (error) {
        if (!(error instanceof StorageError && error.cause instanceof RetryAsDuplicate)) throw error;
        return tx("report failed", async (client) => (await duplicateOf(client, request))!);
      }
    },
    ingestMany,
    mutate: (workspaceId, id, apply) =>
      tx("update failed", async (client) => {
        const found = await client.query(`SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, [workspaceId, id]);
        if (!found.rows[0]) throw new NotFoundError(id);
        const current = read(found.rows[0]);
        const result = apply(current);
        if (result === null) return current;
        await update(client, current, result.incident);
        if (result.activity) await addActivity(client, result.activity);
        await appendChange(client, { workspaceId, incidentId: id, event: result.event, at: result.at ?? result.activity?.at ?? result.incident.updatedAt, incident: result.incident, previous: current });
        return result.incident;
      }),
    async get(workspaceId, id) {
      const rows = await query("read failed", `SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
      return rows[0] ? read(rows[0]) : null;
    },
    async detail(workspaceId, id) {
      // one statement: the three parts come from one snapshot
      const rows = await query(
        "read failed",
        `SELECT i.*,
           (SELECT coalesce(json_agg(a.data ORDER BY a.version), '[]') FROM ${s}.activity a WHERE a.incident_id = i.id) AS activity_log,
           (SELECT coalesce(json_agg(json_build_object('incident_id', o.incident_id, 'run_id', o.run_id, 'event_id', o.event_id, 'trace_id', o.trace_id, 'at', o.at)
              ORDER BY o.at, o.seq), '[]') FROM ${s}.occurrences o WHERE o.incident_id = i.id) AS occurrence_log
         FROM ${s}.incidents i WHERE i.workspace_id = $1 AND i.id = $2`,
        [workspaceId, id],
        "detail",
      );
      const row = rows[0] as (IncidentRow & { activity_log: Array<Record<string, unknown>>; occurrence_log: OccurrenceRow[] }) | undefined;
      if (!row) return null;
      return {
        incident: read(row),
        activity: row.activity_log.map((data) => rowToActivity(data, NAME)),
        occurrences: row.occurrence_log.map((r) => rowToOccurrence(r, NAME)),
      };
    },
    async activity(workspaceId, id) {
      const rows = await query(
        "read failed",
        `SELECT a.data FROM ${s}.activity a JOIN ${s}.incidents i ON i.id = a.incident_id WHERE i.workspace_id = $1 AND a.incident_id = $2 ORDER BY a.version`,
        [workspaceId, id],
      );
      return rows.map((r) => rowToActivity(r.data, NAME));
    },
    async occurrences(workspaceId, id) {
      const rows: OccurrenceRow[] = await query(
        "read failed",
        `SELECT incident_id, run_id, event_id, trace_id, at FROM ${s}.occurrences WHERE workspace_id = $1 AND incident_id = $2 ORDER BY at, seq`,
        [workspaceId, id],
      );
      return rows.map((r) => rowToOccurrence(r, NAME));
    },
    async snapshot(workspaceId, id) {
      const rows = await query(
        "read failed",
        `SELECT s.data FROM ${s}.episode_snapshots s JOIN ${s}.incidents i ON i.id = s.incident_id
         WHERE i.workspace_id = $1 AND s.incident_id = $2 ORDER BY s.episode DESC LIMIT 1`,
        [workspaceId, id],
      );
      return rows[0] ? rowToSnapshot(rows[0].data, NAME, id) : null;
    },
    async list(workspaceId, q) {
      const { sql, params } = listClause(workspaceId, q, (n) => `$${n}`);
      return (await query("list failed", `SELECT * FROM ${s}.incidents ${sql}`, params)).map(read);
    },
    async counts(workspaceId, filter) {
      const rows =
        filter.agentId === undefined
          ? await query("counts failed", `SELECT severity, status, sum(n) AS n FROM ${s}.incident_counts WHERE workspace_id = $1 GROUP BY severity, status`, [workspaceId])
          : await query("counts failed", `SELECT severity, status, sum(n) AS n FROM ${s}.incident_counts WHERE workspace_id = $1 AND agent_id = $2 GROUP BY severity, status`, [
              workspaceId,
              filter.agentId,
            ]);
      return foldCounts(rows);
    },
    async scan(workspaceId, q) {
      const rows =
        q.createdSince === null
          ? await query("scan failed", `SELECT * FROM ${s}.incidents WHERE workspace_id = $1`, [workspaceId])
          : await query("scan failed", `SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND created_at >= $2`, [workspaceId, q.createdSince]);
      return rows.map(read);
    },
    async close() {
      if (closed) return;
      closed = true;
      // what is in flight finishes first: ending the pool under a waiting connect() would hang it
      await Promise.allSettled([...inFlight]);
      await ready?.catch(() => undefined);
      if (owned) await pool.end().catch((error: unknown) => Promise.reject(wrap(error, "close failed")));
    },
  });
}

class RetryAsDuplicate extends Error {}

/** A string as an SQL literal. */
function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * 80 bits of SHA-256 as 20 hex digits: statement names are cut at 63 bytes by the server, and two
 * schemas (or two statements) must never share one, even when someone picks the names to collide.
 */
function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 20);
}

/** The write statement's few shapes (new, recurred, raised, reopened): each named once. */
const writeNames = new Map<string, string>();
function nameWrite(text: string): string {
  let name = writeNames.get(text);
  if (name === undefined) {
    name = digest(text);
    if (writeNames.size < 64) writeNames.set(text, name);
  }
  return name;
}

/** SQLSTATE 26000: the connection no longer has a statement `pg` prepared on it. */
function isUnknownStatement(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "26000";
}

function createPool(connectionString: string, options: PostgresStoreOptions, statementTimeoutMs: number): PgPool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "agent-incidents",
    statement_timeout: statementTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // a client losing its connection must not crash the host, idle or not, also in the moment
  // between connecting and being handed out: the next query fails instead
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return options.readOnly === true ? readOnlyPool(pool as unknown as PgPool) : (pool as unknown as PgPool);
}

async function runMigrations(pool: PgPool, schemaName: string): Promise<void> {
  const s = `"${schemaName}"`;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [MIGRATION_LOCK, schemaName]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const applied = new Set((await client.query(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) => Number(r.version)));
    const pending = pendingMigrations("postgres", applied, `schema ${schemaName}`, schemaName);
    for (const migration of pending) {
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw migrationFailed("postgres", migration, error);
      }
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
    }
    await client.query("COMMIT");
    // fresh tables have no statistics until autovacuum gets to them: without, the planner may sort a
    // whole workspace for a first page instead of walking an index
    if (pending.length > 0) await client.query(`ANALYZE ${s}.incidents, ${s}.occurrences, ${s}.outbox, ${s}.changes`).catch(() => undefined);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** For a store that does not migrate: the schema must exist, at this library's version; creates nothing. */
async function verifySchema(pool: PgPool, schemaName: string): Promise<void> {
  const { rows } = await pool.query("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema, to_regclass($2) IS NOT NULL AS migrations", [
    schemaName,
    `"${schemaName}".schema_migrations`,
  ]);
  if (!rows[0].schema) throw new StorageError(NAME, `schema ${schemaName} does not exist (it is not created without migrating: check the name)`);
  const applied = rows[0].migrations ? new Set((await pool.query(`SELECT version FROM "${schemaName}".schema_migrations`)).rows.map((r) => Number(r.version))) : null;
  requireCurrentSchema("postgres", applied, `schema ${schemaName}`);
}

/** The server could not be reached at all: no such host, no route, nothing listening. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && ["ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ENOENT"].includes(code);
}

/** SQLSTATEs after which the same call may succeed: connection loss, shutdown, lock and serialization failures. */
const TRANSIENT_STATES = new Set(["40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"]);

function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // the connection lost what pg prepared on it (DISCARD ALL, a pooler): only a new one knows where it stands
  if (isUnknownStatement(error)) return true;
  if (typeof code === "string" && (code.startsWith("08") || ["57P01", "57P02", "57P03", "ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"].includes(code))) {
    return true;
  }
  return typeof message === "string" && /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect/i.test(message);
}

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return isConnectionError(error) || (typeof code === "string" && TRANSIENT_STATES.has(code));
}

function wrap(error: unknown, what: string): IncidentError {
  return duplicateIdError(error) ?? asIncidentError(error, NAME, what, isTransient);
}
