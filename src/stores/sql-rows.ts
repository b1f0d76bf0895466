import type { z } from "zod";
import { CallbackError, StorageError } from "../core/errors.js";
import {
  ActivitySchema,
  IncidentSchema,
  OccurrenceSchema,
  SnapshotSchema,
  type Activity,
  type Counts,
  type Incident,
  type Occurrence,
  type Snapshot,
} from "../core/incident.js";
import type { ListQuery } from "../core/query.js";
import { severityRank } from "../core/schemas.js";

/** The columns an incident row keeps outside its JSON document, for indexes and filters. */
export interface IncidentRow {
  id: string;
  workspace_id: string;
  number: number;
  agent_id: string | null;
  run_id: string | null;
  kind: string;
  severity: string;
  severity_rank: number;
  status: string;
  fingerprint: string;
  last_seen_at: string;
  created_at: string;
  resolved_at: string | null;
  version: number;
  /** The group incident this one is a member of (also in the JSON document); missing before schema 8. */
  group_id?: string | null;
  /** The grouping rule and key (also in the JSON document); missing before schema 8. */
  group_key?: string | null;
  /** JSON of the remaining fields. */
  data: string | Record<string, unknown>;
  /**
   * Set by every write of the library, cleared by a trigger when anything else changes the row:
   * a sealed row is read as written, an unsealed one is checked against the schema.
   */
  seal: number | string | null;
}

/** A fresh seal for a row the library writes (53 random bits: a hand edit cannot keep one by chance). */
export function newSeal(): number {
  return Math.floor(Math.random() * 2 ** 53) + 1;
}

export function incidentToRow(incident: Incident): IncidentRow {
  const { id, workspaceId, number, agentId, runId, kind, severity, status, fingerprint, lastSeenAt, createdAt, resolvedAt, version, ...rest } = incident;
  return {
    id,
    workspace_id: workspaceId,
    number,
    agent_id: agentId,
    run_id: runId,
    kind,
    severity,
    severity_rank: severityRank(severity),
    status,
    fingerprint,
    last_seen_at: lastSeenAt,
    created_at: createdAt,
    resolved_at: resolvedAt,
    version,
    group_id: incident.groupId,
    group_key: incident.groupKey,
    data: JSON.stringify(rest),
    seal: newSeal(),
  };
}

/**
 * Rebuilds an incident from its row, the columns winning over the JSON document. A row the
 * library wrote (sealed) is taken as written; any other row is checked against the schema, so a
 * row edited by hand into an invalid state is a `StorageError` naming it.
 */
export function rowToIncident(row: IncidentRow, adapter: string): Incident {
  const d = parseDocument(row.data, adapter, `incident ${row.id}`);
  // one object literal in the schema's field order: V8 gives it a fixed shape, where a spread and
  // keyed assignments made a slow dictionary object of every row
  const value = {
    id: row.id,
    number: Number(row.number),
    workspaceId: row.workspace_id,
    agentId: row.agent_id,
    runId: row.run_id,
    eventId: d["eventId"],
    traceId: d["traceId"],
    spanId: d["spanId"],
    environment: d["environment"],
    kind: row.kind,
    trigger: d["trigger"],
    title: d["title"],
    summary: d["summary"],
    severity: row.severity,
    severityReason: d["severityReason"],
    severityPinned: d["severityPinned"],
    status: row.status,
    fingerprint: row.fingerprint,
    occurrences: d["occurrences"],
    firstSeenAt: d["firstSeenAt"],
    lastSeenAt: row.last_seen_at,
    assignee: d["assignee"],
    resolution: d["resolution"],
    createdAt: row.created_at,
    updatedAt: d["updatedAt"],
    acknowledgedAt: d["acknowledgedAt"],
    resolvedAt: row.resolved_at,
    version: Number(row.version),
    tags: d["tags"],
    // written before episodes were recorded: the incident's own times are its one episode
    episodes: Array.isArray(d["episodes"]) ? d["episodes"] : [{ openedAt: row.created_at, acknowledgedAt: d["acknowledgedAt"] ?? null, resolvedAt: row.resolved_at ?? null }],
    // written before noise control: in no group, quiet for no reason
    groupId: row.group_id ?? null,
    groupKey: row.group_key ?? null,
    group: d["group"] ?? null,
    noise: d["noise"] ?? { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] },
  };
  return row.seal !== null && row.seal !== undefined ? (value as Incident) : checked(IncidentSchema, value, adapter, `incident ${row.id}`);
}

export function rowToActivity(data: string | Record<string, unknown>, adapter: string): Activity {
  return checked(ActivitySchema, parseDocument(data, adapter, "activity entry"), adapter, "activity entry");
}

export function rowToSnapshot(data: string | Record<string, unknown>, adapter: string, id: string): Snapshot {
  return checked(SnapshotSchema, parseDocument(data, adapter, `snapshot of ${id}`), adapter, `snapshot of ${id}`);
}

