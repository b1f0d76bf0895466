import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createIncidents, type IncidentStore } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { operator, refund, scope, stripe } from "./stores.js";
import { written } from "agent-incidents/testing";

/** Turns a database back into what version 1 of the schema wrote (no kind key, one snapshot, no episodes). */
const downgrade = (t: string, stripEpisodes: string) => `
  DROP INDEX ${t}occurrences_idempotency_by_kind;
  ALTER TABLE ${t}occurrences DROP COLUMN kind;
  CREATE UNIQUE INDEX occurrences_idempotency ON ${t}occurrences (workspace_id, run_id, event_id) WHERE run_id IS NOT NULL AND event_id IS NOT NULL;
  CREATE TABLE ${t}snapshots (incident_id TEXT PRIMARY KEY REFERENCES ${t}incidents (id), data ${t ? "JSONB" : "TEXT"} NOT NULL);
  INSERT INTO ${t}snapshots (incident_id, data) SELECT incident_id, data FROM ${t}episode_snapshots WHERE episode = 1;
  DROP TABLE ${t}episode_snapshots;
  DELETE FROM ${t}schema_migrations WHERE version = 2;
  ${stripEpisodes};
`;

interface Target {
  name: string;
  open: () => IncidentStore;
  exec: (sql: string) => Promise<void>;
  t: string;
  strip: string;
}

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-upgrade-"));
const file = join(dir, "v1.db");
const targets: Target[] = [
  {
    name: "sqlite",
    open: () => sqliteStore({ filename: file }),
    exec: async (sql) => {
      const db = new Database(file);
      db.exec(sql);
      db.close();
    },
    t: "",
    strip: "UPDATE incidents SET data = json_remove(data, '$.episodes')",
  },
];
if (PG_URL) {
  const name = schemas("upgrade")();
  targets.push({
    name: "postgres",
    open: () => postgresStore({ connectionString: PG_URL!, schema: name }),
    exec: async (sql) => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(sql);
      await client.end();
    },
    t: `"${name}".`,
    strip: `UPDATE "${name}".incidents SET data = data - 'episodes'`,
  });
} else {
  reportSkipped("upgrading a version 1 PostgreSQL schema");
}

describe.each(targets)("a $name database written by schema version 1", { timeout: 60_000 }, (target) => {
  it("is migrated on open and keeps working: episodes, snapshot, idempotency", async () => {
    const before = createIncidents({ store: target.open() });
    const { incident } = written(await before.reporter(scope).executionFailed({ runId: "r", eventId: "e", action: refund, connector: stripe, error: { message: "x" }, context: { data: { step: 1 } } }));
    await before.as(operator).acknowledge(incident.id);
    await before.close();
    await target.exec(downgrade(target.t, target.strip));

    const after = createIncidents({ store: target.open() });
    const ops = after.as(operator);
    const detail = await ops.get(incident.id);
    expect(detail.episodes).toEqual([{ openedAt: incident.createdAt, acknowledgedAt: detail.acknowledgedAt, resolvedAt: null }]);
    expect((await ops.context(incident.id)).snapshot?.data).toEqual({ step: 1 });
    const report = after.reporter(scope);
    expect((written(await report.executionFailed({ runId: "r", eventId: "e", action: refund, connector: stripe, error: { message: "x" } }))).outcome).toBe("duplicate");
    expect((await ops.stats()).mtta.count).toBe(1);
    await after.close();
  });
});

/** Turns a SQLite database back into schema 5's tables: rowid tables, AUTOINCREMENT occurrences, a descending recency index. */
const toSchema5 = `
  CREATE TABLE a5 (id TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents (id), version INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE (incident_id, version));
  INSERT INTO a5 (id, incident_id, version, data) SELECT id, incident_id, version, data FROM activity;
  DROP TABLE activity; ALTER TABLE a5 RENAME TO activity;
  CREATE TABLE s5 (incident_id TEXT NOT NULL REFERENCES incidents (id), episode INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (incident_id, episode));
  INSERT INTO s5 SELECT incident_id, episode, data FROM episode_snapshots;
  DROP TABLE episode_snapshots; ALTER TABLE s5 RENAME TO episode_snapshots;
  CREATE TABLE o5 (seq INTEGER PRIMARY KEY AUTOINCREMENT, workspace_id TEXT NOT NULL, incident_id TEXT NOT NULL REFERENCES incidents (id), fingerprint TEXT NOT NULL, run_id TEXT, event_id TEXT, trace_id TEXT, at TEXT NOT NULL, kind TEXT NOT NULL DEFAULT '');
  INSERT INTO o5 SELECT seq, workspace_id, incident_id, fingerprint, run_id, event_id, trace_id, at, kind FROM occurrences;
  DROP TABLE occurrences; ALTER TABLE o5 RENAME TO occurrences;
  CREATE UNIQUE INDEX occurrences_idempotency_by_kind ON occurrences (workspace_id, kind, run_id, event_id) WHERE run_id IS NOT NULL AND event_id IS NOT NULL;
  CREATE INDEX occurrences_by_fingerprint ON occurrences (workspace_id, fingerprint, at);
  CREATE INDEX occurrences_by_incident ON occurrences (incident_id, at);
  CREATE TABLE c5 (workspace_id TEXT NOT NULL, agent_id TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (workspace_id, agent_id, severity, status));
  INSERT INTO c5 SELECT * FROM incident_counts; DROP TABLE incident_counts; ALTER TABLE c5 RENAME TO incident_counts;
  CREATE TABLE w5 (workspace_id TEXT PRIMARY KEY, last_number INTEGER NOT NULL);
  INSERT INTO w5 SELECT * FROM workspace_counters; DROP TABLE workspace_counters; ALTER TABLE w5 RENAME TO workspace_counters;
  DROP INDEX incidents_by_recency;
  CREATE INDEX incidents_by_recency ON incidents (workspace_id, last_seen_at DESC, number DESC);
  DELETE FROM schema_migrations WHERE version = 6;
  DROP TABLE changes; DROP TABLE notified; DROP TABLE notifier_heartbeats; DROP INDEX outbox_by_notifier;
  DELETE FROM schema_migrations WHERE version = 7;
`;

