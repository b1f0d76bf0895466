/**
 * npm run bench [-- --n 5000]
 *
 * Insert and query figures per store: reports that create incidents, reports that recur into
 * them, and the console's reads (default list, counts, get). PostgreSQL runs when PG_URL is set.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { createIncidents, memoryStore, type IncidentStore } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";

const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--n") + 1] ?? "") || 5000;
const READS = 1000;
const PG_URL = process.env["PG_URL"];

interface Row {
  store: string;
  op: string;
  n: number;
  perSec: number;
  p50: number;
  p95: number;
}

const rows: Row[] = [];

async function measure(store: string, op: string, n: number, one: (i: number) => Promise<unknown>, concurrency = 1): Promise<void> {
  const times: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await one(i);
        times.push(performance.now() - t);
      }
    }),
  );
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  rows.push({ store, op, n, perSec: (n / total) * 1000, p50: times[Math.floor(n * 0.5)]!, p95: times[Math.floor(n * 0.95)]! });
}

async function bench(name: string, store: IncidentStore, concurrency: number): Promise<void> {
  const incidents = createIncidents({ store });
  const report = incidents.reporter({ workspaceId: "ws_bench", agentId: "agt_bench", environment: "production" });
  const ops = incidents.as({ id: "usr_bench", role: "operator", workspaceId: "ws_bench" });
  const signal = (i: number, run: string) => ({
    runId: run,
    eventId: `evt_${i}`,
    action: { type: "refund.create", payload: { amount: 100 + (i % 900), customer: `cus_${i}` } },
    policy: { id: `pol_${i}`, name: `Policy ${i}`, effect: "block" as const },
    impact: (["low", "medium", "high", "critical"] as const)[i % 4],
  });
  const ids: string[] = [];
  await measure(name, "report: new incident", N, async (i) => ids.push((await report.policyBlocked(signal(i, "run_a"))).incident.id), concurrency);
  await measure(name, "report: recurrence", N, (i) => report.policyBlocked(signal(i, "run_b")), concurrency);
  for (let i = 0; i < N; i += 3) await ops.acknowledge(ids[i]!);
  for (let i = 0; i < N; i += 5) await ops.resolve(ids[i]!, { note: "bench", rootCause: "other" }).catch(() => undefined);
  await measure(name, "list: open, by severity (50)", READS, () => ops.list({ status: "open" }));
  await measure(name, "list: all, page 5 by cursor", READS / 10, async () => {
    let page = await ops.list();
    for (let p = 1; p < 5 && page.nextCursor; p++) page = await ops.list({ cursor: page.nextCursor });
  });
  await measure(name, "counts", READS, () => ops.counts());
  await measure(name, "get (with activity)", READS, (i) => ops.get(ids[(i * 7919) % ids.length]!));
  await incidents.close();
}

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-bench-"));
console.log(`agent-incidents bench: ${N} incidents per store, Node ${process.version}`);
await bench("memory", memoryStore(), 1);
await bench("sqlite", sqliteStore({ filename: join(dir, "bench.db") }), 1);
await bench("sqlite normal", sqliteStore({ filename: join(dir, "bench-normal.db"), synchronous: "normal" }), 1);
if (PG_URL) {
  const schema = `bench_${Date.now().toString(36)}`;
  await bench("postgres", postgresStore({ connectionString: PG_URL, schema }), 1);
  const schema8 = `${schema}_c8`;
  await bench("postgres x8", postgresStore({ connectionString: PG_URL, schema: schema8, max: 8 }), 8);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const s of [schema, schema8]) await client.query(`DROP SCHEMA "${s}" CASCADE`);
  await client.end();
} else {
  console.log("PG_URL is not set: skipping PostgreSQL (set PG_URL=postgres://postgres@127.0.0.1:5432/test)");
}
rmSync(dir, { recursive: true, force: true });

const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
console.log(`\n${"store".padEnd(14)} ${"operation".padEnd(30)} ${"n".padStart(6)} ${"ops/s".padStart(9)} ${"p50".padStart(9)} ${"p95".padStart(9)}`);
for (const r of rows) {
  console.log(`${r.store.padEnd(14)} ${r.op.padEnd(30)} ${String(r.n).padStart(6)} ${r.perSec.toFixed(0).padStart(9)} ${fmt(r.p50).padStart(9)} ${fmt(r.p95).padStart(9)}`);
}