export interface OccurrenceRow {
  incident_id: string;
  run_id: string | null;
  event_id: string | null;
  trace_id: string | null;
  at: string;
}

export function rowToOccurrence(row: OccurrenceRow, adapter: string): Occurrence {
  return checked(
    OccurrenceSchema,
    { incidentId: row.incident_id, runId: row.run_id, eventId: row.event_id, traceId: row.trace_id, at: row.at },
    adapter,
    `occurrence of ${row.incident_id}`,
  );
}

/** Folds `severity, status, n` rows into partial counts. */
export function foldCounts(rows: ReadonlyArray<{ severity: string; status: string; n: number | string }>): Partial<Counts> {
  const counts: Record<string, Record<string, number>> = {};
  for (const row of rows) {
    const cell = (counts[row.severity] ??= {});
    cell[row.status] = (cell[row.status] ?? 0) + Number(row.n);
  }
  return counts as Partial<Counts>;
}

/** A count-table change: which cells an incident leaves and enters. */
export function countDeltas(before: Incident | null, after: Incident): Array<{ agentId: string; severity: string; status: string; delta: number }> {
  const cell = (i: Incident) => ({ agentId: i.agentId ?? "", severity: i.severity, status: i.status });
  if (before && before.severity === after.severity && before.status === after.status) return [];
  const deltas = [...(before ? [{ ...cell(before), delta: -1 }] : []), { ...cell(after), delta: 1 }];
  // a fixed order of row locks, so two transactions moving incidents between the same cells cannot deadlock
  const key = (d: (typeof deltas)[number]) => `${d.agentId}\u0000${d.severity}\u0000${d.status}`;
  return deltas.sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/**
 * The WHERE clause and parameters of a list query. `p(n)` renders the n-th placeholder (1-based),
 * `?` for SQLite and `$n` for PostgreSQL.
 */
export function listClause(workspaceId: string, query: ListQuery, p: (n: number) => string): { sql: string; params: unknown[] } {
  const params: unknown[] = [workspaceId];
  const where = [`workspace_id = ${p(1)}`];
  const inList = (column: string, values: readonly unknown[] | undefined) => {
    if (!values) return;
    const marks = values.map((v) => (params.push(v), p(params.length)));
    where.push(`${column} IN (${marks.join(", ")})`);
  };
  inList("severity", query.severity);
  inList("status", query.status);
  inList("kind", query.kind);
  inList("agent_id", query.agentId);
  if (query.runId !== undefined) inList("run_id", [query.runId]);
  // members of groups are left out unless asked for: the partial index of the default query covers the rest
  if (query.groupId !== undefined) inList("group_id", [query.groupId]);
  else if (query.members !== true) where.push("group_id IS NULL");
  if (query.groupKey !== undefined) inList("group_key", [query.groupKey]);
  if (query.after) {
    // a row-value comparison: each index is in one direction on these columns (read backwards
    // when ascending), so this is a range seek
    const a = query.after;
    const key = query.sort === "severity" ? [a.rank, a.lastSeenAt, a.number] : [a.lastSeenAt, a.number];
    const marks = key.map((v) => (params.push(v), p(params.length)));
    where.push(`(${query.sort === "severity" ? "severity_rank, last_seen_at, number" : "last_seen_at, number"}) < (${marks.join(", ")})`);
  }
  const order = query.sort === "severity" ? "severity_rank DESC, last_seen_at DESC, number DESC" : "last_seen_at DESC, number DESC";
  params.push(query.limit + 1);
  return { sql: `WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ${p(params.length)}`, params };
}

function parseDocument(data: string | Record<string, unknown>, adapter: string, what: string): Record<string, unknown> {
  if (typeof data !== "string") return data;
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed === "object" && parsed !== null) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new StorageError(adapter, `${what} is corrupt: its data column is not a JSON object`);
}

function checked<S extends z.ZodType>(schema: S, value: unknown, adapter: string, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(row)"}: ${i.message}`).join("; ");
  throw new StorageError(adapter, `${what} is in an invalid state (${problems}); was it edited by hand?`);
}

/**
 * A primary-key clash on an incident or activity id means the host's `ids()` repeated itself:
 * that is the host's callback failing, not the database.
 */
export function duplicateIdError(error: unknown): CallbackError | null {
  const { code, message, constraint } = (error ?? {}) as { code?: unknown; message?: unknown; constraint?: unknown };
  // activity.id is a UNIQUE column of a table keyed by (incident_id, version) since schema 6
  const sqlite =
    (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") && typeof message === "string" && /\b(incidents|activity|silences)\.id\b/.test(message);
  const postgres = code === "23505" && (constraint === "incidents_pkey" || constraint === "activity_pkey" || constraint === "silences_pkey");
  if (!sqlite && !postgres) return null;
  return new CallbackError("ids", "ids() returned an id that is already taken: ids must be unique", { cause: error });
}
