import type { Notification } from "../notifiers/contract.js";
import type { ClaimedDelivery, DeliveryRecord, OutboxEntry } from "./contract.js";
import type { Dialect } from "./sql-migrations.js";

/**
 * The outbox statements of one dialect; `t` prefixes tables. Parameter n is `$n` in PostgreSQL
 * and `@pn` in SQLite (pass `named(params)`).
 */
export function outboxSql(dialect: Dialect, t: string) {
  const p = (n: number) => (dialect === "postgres" ? `$${n}` : `@p${n}`);
  const notifierIn = dialect === "postgres" ? `o.notifier = ANY(${p(3)}::text[])` : `o.notifier IN (SELECT value FROM json_each(${p(3)}))`;
  // claimable: pending, due, not leased, and no older pending entry of the same kind for the same
  // notifier and incident: a resolve never overtakes its create, nor a digest one that is retried
  const claimable = `SELECT o.seq FROM ${t}outbox o
    WHERE o.status = 'pending' AND ${notifierIn} AND o.due_at <= ${p(1)} AND (o.lease_until IS NULL OR o.lease_until < ${p(1)})
      AND NOT EXISTS (SELECT 1 FROM ${t}outbox e WHERE e.notifier = o.notifier AND e.incident_id = o.incident_id
        AND e.status = 'pending' AND e.digest = o.digest AND e.seq < o.seq)
    ORDER BY o.seq LIMIT ${p(4)}`;
  // a row's eight parameters (see outboxParams) start at 8 * row + 1
  function insertRows(rows: number): string {
    const values = Array.from({ length: rows }, (_, r) => {
      const q = (k: number) => p(r * 8 + k);
      return `(${[1, 2, 3, 4, 5].map(q).join(", ")}, 'pending', 0, ${q(6)}, ${q(7)}, ${q(8)})`;
    });
    return `INSERT INTO ${t}outbox (id, notifier, workspace_id, incident_id, digest, status, attempts, due_at, created_at, notification)
      VALUES ${values.join(", ")}`;
  }
  return {
    insert: insertRows(1),
    /** `rows` entries in one statement; parameters are `outboxParams` of each, one after another. */
    insertRows,
    /** Parameters: 1 now, 2 worker, 3 notifiers, 4 limit, 5 lease end. SQLite then runs `claimUpdate` per row. */
    claim:
      dialect === "postgres"
        ? `WITH picked AS (${claimable} FOR UPDATE SKIP LOCKED)
           UPDATE ${t}outbox SET claimed_by = ${p(2)}, lease_until = ${p(5)} FROM picked WHERE ${t}outbox.seq = picked.seq RETURNING ${t}outbox.*`
        : claimable.replace("SELECT o.seq", "SELECT o.*"),
    claimUpdate: `UPDATE ${t}outbox SET claimed_by = ?, lease_until = ? WHERE seq = ?`,
    settle: `UPDATE ${t}outbox SET status = CAST(${p(1)} AS TEXT), attempts = ${p(2)}, due_at = COALESCE(CAST(${p(3)} AS TEXT), due_at),
      last_error = CAST(${p(4)} AS TEXT), settled_at = CASE WHEN CAST(${p(1)} AS TEXT) = 'pending' THEN NULL ELSE CAST(${p(5)} AS TEXT) END,
      claimed_by = NULL, lease_until = NULL
      WHERE id = ${p(6)} AND claimed_by = ${p(7)}`,
    release: `UPDATE ${t}outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ${p(1)} AND status = 'pending'`,
    prune: `DELETE FROM ${t}outbox WHERE status <> 'pending' AND settled_at < ${p(1)}`,
    list: `SELECT * FROM ${t}outbox WHERE (CAST(${p(1)} AS TEXT) IS NULL OR status = CAST(${p(1)} AS TEXT)) ORDER BY seq DESC LIMIT ${p(2)}`,
  };
}

/** Positional parameters as SQLite's named ones: `{ p1, p2, ... }`. */
export function named(params: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
}

/** The parameters of `insert` for one entry. */
export function outboxParams(entry: OutboxEntry, now: string): unknown[] {
  return [entry.id, entry.notifier, entry.workspaceId, entry.incidentId, entry.digest ? 1 : 0, entry.dueAt, now, JSON.stringify(entry.notification)];
}

export interface OutboxRow {
  id: string;
  notifier: string;
  workspace_id: string;
  incident_id: string;
  digest: number;
  status: DeliveryRecord["status"];
  attempts: number;
  due_at: string;
  last_error: string | null;
  created_at: string;
  settled_at: string | null;
  notification: string | Notification;
}

export function rowToDelivery(row: OutboxRow): DeliveryRecord {
  const claimed: ClaimedDelivery = {
    id: row.id,
    notifier: row.notifier,
    workspaceId: row.workspace_id,
    incidentId: row.incident_id,
    notification: typeof row.notification === "string" ? (JSON.parse(row.notification) as Notification) : row.notification,
    dueAt: row.due_at,
    digest: Number(row.digest) === 1,
    attempts: Number(row.attempts),
  };
  return { ...claimed, status: row.status, lastError: row.last_error, createdAt: row.created_at, settledAt: row.settled_at };
}
