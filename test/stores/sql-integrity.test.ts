import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createIncidents, StorageError, type IncidentStore } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { createFixtures, written } from "agent-incidents/testing";
import { PG_URL, reportSkipped, schemas } from "./pg-env.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-integrity-"));
let n = 0;
const signals = createFixtures({ workspaceId: "ws_a" });

/** Reports one incident, lets `tamper` edit its row by hand, and returns what reading it does. */
async function tampered(store: IncidentStore, tamper: (id: string) => Promise<void>) {
  const incidents = createIncidents({ store });
  const ops = incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_a" });
  const { incident } = written(await incidents.report(signals.anomaly()));
  await tamper(incident.id);
  return { incidents, ops, id: incident.id };
}

describe("sqlite: bad data at the boundary", () => {
  const fresh = () => join(dir, `integrity-${++n}.db`);

  it("reports a row edited into an invalid state as a StorageError naming it, and writes nothing", async () => {
    const file = fresh();
    const { incidents, ops, id } = await tampered(sqliteStore({ filename: file }), async (id) => {
      const db = new Database(file);
      db.prepare("UPDATE incidents SET data = json_set(data, '$.occurrences', -3) WHERE id = ?").run(id);
      db.close();
    });
    const error = await ops.get(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toMatch(new RegExp(`incident ${id} is in an invalid state \\(occurrences: .*\\)`));
    await expect(ops.acknowledge(id)).rejects.toBeInstanceOf(StorageError);
    const db = new Database(file);
    expect(db.prepare("SELECT count(*) AS n FROM activity WHERE incident_id = ?").get(id)).toEqual({ n: 1 });
    expect(db.prepare("SELECT status, version FROM incidents WHERE id = ?").get(id)).toEqual({ status: "open", version: 1 });
    db.close();
    await incidents.close();
  });

  it("reports a corrupt JSON document", async () => {
    const file = fresh();
    const { incidents, ops, id } = await tampered(sqliteStore({ filename: file }), async (id) => {
      const db = new Database(file);
      db.prepare("UPDATE incidents SET data = 'not json' WHERE id = ?").run(id);
      db.close();
    });
    await expect(ops.list()).rejects.toThrow(/corrupt: its data column is not a JSON object/);
    await expect(ops.get(id)).rejects.toThrow(new RegExp(`incident ${id} is corrupt`));
    await incidents.close();
  });

  it("checks rows written by anything but the library: a hand edit that leaves the seal, an insert without one", async () => {
    const file = fresh();
    const { incidents, ops, id } = await tampered(sqliteStore({ filename: file }), async (id) => {
      const db = new Database(file);
      // a valid hand edit: read as it is, and sealed again by the library's next write
      db.prepare("UPDATE incidents SET data = json_set(data, '$.title', 'Edited by hand') WHERE id = ?").run(id);
      expect(db.prepare("SELECT seal FROM incidents WHERE id = ?").get(id)).toEqual({ seal: null });
      // a copy inserted by hand, in an invalid state, with the original's seal left out
      const columns = "workspace_id, agent_id, run_id, kind, severity, severity_rank, status, fingerprint, last_seen_at, created_at, resolved_at, version";
      db.prepare(
        `INSERT INTO incidents (id, number, data, ${columns}) SELECT 'inc_by_hand', number + 100, json_set(data, '$.occurrences', 'many'), ${columns} FROM incidents WHERE id = ?`,
      ).run(id);
      db.close();
    });
    expect((await ops.get(id)).title).toBe("Edited by hand");
    await expect(ops.get("inc_by_hand")).rejects.toThrow(/incident inc_by_hand is in an invalid state \(occurrences: /);
    await ops.acknowledge(id);
    const db = new Database(file);
    expect((db.prepare("SELECT seal FROM incidents WHERE id = ?").get(id) as { seal: number | null }).seal).toEqual(expect.any(Number));
    db.close();
    expect(await ops.get(id)).toMatchObject({ title: "Edited by hand", status: "acknowledged" });
    await incidents.close();
  });

  it("reads rows written before noise control, sealed or checked, as in no group and quiet for no reason", async () => {
    const file = fresh();
    const { incidents, ops, id } = await tampered(sqliteStore({ filename: file }), async (id) => {
      const db = new Database(file);
      // as an older version wrote it: no group or noise fields; one sealed (read as written), one not (checked)
      db.prepare("UPDATE incidents SET data = json_remove(data, '$.groupId', '$.groupKey', '$.group', '$.noise'), seal = 42 WHERE id = ?").run(id);
      const columns = "workspace_id, agent_id, run_id, kind, severity, severity_rank, status, fingerprint, last_seen_at, created_at, resolved_at, version, data";
      db.prepare(`INSERT INTO incidents (id, number, ${columns}) SELECT 'inc_old', number + 1, ${columns} FROM incidents WHERE id = ?`).run(id);
      db.close();
    });
    const quiet = { groupId: null, groupKey: null, group: null, noise: { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] } };
    expect(await ops.get(id)).toMatchObject(quiet);
    expect(await ops.get("inc_old")).toMatchObject(quiet);
    expect((await ops.list()).items.map((i) => i.id).sort()).toEqual([id, "inc_old"].sort());
    await ops.acknowledge(id);
    expect(await ops.get(id)).toMatchObject({ ...quiet, status: "acknowledged" });
    await incidents.close();
  });

  it("fails a migration with a StorageError naming it, leaving the file unmigrated", () => {
    const file = fresh();
    const db = new Database(file);
    db.exec("CREATE TABLE activity (something_else TEXT)");
    db.close();
    expect(() => sqliteStore({ filename: file })).toThrow(StorageError);
    expect(() => sqliteStore({ filename: file })).toThrow(/migration 1 \(create incidents.*\) failed: table activity already exists/);
    const after = new Database(file);
    const tables = (after.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(["activity", "schema_migrations"]);
    expect(after.prepare("SELECT count(*) AS n FROM schema_migrations").get()).toEqual({ n: 0 });
    after.close();
  });

  it("refuses a database migrated by a newer version", () => {
    const file = fresh();
    sqliteStore({ filename: file }).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 'x')").run();
    db.close();
    expect(() => sqliteStore({ filename: file })).toThrow(/schema version 99, newer than this library knows \(8\)/);
  });

  it("wraps a driver error in a StorageError with the cause", async () => {
    const db = new Database(":memory:");
    const store = sqliteStore({ database: db });
    db.close();
    const error = await store.get("ws_a", "inc_x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ adapter: "sqlite", code: "STORAGE" });
    expect((error as StorageError).cause).toBeInstanceOf(TypeError);
  });
});

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("integrity");
  const admin = async <T>(body: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await body(client);
    } finally {
      await client.end();
    }
  };

  describe("postgres: bad data at the boundary", () => {
    it("reports a row edited into an invalid state as a StorageError naming it, and writes nothing", async () => {
      const name = schema();
      const { incidents, ops, id } = await tampered(postgresStore({ connectionString: url, schema: name }), (id) =>
        admin(async (c) => void (await c.query(`UPDATE "${name}".incidents SET data = jsonb_set(data, '{severityReason}', '"oops"') WHERE id = $1`, [id]))),
      );
      await expect(ops.get(id)).rejects.toThrow(new RegExp(`incident ${id} is in an invalid state \\(severityReason: `));
      await expect(ops.resolve(id, { note: "x", rootCause: "other" })).rejects.toBeInstanceOf(StorageError);
      const rows = await admin((c) => c.query(`SELECT status, version FROM "${name}".incidents WHERE id = $1`, [id]));
      expect(rows.rows).toEqual([{ status: "open", version: 1 }]);
      await incidents.close();
    });

    it("checks a row whose seal a hand edit left alone, and seals it again on the library's next write", async () => {
      const name = schema();
      const { incidents, ops, id } = await tampered(postgresStore({ connectionString: url, schema: name }), (id) =>
        admin(async (c) => void (await c.query(`UPDATE "${name}".incidents SET data = jsonb_set(data, '{occurrences}', '"many"') WHERE id = $1`, [id]))),
      );
      const seal = async () => (await admin((c) => c.query(`SELECT seal FROM "${name}".incidents WHERE id = $1`, [id]))).rows[0].seal;
      expect(await seal()).toBeNull();
      await expect(ops.get(id)).rejects.toThrow(new RegExp(`incident ${id} is in an invalid state \\(occurrences: `));
      await admin(async (c) => void (await c.query(`UPDATE "${name}".incidents SET data = jsonb_set(data, '{occurrences}', '1') WHERE id = $1`, [id])));
      await ops.acknowledge(id);
      expect(await seal()).not.toBeNull();
      expect(await ops.get(id)).toMatchObject({ status: "acknowledged", occurrences: 1 });
      await incidents.close();
    });

    it("reads a row written before noise control as in no group and quiet for no reason", async () => {
      const name = schema();
      const { incidents, ops, id } = await tampered(postgresStore({ connectionString: url, schema: name }), (id) =>
        admin(async (c) => void (await c.query(`UPDATE "${name}".incidents SET data = data - 'groupId' - 'groupKey' - 'group' - 'noise', seal = 42 WHERE id = $1`, [id]))),
      );
      const quiet = { groupId: null, groupKey: null, group: null, noise: { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] } };
      expect(await ops.get(id)).toMatchObject(quiet);
      expect((await ops.list()).items.map((i) => i.id)).toEqual([id]);
      await ops.acknowledge(id);
      expect(await ops.get(id)).toMatchObject({ ...quiet, status: "acknowledged" });
      await incidents.close();
    });

    it("fails a migration with a StorageError naming it, and rolls it back", async () => {
      const name = schema();
      await admin(async (c) => {
        await c.query(`CREATE SCHEMA "${name}"`);
        await c.query(`CREATE TABLE "${name}".snapshots (something_else TEXT)`);
      });
      const store = postgresStore({ connectionString: url, schema: name });
      await expect(store.migrate()).rejects.toThrow(/migration 1 \(create incidents.*\) failed: relation "snapshots" already exists/);
      await expect(store.get("ws_a", "inc_x")).rejects.toBeInstanceOf(StorageError);
      const tables = await admin((c) => c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [name]));
      expect(tables.rows.map((r) => r.table_name)).toEqual(["snapshots"]);
      await store.close();
    });

    it("wraps an unreachable server in a StorageError with the cause", async () => {
      const store = postgresStore({ connectionString: "postgres://postgres@127.0.0.1:1/none", schema: schema() });
      const error = await store.get("ws_a", "inc_x").catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "StorageError", adapter: "postgres", code: "STORAGE" });
      expect((error as StorageError).cause).toBeInstanceOf(Error);
      await store.close();
    });
  });
} else {
  reportSkipped("postgres: bad data at the boundary");
}
