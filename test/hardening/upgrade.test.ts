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
    const { incident } = await before.reporter(scope).executionFailed({ runId: "r", eventId: "e", action: refund, connector: stripe, error: { message: "x" }, context: { data: { step: 1 } } });
    await before.as(operator).acknowledge(incident.id);
    await before.close();
    await target.exec(downgrade(target.t, target.strip));

    const after = createIncidents({ store: target.open() });
    const ops = after.as(operator);
    const detail = await ops.get(incident.id);
    expect(detail.episodes).toEqual([{ openedAt: incident.createdAt, acknowledgedAt: detail.acknowledgedAt, resolvedAt: null }]);
    expect((await ops.context(incident.id)).snapshot?.data).toEqual({ step: 1 });
    const report = after.reporter(scope);
    expect((await report.executionFailed({ runId: "r", eventId: "e", action: refund, connector: stripe, error: { message: "x" } })).outcome).toBe("duplicate");
    expect((await ops.stats()).mtta.count).toBe(1);
    await after.close();
  });
});
