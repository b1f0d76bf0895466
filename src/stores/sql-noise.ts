/**
 * The durable timer and silence statements both SQL stores share, and their rows. A timer is a
 * row that whichever process delivers claims with a lease once due, fires, and deletes; a silence
 * is a JSON document with its times as columns, so the ones in force are found by a range read.
 */
import type { Silence, Timer } from "../core/noise.js";
import type { Dialect } from "./sql-migrations.js";

/**
 * The statements of one dialect; `t` prefixes tables. Parameter n is `$n` in PostgreSQL and
 * `@pn` in SQLite (pass `named(params)`).
 */
export function noiseSql(dialect: Dialect, t: string) {
  const pg = dialect === "postgres";
  const p = (n: number) => (pg ? `$${n}` : `@p${n}`);
  /** An optional text parameter: null matches everything. */
  const optional = (column: string, n: number) => `(CAST(${p(n)} AS TEXT) IS NULL OR ${column} = CAST(${p(n)} AS TEXT))`;
  // due, and never leased or its lease ran out (a lease is held up to and including lease_until)
  const claimable = `due_at <= ${p(1)} AND (lease_until IS NULL OR lease_until < ${p(1)})`;
  // a row's five parameters (see timerParams) start at 5 * row + 1; ids must differ (lastOfEachId)
  function scheduleRows(rows: number): string {
    const values = Array.from({ length: rows }, (_, r) => `(${[1, 2, 3, 4, 5].map((k) => p(r * 5 + k)).join(", ")}, NULL, NULL)`);
    return `INSERT INTO ${t}timers (id, workspace_id, kind, subject, due_at, worker, lease_until) VALUES ${values.join(", ")}
      ON CONFLICT (id) DO UPDATE SET workspace_id = excluded.workspace_id, kind = excluded.kind, subject = excluded.subject,
        due_at = excluded.due_at, worker = NULL, lease_until = NULL`;
  }
  return {
    /** 1 id, 2 workspace, 3 kind, 4 subject, 5 due at: a timer scheduled again moves, unclaimed. */
    schedule: scheduleRows(1),
    /** `rows` timers in one statement; parameters are `timerParams` of each, one after another. */
    scheduleRows,
    /** 1 now: whether a claim could find anything, read without a write lock first. */
    anyDue: `SELECT 1 AS any FROM ${t}timers WHERE ${claimable} LIMIT 1`,
    /**
     * 1 now, 2 worker, 3 lease end, 4 limit. PostgreSQL claims in this one statement (rows another
     * claim has locked are skipped, and a row's lease is checked again once its lock is had);
     * SQLite selects here and runs `claimUpdate` per row in the same immediate transaction.
     */
    claim: pg
      ? `WITH picked AS (SELECT id FROM ${t}timers WHERE ${claimable} ORDER BY due_at, id LIMIT ${p(4)} FOR UPDATE SKIP LOCKED)
          UPDATE ${t}timers SET worker = ${p(2)}, lease_until = ${p(3)} FROM picked WHERE ${t}timers.id = picked.id RETURNING ${t}timers.*`
      : `SELECT * FROM ${t}timers WHERE ${claimable} ORDER BY due_at, id LIMIT ${p(4)}`,
    /** SQLite: 1 worker, 2 lease end, 3 id. */
    claimUpdate: `UPDATE ${t}timers SET worker = ${p(1)}, lease_until = ${p(2)} WHERE id = ${p(3)}`,
    /** 1 id, 2 worker, 3 due at: only while the worker holds it as it was claimed. */
    done: `DELETE FROM ${t}timers WHERE id = ${p(1)} AND worker = ${p(2)} AND due_at = ${p(3)}`,
    /** 1 id. */
    cancel: `DELETE FROM ${t}timers WHERE id = ${p(1)}`,
    /** 1 workspace or null, 2 limit. */
    listTimers: `SELECT * FROM ${t}timers WHERE ${optional("workspace_id", 1)} ORDER BY due_at, id LIMIT ${p(2)}`,

    /** Parameters: `silenceParams`. */
    createSilence: `INSERT INTO ${t}silences (id, workspace_id, created_at, starts_at, ends_at, expired_at, data)
      VALUES (${[1, 2, 3, 4, 5, 6].map(p).join(", ")}, ${pg ? `CAST(${p(7)} AS jsonb)` : p(7)})`,
    /** 1 workspace, 2 id. */
    getSilence: `SELECT * FROM ${t}silences WHERE workspace_id = ${p(1)} AND id = ${p(2)}`,
    /** 1 workspace or null, 2 active at or null, 3 limit. */
    listSilences: `SELECT * FROM ${t}silences WHERE ${optional("workspace_id", 1)}
      AND (CAST(${p(2)} AS TEXT) IS NULL OR (starts_at <= CAST(${p(2)} AS TEXT) AND (ends_at IS NULL OR ends_at > CAST(${p(2)} AS TEXT))
        AND (expired_at IS NULL OR expired_at > CAST(${p(2)} AS TEXT))))
      ORDER BY created_at DESC, id DESC LIMIT ${p(3)}`,
    /** 1 workspace, 2 id, 3 at, 4 by (JSON): the first expiry wins, a later one changes nothing. */
    expireSilence: pg
      ? `UPDATE ${t}silences SET expired_at = CAST(${p(3)} AS TEXT),
          data = jsonb_set(jsonb_set(data, '{expiredAt}', to_jsonb(CAST(${p(3)} AS TEXT))), '{expiredBy}', CAST(${p(4)} AS jsonb))
        WHERE workspace_id = ${p(1)} AND id = ${p(2)} AND expired_at IS NULL`
      : `UPDATE ${t}silences SET expired_at = ${p(3)}, data = json_set(data, '$.expiredAt', ${p(3)}, '$.expiredBy', json(${p(4)}))
        WHERE workspace_id = ${p(1)} AND id = ${p(2)} AND expired_at IS NULL`,
  };
}

