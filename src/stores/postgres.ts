import pg from "pg";
import { z } from "zod";
import { asIncidentError, ClosedError, NotFoundError, StorageError, type IncidentError } from "../core/errors.js";
import { parseOrThrow } from "../core/schemas.js";
import type { Activity, Incident } from "../core/incident.js";
import { numbered } from "../core/ingest.js";
import { defineStore, type IncidentStore, type IngestRequest, type IngestResult, type Outbox, type OutboxEntry } from "./contract.js";
import { outboxParams, outboxSql, rowToDelivery, type OutboxRow } from "./sql-outbox.js";
import { migrationFailed, pendingMigrations } from "./sql-migrations.js";
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
  query(text: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  release(error?: Error | boolean): void;
  /** Used, when present, to catch the `'error'` a connection emits while checked out. */
  on?(event: "error", listener: (error: Error) => void): unknown;
  removeListener?(event: "error", listener: (error: Error) => void): unknown;
}

/** The few `pg.Pool` members this store uses. */
export interface PgPool {
  connect(): Promise<PgClient>;
  query(text: string, params?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
  end(): Promise<void>;
}

export type PostgresStoreOptions = ({ pool: PgPool; connectionString?: never } | { connectionString: string; pool?: never }) & {
  /** Schema holding the tables (default `agent_incidents`); created if missing. */
  schema?: string;
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
};

const timeout = z.number().int().min(1).max(3_600_000).optional();
const common = {
  schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "must be a plain SQL identifier").optional(),
  max: z.number().int().min(1).max(1000).optional(),
  lockTimeoutMs: timeout,
  statementTimeoutMs: timeout,
  connectTimeoutMs: timeout,
  applicationName: z.string().min(1).max(63).regex(/^[\x20-\x7e]*$/, "must be printable ASCII").optional(),
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
    z.object({ connectionString: z.string().min(1, "must not be empty").refine((c) => !c.includes("\u0000"), "must not contain NUL"), ...common }).strict(),
  ],
  { error: () => "needs either pool (a pg Pool) or connectionString" },
);

/** A PostgreSQL store with its migrations, run before its first query (or by `migrate()`). */
export interface PostgresStore extends IncidentStore {
  /** Applies pending migrations now; safe when several processes start at once. */
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
  const begin = `BEGIN; SET LOCAL lock_timeout = ${lockTimeoutMs}; SET LOCAL statement_timeout = ${statementTimeoutMs}`;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  let ready: Promise<void> | null = null;

