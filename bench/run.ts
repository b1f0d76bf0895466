/**
 * npm run bench [-- --quick] [-- --json] [-- --only memory,sqlite,postgres,notify,storm]
 *
 * Every hot path beside the fastest thing that could do the same job (its floor), in the same
 * process and the same run, with the ratio and the target it must meet. Absolute times drift on
 * shared machines; ratios from one run do not. The large data sets (1M incidents; 100k with
 * --quick) are built once and cached under bench/.cache/. PostgreSQL runs when PG_URL is set.
 * `--json` writes bench/results.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { comparisons, gc, log, results } from "./lib.js";
import { memoryBench } from "./memory.js";
import { notifyBench } from "./notify-p99.js";
import { postgresBench } from "./postgres.js";
import { sqliteBench } from "./sqlite.js";
import { STORM_AGENTS, stormBench } from "./storm.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const json = args.includes("--json");
const only = args.includes("--only") ? new Set(args[args.indexOf("--only") + 1]!.split(",")) : null;
const wanted = (section: string) => only === null || only.has(section);
const PG_URL = process.env["PG_URL"];

const large = quick ? 100_000 : 1_000_000;
const n = quick ? 2000 : 5000;
const rounds = quick ? 3 : 5;
const dir = mkdtempSync(join(tmpdir(), "agent-incidents-bench-"));
const cache = join(import.meta.dirname, ".cache");
const started = performance.now();
log(`agent-incidents bench: ${quick ? "quick" : "full"} (${large} incidents for the large data sets), Node ${process.version}`);

try {
  if (wanted("memory")) await memoryBench({ n, large, rounds });
  // the memory section leaves gigabytes of garbage: collected now, not during the next section's reads
  gc();
  if (wanted("sqlite")) await sqliteBench({ n, large, rounds, dir, cache });
  gc();
  if (wanted("postgres")) {
    if (PG_URL) await postgresBench({ url: PG_URL, n: Math.round(n / 2), rounds: Math.max(3, rounds - 2) });
    else log("PG_URL is not set: skipping PostgreSQL (set PG_URL=postgres://postgres@127.0.0.1:5432/test)");
  }
  if (wanted("notify")) await notifyBench({ n: quick ? 300 : 1000, rounds, dir });
  if (wanted("storm")) await stormBench({ n: STORM_AGENTS * (quick ? 20 : 40), rounds: 3, dir, url: PG_URL });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const format = (key: string, value: number) => {
  if (key.endsWith(".ops")) return `${Math.round(value).toLocaleString("en-US")}/s`;
  if (key.endsWith(".us")) return `${value.toFixed(0)} µs`;
  if (key.endsWith(".ms")) return value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(2)} ms`;
  if (key.includes("bytes")) return `${Math.round(value).toLocaleString("en-US")} B`;
  return value.toFixed(2);
};
console.log(`\n| path | library | floor (same run) | floor is | ratio | target | met |`);
console.log("|---|---|---|---|---|---|---|");
let missed = 0;
for (const c of comparisons) {
  const library = results[c.key]!;
  const floor = results[c.floorKey]!;
  const met = c.met(library, floor);
  if (!met) missed++;
  console.log(
    `| ${c.section}: ${c.path} | ${format(c.key, library)} | ${format(c.floorKey, floor)} | ${c.floor} | ${(library / floor).toFixed(2)}x | ${c.target} | ${met ? "yes" : "**no**"} |`,
  );
}
log(`${comparisons.length - missed} of ${comparisons.length} targets met, in ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (json) {
  const file = join(import.meta.dirname, "results.json");
  const rounded = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Number(v.toPrecision(6))]));
  const run = { "run.quick": quick ? 1 : 0, "run.seconds": Math.round((performance.now() - started) / 1000), "run.targets_met": comparisons.length - missed, "run.targets": comparisons.length };
  writeFileSync(file, `${JSON.stringify({ ...run, ...rounded }, null, 2)}\n`);
  log(`wrote ${file}`);
}