/** The parameters of `schedule` for one timer. */
export function timerParams(timer: Timer): unknown[] {
  return [timer.id, timer.workspaceId, timer.kind, timer.subject, timer.dueAt];
}

/**
 * The timers to write, the last one of each id kept: PostgreSQL refuses to upsert one row twice
 * in a statement, and a later timer replaces an earlier one anyway.
 */
export function lastOfEachId(timers: readonly Timer[]): Timer[] {
  return [...new Map(timers.map((timer) => [timer.id, timer])).values()];
}

/** The parameters of `createSilence`. */
export function silenceParams(silence: Silence): unknown[] {
  return [silence.id, silence.workspaceId, silence.createdAt, silence.startsAt, silence.endsAt, silence.expiredAt, JSON.stringify(silence)];
}

/** A `timers` row. */
export interface TimerRow {
  id: string;
  workspace_id: string;
  kind: string;
  subject: string;
  due_at: string;
  worker: string | null;
  lease_until: string | null;
}

/** A `silences` row. */
export interface SilenceRow {
  id: string;
  workspace_id: string;
  created_at: string;
  starts_at: string;
  ends_at: string | null;
  expired_at: string | null;
  data: string | Record<string, unknown>;
}

/** A timer as the contract gives it: without its lease. */
export function rowToTimer(row: TimerRow): Timer {
  return { id: row.id, workspaceId: row.workspace_id, kind: row.kind as Timer["kind"], subject: row.subject, dueAt: row.due_at };
}

/** A silence from its row, the columns winning over the document; in the interface's field order. */
export function rowToSilence(row: SilenceRow): Silence {
  const d = (typeof row.data === "string" ? JSON.parse(row.data) : row.data) as Record<string, unknown>;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    match: d["match"] as Silence["match"],
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    untilResolved: (d["untilResolved"] ?? null) as string | null,
    comment: d["comment"] as string,
    createdBy: d["createdBy"] as Silence["createdBy"],
    createdAt: row.created_at,
    expiredAt: row.expired_at,
    expiredBy: (d["expiredBy"] ?? null) as Silence["expiredBy"],
  };
}