  const migrate = (): Promise<void> => (ready ??= runMigrations(pool, schemaName).catch((error: unknown) => {
    ready = null;
    throw wrap(error, "migration failed");
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

  const execute = (what: string, text: string, params: unknown[]) =>
    tracked(async () => {
      await migrate();
      try {
        return await pool.query(text, params);
      } catch (error) {
        throw wrap(error, what);
      }
    });
  const query = async (what: string, text: string, params: unknown[]): Promise<any[]> => (await execute(what, text, params)).rows;

  const read = (row: IncidentRow): Incident => rowToIncident(row, NAME);
  const outboxText = outboxSql("postgres", `${s}.`);
  const addDeliveries = async (client: PgClient, entries: readonly unknown[] | undefined, at: string): Promise<void> => {
    for (const entry of (entries ?? []) as OutboxEntry[]) await client.query(outboxText.insert, outboxParams(entry, at));
  };

  const recount = async (client: PgClient, before: Incident | null, after: Incident): Promise<void> => {
    for (const d of countDeltas(before, after)) {
      await client.query(
        `INSERT INTO ${s}.incident_counts (workspace_id, agent_id, severity, status, n) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (workspace_id, agent_id, severity, status) DO UPDATE SET n = ${s}.incident_counts.n + EXCLUDED.n`,
        [after.workspaceId, d.agentId, d.severity, d.status, d.delta],
      );
    }
  };

  const update = async (client: PgClient, before: Incident, after: Incident): Promise<void> => {
    const r = incidentToRow(after);
    const result = await client.query(
      `UPDATE ${s}.incidents SET severity = $1, severity_rank = $2, status = $3, last_seen_at = $4, resolved_at = $5, version = $6, data = $7, seal = $11
       WHERE id = $8 AND workspace_id = $9 AND version = $10`,
      [r.severity, r.severity_rank, r.status, r.last_seen_at, r.resolved_at, r.version, r.data, r.id, r.workspace_id, before.version, r.seal],
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

  const ingestOnce = (request: IngestRequest) =>
    tx("report failed", async (client): Promise<IngestResult> => {
      const { workspaceId, fingerprint } = request;
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", [workspaceId, fingerprint]);
      const duplicate = await duplicateOf(client, request);
      if (duplicate) return duplicate;
      let existing: Incident | null = null;
      let recent = 1;
      if (request.merge) {
        const found = await client.query(
          `SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND fingerprint = $2
           ORDER BY (status = 'resolved'), CASE WHEN status = 'resolved' THEN resolved_at ELSE created_at END DESC, number DESC
           LIMIT 1 FOR UPDATE`,
          [workspaceId, fingerprint],
        );
        existing = found.rows[0] ? read(found.rows[0]) : null;
        const seen = await client.query(`SELECT count(*) AS n FROM ${s}.occurrences WHERE workspace_id = $1 AND fingerprint = $2 AND at >= $3`, [
          workspaceId,
          fingerprint,
          request.windowStart,
        ]);
        recent += Number(seen.rows[0].n);
      }
      const decision = request.decide(existing, recent);
      let incident: Incident;
      if (decision.outcome === "created") {
        const counter = await client.query(
          `INSERT INTO ${s}.workspace_counters (workspace_id, last_number) VALUES ($1, 1)
           ON CONFLICT (workspace_id) DO UPDATE SET last_number = ${s}.workspace_counters.last_number + 1 RETURNING last_number`,
          [workspaceId],
        );
        incident = numbered(decision.incident, Number(counter.rows[0].last_number));
        const r = incidentToRow(incident);
        await client.query(
          `INSERT INTO ${s}.incidents (id, workspace_id, number, agent_id, run_id, kind, severity, severity_rank, status,
             fingerprint, last_seen_at, created_at, resolved_at, version, data, seal)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
          [r.id, r.workspace_id, r.number, r.agent_id, r.run_id, r.kind, r.severity, r.severity_rank, r.status, r.fingerprint, r.last_seen_at, r.created_at, r.resolved_at, r.version, r.data, r.seal],
        );
        await recount(client, null, incident);
      } else {
        incident = decision.incident;
        await update(client, existing!, incident);
      }
      if (decision.outcome !== "recurred") {
        await client.query(`INSERT INTO ${s}.episode_snapshots (incident_id, episode, data) VALUES ($1, $2, $3)`, [
          incident.id,
          incident.episodes.length,
          JSON.stringify(request.snapshot()),
        ]);
      }
      if (decision.activity) await addActivity(client, decision.activity);
      const inserted = await client.query(
        `INSERT INTO ${s}.occurrences (workspace_id, incident_id, kind, fingerprint, run_id, event_id, trace_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING seq`,
        [workspaceId, incident.id, request.kind, fingerprint, request.runId, request.eventId, request.traceId, request.at],
      );
      // the same (runId, eventId) reported concurrently under another fingerprint: undo, report a duplicate
      if (inserted.rowCount === 0) throw new RetryAsDuplicate();
      await addDeliveries(client, request.deliveries?.(incident, decision.outcome), request.at);
      return { outcome: decision.outcome, incident };
    }, request.runId !== null && request.eventId !== null);

  const outbox: Outbox = {
    async claim(request) {
      const rows: Array<OutboxRow & { seq: string }> = await query("outbox claim failed", outboxText.claim, [request.now, request.worker, request.notifiers, request.limit, request.leaseUntil]);
      return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(rowToDelivery);
    },
    async settle(id, worker, outcome) {
      await query("outbox update failed", outboxText.settle, [outcome.status, outcome.attempts, outcome.dueAt ?? null, outcome.error ?? null, outcome.at, id, worker]);
    },
    async release(worker) {
      await query("outbox release failed", outboxText.release, [worker]);
    },
    async prune(before) {
      return (await execute("outbox prune failed", outboxText.prune, [before])).rowCount ?? 0;
    },
    async deliveries(q) {
      const rows: OutboxRow[] = await query("outbox read failed", outboxText.list, [q.status ?? null, q.limit]);
      return rows.map(rowToDelivery);
    },
  };

  return defineStore({
    name: NAME,
    durable: true,
    outbox,
    migrate,
    async ingest(request) {
      try {
        return await ingestOnce(request);
      } catch (error) {
        if (!(error instanceof StorageError && error.cause instanceof RetryAsDuplicate)) throw error;
        return tx("report failed", async (client) => (await duplicateOf(client, request))!);
      }
    },
    mutate: (workspaceId, id, apply) =>
      tx("update failed", async (client) => {
        const found = await client.query(`SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, [workspaceId, id]);
        if (!found.rows[0]) throw new NotFoundError(id);
        const current = read(found.rows[0]);
        const result = apply(current);
        if (result === null) return current;
        await update(client, current, result.incident);
        await addActivity(client, result.activity);
        await addDeliveries(client, result.deliveries, result.activity.at);
        return result.incident;
      }),
    async get(workspaceId, id) {
      const rows = await query("read failed", `SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
      return rows[0] ? read(rows[0]) : null;
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
          : await query("counts failed", `SELECT severity, status, n FROM ${s}.incident_counts WHERE workspace_id = $1 AND agent_id = $2`, [workspaceId, filter.agentId]);
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
  return pool as unknown as PgPool;
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
    if (pending.length > 0) await client.query(`ANALYZE ${s}.incidents, ${s}.occurrences, ${s}.outbox`).catch(() => undefined);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** SQLSTATEs after which the same call may succeed: connection loss, shutdown, lock and serialization failures. */
const TRANSIENT_STATES = new Set(["40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"]);

function isConnectionError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
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