describe("a SQLite database written by schema version 5", () => {
  it("is rebuilt into schema 6's tables with every record, and keeps numbering, counts and idempotency", async () => {
    const file5 = join(dir, "v5.db");
    const before = createIncidents({ store: sqliteStore({ filename: file5 }) });
    const report = before.reporter(scope);
    const first = written(await report.executionFailed({ runId: "r", eventId: "e1", action: refund, connector: stripe, error: { message: "x" }, context: { data: { step: 1 } } }));
    written(await report.executionFailed({ runId: "r", eventId: "e2", action: refund, connector: stripe, error: { message: "x" } }));
    const other = written(await report.anomaly({ runId: "r", eventId: "e3", pattern: "loop" }));
    await before.as(operator).acknowledge(first.incident.id);
    const expected = await Promise.all([first.incident.id, other.incident.id].map((id) => before.as(operator).get(id)));
    const counts = await before.as(operator).counts();
    await before.close();
    const db = new Database(file5);
    db.exec(toSchema5);
    db.close();

    const after = createIncidents({ store: sqliteStore({ filename: file5 }) });
    const ops = after.as(operator);
    expect(await Promise.all(expected.map((i) => ops.get(i.id)))).toEqual(expected);
    expect(await ops.counts()).toEqual(counts);
    expect((await ops.context(first.incident.id)).snapshot?.data).toEqual({ step: 1 });
    const again = after.reporter(scope);
    expect((written(await again.executionFailed({ runId: "r", eventId: "e2", action: refund, connector: stripe, error: { message: "x" } }))).outcome).toBe("duplicate");
    const next = written(await again.anomaly({ runId: "r", eventId: "e4", pattern: "new" }));
    expect(next.incident.number).toBe(3);
    await after.close();
    const check = new Database(file5, { readonly: true });
    const without = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%' ORDER BY name").all();
    expect(without.map((r) => (r as { name: string }).name)).toEqual(["activity", "episode_snapshots", "incident_counts", "notified", "notifier_heartbeats", "workspace_counters"]);
    expect(check.prepare("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({ v: 8 });
    check.close();
  });

  it("is rebuilt with rows whose incident was deleted by hand, which it keeps as they were", async () => {
    const file5 = join(dir, "v5-orphan.db");
    const before = createIncidents({ store: sqliteStore({ filename: file5 }) });
    const kept = written(await before.reporter(scope).anomaly({ runId: "r", eventId: "e1", pattern: "kept" }));
    const gone = written(await before.reporter(scope).anomaly({ runId: "r", eventId: "e2", pattern: "gone" }));
    await before.close();
    const db = new Database(file5);
    db.exec(toSchema5);
    db.pragma("foreign_keys = OFF"); // as the sqlite3 shell has it
    db.prepare("DELETE FROM incidents WHERE id = ?").run(gone.incident.id);
    db.close();

    const connection = new Database(file5);
    const after = createIncidents({ store: sqliteStore({ database: connection }) });
    expect((await after.as(operator).get(kept.incident.id)).title).toBe(kept.incident.title);
    // foreign keys are back on for the store's own writes
    expect(connection.pragma("foreign_keys", { simple: true })).toBe(1);
    await after.close();
    connection.close();
    const check = new Database(file5, { readonly: true });
    const orphans = check.prepare("SELECT count(*) AS n FROM activity WHERE incident_id = ?").get(gone.incident.id);
    expect(orphans).toEqual({ n: 1 });
    expect(check.prepare("SELECT max(version) AS v FROM schema_migrations").get()).toEqual({ v: 8 });
    check.close();
  });
});
