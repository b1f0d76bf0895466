/**
 * What every benchmark section shares: timing, alternating rounds, tinybench for short reads,
 * and the results that end up in the table and in bench/results.json.
 */
import { performance } from "node:perf_hooks";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { Bench } from "tinybench";

setFlagsFromString("--expose-gc");
/** A full garbage collection, for heap measurements. */
export const gc: () => void = runInNewContext("gc");

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
};

/** The results: a flat map of dotted keys to numbers (bench/results.json). */
export const results: Record<string, number> = {};

export interface Comparison {
  section: string;
  path: string;
  /** Key of the library's figure and of its floor in `results`. */
  key: string;
  floorKey: string;
  floor: string;
  /** "higher" for ops per second, "lower" for times and sizes. */
  better: "higher" | "lower";
  target: string;
  /** True when the target is met. */
  met: (library: number, floor: number) => boolean;
}
export const comparisons: Comparison[] = [];

/** Runs `one(i)` n times, `concurrency` at a time; returns operations per second. */
export async function throughput(n: number, one: (i: number) => Promise<unknown> | unknown, concurrency = 1): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return (n / (performance.now() - start)) * 1000;
}

/** Per-call latencies (ms) of n sequential calls. */
export async function latencies(n: number, one: (i: number) => Promise<unknown> | unknown): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await one(i);
    times.push(performance.now() - t);
  }
  return times;
}

/**
 * Runs each variant once per round, in turn, for `rounds` rounds, so drift on a shared machine
 * hits all of them alike; returns each variant's median. A variant returns its own figure.
 */
export async function alternate<K extends string>(rounds: number, variants: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const figures = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    const order = Object.keys(variants) as K[];
    if (round % 2 === 1) order.reverse();
    for (const k of order) figures[k].push(await variants[k]());
  }
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v as number[])])) as Record<K, number>;
}

/**
 * Median latency in ms of each task, measured by tinybench (warm-up, then samples for `timeMs`),
 * the tasks interleaved over `rounds` runs.
 */
export async function micro<K extends string>(tasks: Record<K, () => unknown>, options: { timeMs?: number; rounds?: number } = {}): Promise<Record<K, number>> {
  const rounds = options.rounds ?? 3;
  const samples = Object.fromEntries(Object.keys(tasks).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: options.timeMs ?? 400, warmupTime: 100, warmupIterations: 5, iterations: 10 });
    const names = Object.keys(tasks) as K[];
    for (const name of round % 2 === 0 ? names : [...names].reverse()) bench.add(name, tasks[name] as () => Promise<void>);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== "completed") throw new Error(`${task.name}: ${result.state === "errored" ? String(result.error) : result.state}`);
      samples[task.name as K].push(result.latency.p50);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v as number[])])) as Record<K, number>;
}

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}
