import pg from "pg";
import { expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { describeStoreConformance, written } from "agent-incidents/testing";
import { PG_URL, reportSkipped, schemas } from "./pg-env.js";

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("conformance");
  describeStoreConformance("postgres", () => postgresStore({ connectionString: url, schema: schema() }), { concurrentReports: 60 });

  it("uses a pool it is given and leaves it open on close", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const incidents = createIncidents({ store: postgresStore({ pool, schema: schema() }) });
    const report = incidents.reporter({ workspaceId: "ws_pool", agentId: "agt", environment: "test" });
    expect((written(await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }))).outcome).toBe("created");
    await incidents.close();
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it("on a new schema, reports and recurrences find incidents through indexes, not by scanning the tables as they grow", async () => {
    // plans cached while the tables were empty once scanned every incident on each report
    const name = schema();
    const incidents = createIncidents({ store: postgresStore({ connectionString: url, schema: name, max: 2 }) });
    const report = incidents.reporter({ workspaceId: "ws_plans", agentId: "agt", environment: "test" });
    for (let i = 0; i < 300; i++) written(await report.anomaly({ runId: "r", eventId: `e${i}`, pattern: `p${i % 200}` }));
    await incidents.close(); // its connections end, and the server records their statistics
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let scans: Array<{ relname: string; seq_scan: string }> = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      await client.query("SELECT pg_stat_clear_snapshot()");
      scans = (await client.query(`SELECT relname, seq_scan FROM pg_stat_user_tables WHERE schemaname = $1 AND relname IN ('incidents', 'occurrences') ORDER BY relname`, [name])).rows;
      if (scans.length === 2 && (await client.query(`SELECT idx_scan FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'incidents'`, [name])).rows[0].idx_scan > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.end();
    // a handful from migrating and analyzing; one per report would be 300 or more
    expect(scans.map((r) => r.relname)).toEqual(["incidents", "occurrences"]);
    for (const row of scans) expect(Number(row.seq_scan)).toBeLessThan(30);
  });

  it("keeps reporting and reading after the connection's prepared statements are discarded", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const incidents = createIncidents({ store: postgresStore({ pool, schema: schema() }) });
    const report = incidents.reporter({ workspaceId: "ws_discard", agentId: "agt", environment: "test" });
    const blocked = async (run: string) => written(await report.policyBlocked({ runId: run, eventId: "e", action: { type: "refund" }, policy: { id: "pol", name: "Limit", effect: "block" } }));
    const { incident } = await blocked("r1");
    const ops = incidents.as({ id: "usr", role: "admin", workspaceId: "ws_discard" });
    await ops.get(incident.id);
    // what a host's connection reset, or a pooler handing out another server connection, does
    await pool.query("DISCARD ALL");
    expect((await blocked("r2")).outcome).toBe("recurred");
    await pool.query("DISCARD ALL");
    expect((await ops.get(incident.id)).occurrences).toBe(2);
    await incidents.close();
    await pool.end();
  });

  it("runs without prepared statements, for a pooler in transaction mode", async () => {
    const prepared = async (pool: pg.Pool) => (await pool.query("SELECT count(*)::int AS n FROM pg_prepared_statements")).rows[0].n as number;
    for (const preparedStatements of [true, false]) {
      // one connection: the store's statements and the count below share its session
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const incidents = createIncidents({ store: postgresStore({ pool, schema: schema(), preparedStatements }) });
      const report = incidents.reporter({ workspaceId: "ws_plain", agentId: "agt", environment: "test" });
      const { incident } = written(await report.anomaly({ runId: "r", eventId: "e1", pattern: "p" }));
      expect((written(await report.anomaly({ runId: "r", eventId: "e2", pattern: "p" }))).outcome).toBe("recurred");
      expect((await incidents.as({ id: "usr", role: "admin", workspaceId: "ws_plain" }).get(incident.id)).occurrenceLog).toHaveLength(2);
      expect(await prepared(pool)).toSatisfy((n: number) => (preparedStatements ? n > 0 : n === 0));
      await incidents.close();
      await pool.end();
    }
  });

  it("gives two schemas on one pool statement names of their own, even names chosen to collide", async () => {
    // these two schema names had the same 32-bit FNV-1a hash, which named the statements before
    const names = ["tenant_229599", "tenant_432382"];
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const drop = () => Promise.all(names.map((name) => pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)));
    await drop();
    const stores = names.map((name) => createIncidents({ store: postgresStore({ pool, schema: name }) }));
    for (const incidents of stores) {
      const report = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "test" });
      expect((written(await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }))).outcome).toBe("created");
    }
    for (const incidents of stores) await incidents.close();
    await drop();
    await pool.end();
  });

  it("migrates safely when several stores start on one schema at once", async () => {
    const name = schema();
    const stores = Array.from({ length: 6 }, () => postgresStore({ connectionString: url, schema: name, max: 1 }));
    await Promise.all(stores.map((s) => s.migrate()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const applied = await client.query(`SELECT version FROM "${name}".schema_migrations`);
    await client.end();
    expect(applied.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }, { version: 7 }, { version: 8 }]);
    expect(await stores[0]!.get("ws", "inc_none")).toBeNull();
    await Promise.all(stores.map((s) => s.close()));
  });
} else {
  reportSkipped("IncidentStore conformance: postgres");
}
