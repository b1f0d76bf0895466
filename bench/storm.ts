/**
 * A failure storm: an LLM provider outage makes every one of 50 agents fail again and again, with
 * noise control grouping them (reports are what the library must keep up with; the group forms
 * later, when its window ends, off this path). Against, in the same run: the same number of
 * reports for distinct incidents, and the raw write floor the store's own section measures
 * (SQLite: one autocommit insert of the incident row; PostgreSQL: that INSERT from 8 clients).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { createIncidents, type IncidentStore, type Reporter } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { alternate, comparisons, log, results, throughput } from "./lib.js";
import { reporters, signal } from "./workload.js";

export const STORM_AGENTS = 50;
const IN_FLIGHT = 32;
const WORKSPACE = "ws_storm";
const NOISE = { groups: [{ name: "provider-outage", by: ["connector.id", "error.code"] as ["connector.id", "error.code"], windowMs: 60_000 }] };
const rate = (ops: number) => `${Math.round(ops).toLocaleString("en-US")}/s`;
const atLeast = (x: number) => (library: number, floor: number) => library >= x * floor;

/**
 * `n` reports, 32 in flight, agent after agent (report i is agent i % 50's): of one outage (one
 * incident per agent, every later report a recurrence), or each its own incident (`distinct`).
 */
async function storm(store: IncidentStore, n: number, distinct: boolean): Promise<number> {
  const incidents = createIncidents({ store, noise: NOISE });
  const agents: Reporter[] = Array.from({ length: STORM_AGENTS }, (_, a) => incidents.reporter({ workspaceId: WORKSPACE, agentId: `agt_${a}`, environment: "production" }));
  const ops = await throughput(
    n,
    (i) =>
      agents[i % STORM_AGENTS]!.executionFailed({
        runId: `run_${i}`,
        eventId: `evt_${i}`,
        action: { type: "llm.complete" },
        connector: { id: "con_openai", provider: "openai" },
        error: { name: "ProviderError", message: "429 Too Many Requests", code: distinct ? `rate_limited_${i}` : "rate_limited", retryable: true },
      }),
    IN_FLIGHT,
  );
  await incidents.close();
  return ops;
}

export async function stormBench(options: { n: number; rounds: number; dir: string; url?: string | undefined }): Promise<void> {
  const { n, rounds, dir } = options;
  // a floor's rate is the same over fewer writes: the section keeps to about a minute
  const floorN = Math.min(n, 500);
  let round = 0;

  log(`storm: sqlite, ${STORM_AGENTS} agents x ${n / STORM_AGENTS} failures, ${IN_FLIGHT} in flight x ${rounds} rounds`);
  const file = (tag: string) => {
    const name = join(dir, `storm-${tag}-${round++}.db`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(name + suffix, { force: true });
    return name;
  };
  const sqlite = await alternate(rounds, {
    storm: () => storm(sqliteStore({ filename: file("storm") }), n, false),
    distinct: () => storm(sqliteStore({ filename: file("distinct") }), n, true),
    // as in the sqlite section: the library's incident row, one durable autocommit insert after another
    floor: async () => {
      const name = file("floor");
      const incidents = createIncidents({ store: sqliteStore({ filename: name }) });
      await reporters(incidents)[0]!.policyBlocked(signal(0, "run_template"));
      await incidents.close();
      const db = new Database(name);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      const template = db.prepare("SELECT * FROM incidents").get() as Record<string, unknown>;
      const columns = Object.keys(template);
      const insert = db.prepare(`INSERT INTO incidents (${columns.join(", ")}) VALUES (${columns.map((k) => `@${k}`).join(", ")})`);
      const ops = await throughput(floorN, (i) => insert.run({ ...template, id: `inc_floor_${i}`, number: i + 2, fingerprint: `fp_${i}` }));
      db.close();
      return ops;
    },
  });
  results["storm.sqlite.ops"] = sqlite.storm;
  results["storm.sqlite.distinct.ops"] = sqlite.distinct;
  results["storm.sqlite.floor_autocommit.ops"] = sqlite.floor;
  log(`storm: sqlite ${rate(sqlite.storm)} grouped, ${rate(sqlite.distinct)} distinct, floor ${rate(sqlite.floor)}`);
  comparisons.push(
    {
      section: "storm",
      path: `sqlite: one outage, ${STORM_AGENTS} agents, ${IN_FLIGHT} in flight, grouped`,
      key: "storm.sqlite.ops",
      floorKey: "storm.sqlite.floor_autocommit.ops",
      floor: "raw autocommit insert of the incident row",
      better: "higher",
      target: ">= 1.5x",
      met: atLeast(1.5),
    },
  );

  const url = options.url;
  if (!url) {
    log("PG_URL is not set: skipping the PostgreSQL storm (set PG_URL=postgres://postgres@127.0.0.1:5432/test)");
    return;
  }
  log(`storm: postgres (pool of 8), ${STORM_AGENTS} agents x ${n / STORM_AGENTS} failures, ${IN_FLIGHT} in flight x ${rounds} rounds`);
  const prefix = `storm_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const schemas: string[] = [];
  const fresh = async () => {
    const schema = `${prefix}_${round++}`;
    schemas.push(schema);
    const store = postgresStore({ connectionString: url, schema, max: 8 });
    await store.migrate();
    return { schema, store };
  };
  try {
    const postgres = await alternate(rounds, {
      storm: async () => storm((await fresh()).store, n, false),
      distinct: async () => storm((await fresh()).store, n, true),
      // as in the postgres section: the library's incident row, INSERTed from 8 clients
      floor8: async () => {
        const { schema, store } = await fresh();
        const incidents = createIncidents({ store });
        await reporters(incidents)[0]!.policyBlocked(signal(0, "run_template"));
        await incidents.close();
        const template = (await admin.query(`SELECT * FROM "${schema}".incidents`)).rows[0] as Record<string, unknown>;
        const columns = Object.keys(template);
        const text = `INSERT INTO "${schema}".incidents (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`;
        const pool = new pg.Pool({ connectionString: url, max: 8 });
        const values = (i: number) => columns.map((c) => (c === "id" ? `inc_floor_${i}` : c === "number" ? i + 2 : c === "fingerprint" ? `fp_${i}` : template[c]));
        const ops = await throughput(floorN, (i) => pool.query(text, values(i)), 8);
        await pool.end();
        return ops;
      },
    });
    results["storm.postgres.ops"] = postgres.storm;
    results["storm.postgres.distinct.ops"] = postgres.distinct;
    results["storm.postgres.floor_insert_x8.ops"] = postgres.floor8;
    log(`storm: postgres ${rate(postgres.storm)} grouped, ${rate(postgres.distinct)} distinct, floor ${rate(postgres.floor8)}`);
    comparisons.push(
      {
        section: "storm",
        path: `postgres: one outage, ${STORM_AGENTS} agents, ${IN_FLIGHT} in flight, pool of 8, grouped`,
        key: "storm.postgres.ops",
        floorKey: "storm.postgres.floor_insert_x8.ops",
        floor: "the INSERT from 8 clients",
        better: "higher",
        target: ">= 1.0x",
        met: atLeast(1.0),
      },
    );
  } finally {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}
