/**
 * PG_URL=... npm run bench:pg-breakdown [-- --n 500]
 *
 * Where a PostgreSQL report's time goes: the store runs on a pool whose clients time every
 * statement they send, and the table shows each statement's mean round trip (server work
 * included) beside the whole report, one report at a time on a fresh schema.
 */
import pg from "pg";
import { createIncidents } from "agent-incidents";
import { postgresStore, type PgPool } from "agent-incidents/postgres";
import { reporters, signal } from "./workload.js";

const url = process.env["PG_URL"];
if (!url) {
  console.log("PG_URL is not set: nothing to measure (set PG_URL=postgres://postgres@127.0.0.1:5432/test)");
  process.exit(0);
}
const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--n") + 1] ?? "") || 500;

const real = new pg.Pool({ connectionString: url, max: 2 });
const times = new Map<string, number[]>();
const timed = new WeakSet<object>();
const pool: PgPool = {
  query: real.query.bind(real) as unknown as PgPool["query"],
  end: () => real.end(),
  async connect() {
    const client = await real.connect();
    if (!timed.has(client)) {
      timed.add(client);
      const query = client.query.bind(client) as (text: string, params?: unknown[], callback?: unknown) => Promise<pg.QueryResult>;
      // pg.Pool's own query() hands the client a callback: those calls pass through untimed
      (client as unknown as { query: typeof query }).query = async (textOrConfig, params, callback) => {
        if (callback !== undefined) return query(textOrConfig, params, callback);
        const start = performance.now();
        try {
          return await query(textOrConfig, params);
        } finally {
          // a named statement comes as { name, text, values }
          const text = typeof textOrConfig === "string" ? textOrConfig : (textOrConfig as { text: string }).text;
          const key = text.replace(/\s+/g, " ").replace(/"bench_breakdown_\w+"\./g, "").slice(0, 48);
          (times.get(key) ?? times.set(key, []).get(key)!).push(performance.now() - start);
        }
      };
    }
    return client;
  },
};
const schema = `bench_breakdown_${Date.now().toString(36)}`;
const store = postgresStore({ pool, schema });
await store.migrate();
const incidents = createIncidents({ store });
const [report] = reporters(incidents);
for (let i = 0; i < 200; i++) await report!.policyBlocked(signal(i, "run_warm"));
times.clear();
const start = performance.now();
for (let i = 0; i < N; i++) await report!.policyBlocked(signal(1000 + i, "run_a"));
const total = (performance.now() - start) / N;
await incidents.close();
await real.query(`DROP SCHEMA "${schema}" CASCADE`);
await real.end();

let statements = 0;
console.log(`PostgreSQL report, one at a time: ${total.toFixed(3)} ms each (${N} new incidents)\n`);
console.log("| statement | calls per report | mean round trip (ms) |");
console.log("|---|---|---|");
for (const [key, values] of times) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  statements += mean * (values.length / N);
  console.log(`| \`${key}…\` | ${(values.length / N).toFixed(2)} | ${mean.toFixed(3)} |`);
}
console.log(`| everything else (the engine in JS, the driver) | | ${(total - statements).toFixed(3)} |`);
