/**
 * The change feed and outbox statements both SQL stores share, and their rows. A change is
 * appended in the transaction that makes it; `plan` turns unplanned changes into outbox entries;
 * workers claim a notifier's due entries with a lease, in order per incident, and settle them.
 */
import type { Change, ChangeInput, ClaimedDelivery, DeliveryRecord, Notification, OutboxEntry } from "../core/notification.js";
import type { Incident } from "../core/incident.js";
import type { Dialect } from "./sql-migrations.js";

/**
 * The statements of one dialect; `t` prefixes tables. Parameter n is `$n` in PostgreSQL and
 * `@pn` in SQLite (pass `named(params)`).
 */
export function outboxSql(dialect: Dialect, t: string) {
  const pg = dialect === "postgres";
  const p = (n: number) => (pg ? `$${n}` : `@p${n}`);
  const list = (n: number) => (pg ? `ANY(${p(n)}::text[])` : `(SELECT value FROM json_each(${p(n)}))`);
  const inList = (column: string, n: number) => (pg ? `${column} = ${list(n)}` : `${column} IN ${list(n)}`);
  /** An optional list parameter: matches everything when null. */
  const anyIn = (column: string, n: number) => `(${pg ? `${p(n)}::text[]` : `CAST(${p(n)} AS TEXT)`} IS NULL OR ${inList(column, n)})`;
  // claimable: pending, due, not leased, and no older pending entry of the same kind for the same
  // notifier and incident that is held back (not due, or leased): a resolve never overtakes its
  // create, nor a digest one that is retried. Older ones claimed together are sent first, in order.
  // Claims of one notifier run one at a time (a transaction, and a lock in PostgreSQL).
  // SQLite would otherwise check each candidate against every older pending entry of the notifier
  const byIncident = pg ? "" : " INDEXED BY outbox_by_incident";
  const claimable = `SELECT o.seq FROM ${t}outbox o
    WHERE o.notifier = ${p(3)} AND o.status = 'pending' AND o.due_at <= ${p(1)} AND (o.lease_until IS NULL OR o.lease_until < ${p(1)})
      AND NOT EXISTS (SELECT 1 FROM ${t}outbox e${byIncident} WHERE e.notifier = o.notifier AND e.incident_id = o.incident_id
        AND e.status = 'pending' AND e.digest = o.digest AND e.seq < o.seq AND (e.due_at > ${p(1)} OR e.lease_until >= ${p(1)}))
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
  const notDelivered = `status IN ('pending', 'dead')`;
  return {
    /** Parameters: `changeParams`. */
    appendChange: `INSERT INTO ${t}changes (workspace_id, incident_id, event, at, incident, previous) VALUES (${[1, 2, 3, 4, 5, 6].map(p).join(", ")})`,
    /** Whether planning has anything to do: read without a write lock first. */
    anyUnplanned: `SELECT 1 AS any FROM ${t}changes WHERE planned = 0 LIMIT 1`,
    /** 1 now, 2 notifier: whether a claim could find anything, read without a write lock first. */
    anyDue: `SELECT 1 AS any FROM ${t}outbox WHERE notifier = ${p(2)} AND status = 'pending' AND due_at <= ${p(1)} AND (lease_until IS NULL OR lease_until < ${p(1)}) LIMIT 1`,
    /** 1 limit. */
    unplanned: `SELECT * FROM ${t}changes WHERE planned = 0 ORDER BY seq LIMIT ${p(1)}`,
    /** 1 seqs (a JSON or text array). */
    markPlanned: `UPDATE ${t}changes SET planned = 1 WHERE ${pg ? `seq = ANY(${p(1)}::bigint[])` : `seq IN (SELECT value FROM json_each(${p(1)}))`}`,
    /** 1 incident ids. */
    notifiedOf: `SELECT notifier, incident_id FROM ${t}notified WHERE ${inList("incident_id", 1)}`,
    /** 1 notifier, 2 incident id. */
    addNotified: `INSERT INTO ${t}notified (notifier, incident_id) VALUES (${p(1)}, ${p(2)}) ON CONFLICT DO NOTHING`,
    /** 1 after, 2 workspace or null, 3 limit. */
    readChanges: `SELECT * FROM ${t}changes WHERE seq > ${p(1)} AND (CAST(${p(2)} AS TEXT) IS NULL OR workspace_id = CAST(${p(2)} AS TEXT)) ORDER BY seq LIMIT ${p(3)}`,
    head: `SELECT coalesce(max(seq), 0) AS seq FROM ${t}changes`,
    insert: insertRows(1),
    /** `rows` entries in one statement; parameters are `outboxParams` of each, one after another. */
    insertRows,
    /** Parameters: 1 now, 2 worker, 3 notifier, 4 limit, 5 lease end. SQLite then runs `claimUpdate` per row. */
    claim: pg
      ? `WITH picked AS (${claimable} FOR UPDATE SKIP LOCKED)
           UPDATE ${t}outbox SET claimed_by = ${p(2)}, lease_until = ${p(5)} FROM picked WHERE ${t}outbox.seq = picked.seq RETURNING ${t}outbox.*`
      : claimable.replace("SELECT o.seq", "SELECT o.*"),
    claimUpdate: `UPDATE ${t}outbox SET claimed_by = ?, lease_until = ? WHERE seq = ?`,
    settle: `UPDATE ${t}outbox SET status = CAST(${p(1)} AS TEXT), attempts = ${p(2)}, due_at = COALESCE(CAST(${p(3)} AS TEXT), due_at),
      last_error = CAST(${p(4)} AS TEXT), settled_at = CASE WHEN CAST(${p(1)} AS TEXT) = 'pending' THEN NULL ELSE CAST(${p(5)} AS TEXT) END,
      claimed_by = NULL, lease_until = NULL
      WHERE id = ${p(6)} AND claimed_by = ${p(7)}`,
    release: `UPDATE ${t}outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ${p(1)} AND status = 'pending'`,
    /** 1 settled before. */
    prune: `DELETE FROM ${t}outbox WHERE status <> 'pending' AND settled_at < ${p(1)}`,
    /**
     * 1 planned changes written before, 2 any change written before. Unplanned ones go at 1 too
     * when no process has ever delivered from this store (no heartbeat): live views need no more.
     */
    pruneChanges: `DELETE FROM ${t}changes WHERE (written_at < ${p(1)} AND (planned = 1 OR NOT EXISTS (SELECT 1 FROM ${t}notifier_heartbeats))) OR written_at < ${p(2)}`,
    /** 1 status or null, 2 notifier or null, 3 ids (array) or null, 4 limit. */
    list: `SELECT * FROM ${t}outbox WHERE (CAST(${p(1)} AS TEXT) IS NULL OR status = CAST(${p(1)} AS TEXT))
      AND (CAST(${p(2)} AS TEXT) IS NULL OR notifier = CAST(${p(2)} AS TEXT))
      AND ${anyIn("id", 3)} ORDER BY seq DESC LIMIT ${p(4)}`,
    /** 1 now, 2 new notifier or null, 3 status or null, 4 notifier or null, 5 ids (array) or null, 6 keep (1 or 0). */
    retry: `UPDATE ${t}outbox SET status = 'pending', attempts = CASE WHEN ${p(6)} = 1 THEN attempts ELSE 0 END, due_at = ${p(1)},
      created_at = CASE WHEN ${p(6)} = 1 THEN created_at ELSE ${p(1)} END,
      last_error = CASE WHEN ${p(6)} = 1 THEN last_error ELSE NULL END, settled_at = NULL,
      claimed_by = NULL, lease_until = NULL, notifier = COALESCE(CAST(${p(2)} AS TEXT), notifier)
      WHERE ${notDelivered} AND (lease_until IS NULL OR lease_until < ${p(1)}) AND (CAST(${p(3)} AS TEXT) IS NULL OR status = CAST(${p(3)} AS TEXT))
      AND (CAST(${p(4)} AS TEXT) IS NULL OR notifier = CAST(${p(4)} AS TEXT)) AND ${anyIn("id", 5)}`,
    /** The notifier entries are moved to (`retry`'s `to`) has heard of their incidents. Parameters as `retry`'s. */
    retryNotified: `INSERT INTO ${t}notified (notifier, incident_id) SELECT DISTINCT CAST(${p(2)} AS TEXT), incident_id FROM ${t}outbox
      WHERE ${p(6)} = 0 AND CAST(${p(2)} AS TEXT) IS NOT NULL AND ${notDelivered} AND (lease_until IS NULL OR lease_until < ${p(1)})
      AND (CAST(${p(3)} AS TEXT) IS NULL OR status = CAST(${p(3)} AS TEXT))
      AND (CAST(${p(4)} AS TEXT) IS NULL OR notifier = CAST(${p(4)} AS TEXT)) AND ${anyIn("id", 5)}
      ON CONFLICT DO NOTHING`,
    /** 1 notifier, 2 now. */
    heartbeat: `INSERT INTO ${t}notifier_heartbeats (notifier, seen_at) VALUES (${p(1)}, ${p(2)})
      ON CONFLICT (notifier) DO UPDATE SET seen_at = excluded.seen_at`,
    /** 1 before. */
    stranded: `SELECT DISTINCT o.notifier FROM ${t}outbox o LEFT JOIN ${t}notifier_heartbeats h ON h.notifier = o.notifier
      WHERE o.status = 'pending' AND o.created_at < ${p(1)} AND (h.seen_at IS NULL OR h.seen_at < ${p(1)})`,
    /** 1 error, 2 at, 3 notifier, 4 heartbeat before. */
    bury: `UPDATE ${t}outbox SET status = 'dead', last_error = CAST(${p(1)} AS TEXT), settled_at = CAST(${p(2)} AS TEXT), claimed_by = NULL, lease_until = NULL
      WHERE notifier = ${p(3)} AND status = 'pending' AND (lease_until IS NULL OR lease_until < ${p(2)})
        AND NOT EXISTS (SELECT 1 FROM ${t}notifier_heartbeats h WHERE h.notifier = ${p(3)} AND h.seen_at >= ${p(4)}) RETURNING *`,
  };
}

/** Positional parameters as SQLite's named ones: `{ p1, p2, ... }`. */
export function named(params: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
}

/** The parameters of `insert` for one entry; `now` is when it was planned. */
export function outboxParams(entry: OutboxEntry, now: string): unknown[] {
  return [entry.id, entry.notifier, entry.workspaceId, entry.incidentId, entry.digest ? 1 : 0, entry.dueAt, now, JSON.stringify(entry.notification)];
}

/** The parameters of `appendChange`. */
export function changeParams(change: ChangeInput): unknown[] {
  return [change.workspaceId, change.incidentId, change.event, change.at, JSON.stringify(change.incident), change.previous === null ? null : JSON.stringify(change.previous)];
}

/** A list of strings or numbers as a statement parameter: an array in PostgreSQL, JSON in SQLite. */
export function listParam(dialect: Dialect, values: readonly (string | number)[] | undefined | null): unknown {
  if (values === undefined || values === null) return null;
  return dialect === "postgres" ? values.map(String) : JSON.stringify(values);
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

export interface ChangeRow {
  seq: number | string;
  workspace_id: string;
  incident_id: string;
  event: Change["event"];
  at: string;
  incident: string | Incident;
  previous: string | Incident | null;
}

const json = <T>(value: string | T): T => (typeof value === "string" ? (JSON.parse(value) as T) : value);

export function rowToChange(row: ChangeRow): Change {
  return {
    seq: Number(row.seq),
    workspaceId: row.workspace_id,
    incidentId: row.incident_id,
    event: row.event,
    at: row.at,
    incident: json(row.incident),
    previous: row.previous === null ? null : json(row.previous),
  };
}

export function rowToDelivery(row: OutboxRow): DeliveryRecord {
  const claimed: ClaimedDelivery = {
    id: row.id,
    notifier: row.notifier,
    workspaceId: row.workspace_id,
    incidentId: row.incident_id,
    notification: json(row.notification),
    dueAt: row.due_at,
    digest: Number(row.digest) === 1,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
  };
  return { ...claimed, status: row.status, lastError: row.last_error, settledAt: row.settled_at };
}
