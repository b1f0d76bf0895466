/**
 * npm run bench:profile [-- memory|sqlite] [-- --n 20000]
 *
 * Where a report's time goes: runs reports against the built package under the V8 sampling
 * profiler (node:inspector) and splits the samples by the stage they fall in: the innermost
 * library function on the stack that names a stage (validation, the input copy, redaction and
 * caps, the snapshot, the store, events, ...). The stage shares are measured, not estimated:
 * they are what docs/benchmarks.md quotes for the targets the library misses.
 */
import { rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIncidents, memoryStore, type IncidentStore } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { reporters, signal } from "./workload.js";

const args = process.argv.slice(2);
const kind = args.find((a) => a === "memory" || a === "sqlite") ?? "memory";
const n = args.includes("--n") ? Number(args[args.indexOf("--n") + 1]) : 20_000;
const inFlight = kind === "sqlite" ? 32 : 1;

/**
 * Innermost match wins. `ingest` is the engine's unless another `ingest` is above it (then the
 * store's). better-sqlite3's statement methods are native (no script url).
 */
const NATIVE_SQLITE: Array<[RegExp, string]> = [
  [/^run$/, "SQLite: INSERT and UPDATE statements"],
  [/^(get|all)$/, "SQLite: SELECT lookups"],
];
const STAGES: Array<[RegExp, string]> = [
  [/^(incidentToRow|addActivity)$/, "SQLite store: rows as JSON"],
  [/^parseOrThrow$/, "validation (zod)"],
  [/^toPlain$/, "copy of the input (toPlain)"],
  [/^(clean|cleanValue|capPayloads|capRecord|capContext|redactString)$/, "redaction and size caps"],
  [/^buildSnapshot$/, "snapshot"],
  [/^decideIngest$/, "decide (severity, title, incident)"],
  [/^(fingerprintFor|fingerprintOf)$/, "fingerprint"],
  [/^(newId|now)$/, "ids and clock"],
  [/^(emit|frozenJson)$/, "events (frozen copy for listeners)"],
  [/^copyJson$/, "copy of the result"],
  [/^sqliteTransaction$/, "SQLite: BEGIN, savepoints, COMMIT"],
];

const fileOf = (tag: string) => join(tmpdir(), `agent-incidents-profile-${process.pid}-${tag}.db`);
const stores: IncidentStore[] = [];
const makeStore = (tag: string): IncidentStore => {
  const store = kind === "sqlite" ? sqliteStore({ filename: fileOf(tag) }) : memoryStore();
  stores.push(store);
  return store;
};

async function run(count: number, tag: string): Promise<number> {
  const incidents = createIncidents({ store: makeStore(tag) });
  incidents.on("incident.created", () => undefined);
  incidents.on("incident.recurred", () => undefined);
  const [report] = reporters(incidents);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = next++;
        await report!.policyBlocked(signal(i, `run_${tag}`));
      }
    }),
  );
  const ms = performance.now() - start;
  await incidents.close();
  return ms;
}

await run(Math.min(n, 5000), "warm");
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 100 });
await session.post("Profiler.start");
const ms = await run(n, "profiled");
const { profile } = await session.post("Profiler.stop");
session.disconnect();
for (const tag of ["warm", "profiled"]) for (const suffix of ["", "-wal", "-shm"]) rmSync(fileOf(tag) + suffix, { force: true });

type Node = (typeof profile.nodes)[number];
const byId = new Map<number, Node>(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const stageOf = (id: number): string => {
  const names: string[] = [];
  const urls: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    names.push(byId.get(at)!.callFrame.functionName);
    urls.push(byId.get(at)!.callFrame.url);
  }
  if (names[0] === "(garbage collector)") return "garbage collection";
  if (names[0] === "(idle)" || names[0] === "(program)") return "idle and V8";
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const native = urls[i] === "" && NATIVE_SQLITE.find(([pattern]) => pattern.test(name));
    // the transaction wrapper runs BEGIN, SAVEPOINT, RELEASE and COMMIT as statements of its own
    if (kind === "sqlite" && native) return names[i + 1] === "sqliteTransaction" ? "SQLite: BEGIN, savepoints, COMMIT" : native[1];
    if (kind === "sqlite" && names[i + 1] === "sqliteTransaction" && name !== "sqliteTransaction") return "SQLite store: the report's transaction (JS)";
    if (name === "ingest") return names.slice(i + 1).includes("ingest") ? (kind === "sqlite" ? "SQLite store: queueing the write for the next batch" : "store (memory)") : "engine glue";
    const stage = STAGES.find(([pattern]) => pattern.test(name));
    if (stage) return stage[1];
  }
  return "other (async, reporter, bench loop)";
};

const time = new Map<string, number>();
/** Self time by function within each stage, printed for the three largest stages. */
const within = new Map<string, Map<string, number>>();
const deltas = profile.timeDeltas ?? [];
let total = 0;
profile.samples?.forEach((id, i) => {
  const dt = deltas[i] ?? 0;
  total += dt;
  const stage = stageOf(id);
  time.set(stage, (time.get(stage) ?? 0) + dt);
  const fn = byId.get(id)!.callFrame.functionName || "(anonymous)";
  const functions = within.get(stage) ?? within.set(stage, new Map()).get(stage)!;
  functions.set(fn, (functions.get(fn) ?? 0) + dt);
});

const perReport = (ms * 1000) / n;
console.log(`${kind} store, ${n} new incidents, ${inFlight} in flight: ${perReport.toFixed(1)} µs per report (${Math.round((n / ms) * 1000).toLocaleString("en-US")}/s) under the profiler\n`);
console.log("| stage | share of samples | µs per report |");
console.log("|---|---|---|");
for (const [stage, t] of [...time].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${stage} | ${((100 * t) / total).toFixed(1)}% | ${((perReport * t) / total).toFixed(1)} |`);
}
for (const [stage] of [...time].sort((a, b) => b[1] - a[1]).slice(0, 3)) {
  const top = [...within.get(stage)!].sort((a, b) => b[1] - a[1]).slice(0, 6);
  console.log(`\n${stage}: ${top.map(([fn, t]) => `${fn} ${((perReport * t) / total).toFixed(1)} µs`).join(", ")}`);
}
