/**
 * The memory store (the default): reports against the least any in-process incident log must do,
 * inserts as the store grows, the console's list against a scan, and bytes per incident.
 */
import { EventEmitter } from "eventemitter3";
import { createIncidents, memoryStore, PolicyBlockedSignalSchema, ulidFactory, type Incident } from "agent-incidents";
import { alternate, comparisons, gc, log, micro, results, throughput } from "./lib.js";
import { fill, reporters, signal, WORKSPACE } from "./workload.js";

const ratio = (min: number) => (library: number, floor: number) => library / floor >= min;

export async function memoryBench(options: { n: number; large: number; rounds: number }): Promise<void> {
  const { n } = options;
  log(`memory: report and recurrence against the floor, ${n} reports x ${options.rounds} rounds`);

  // the floor: validate the input, make an id, keep the record, tell listeners
  const floorRun = async () => {
    const nextId = ulidFactory();
    const records = new Map<string, unknown>();
    const emitter = new EventEmitter();
    emitter.on("change", () => undefined);
    return throughput(n, (i) => {
      const parsed = PolicyBlockedSignalSchema.parse({ ...signal(i, "run_a"), kind: "policy_blocked", workspaceId: WORKSPACE, agentId: "agt_refunds", environment: "production" });
      const id = nextId();
      const record = { id, number: i + 1, signal: parsed, status: "open", at: new Date().toISOString() };
      records.set(id, record);
      emitter.emit("change", { type: "created", incident: record });
    });
  };
  const reportRun = (recur: boolean) => async () => {
    const incidents = createIncidents({ store: memoryStore() });
    incidents.on("incident.created", () => undefined);
    incidents.on("incident.recurred", () => undefined);
    const [report] = reporters(incidents);
    const ops = await throughput(n, (i) => report!.policyBlocked(signal(i, "run_a", recur ? 0 : i)));
    await incidents.close();
    return ops;
  };
  const fig = await alternate(options.rounds, { floor: floorRun, report: reportRun(false), recur: reportRun(true) });
  results["memory.floor.ops"] = fig.floor;
  results["memory.report.ops"] = fig.report;
  results["memory.recur.ops"] = fig.recur;
  comparisons.push(
    { section: "memory", path: "report: new incident", key: "memory.report.ops", floorKey: "memory.floor.ops", floor: "zod parse + pooled id + Map.set + emit", better: "higher", target: ">= 0.5x", met: ratio(0.5) },
    { section: "memory", path: "report: recurrence", key: "memory.recur.ops", floorKey: "memory.floor.ops", floor: "the same floor", better: "higher", target: ">= 0.5x", met: ratio(0.5) },
  );

  // growth, memory and the console's list on a large store
  log(`memory: filling to ${options.large} incidents`);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const store = memoryStore();
  const incidents = createIncidents({ store });
  const [report] = reporters(incidents);
  const growth: number[] = [];
  let filled = 0;
  const grow = async (to: number) => {
    await fill(incidents, to - filled, 16, undefined, filled);
    filled = to;
  };
  // report speed at 100k against report speed in an empty store, alternating between the two
  const at100k: number[] = [];
  await grow(100_000);
  for (let round = 0; round < options.rounds; round++) {
    const empty = createIncidents({ store: memoryStore() });
    const [fresh] = reporters(empty);
    growth.push(await throughput(n, (i) => fresh!.policyBlocked(signal(i, `run_empty_${round}`, 10_000_000 + i))));
    await empty.close();
    at100k.push(await throughput(n, (i) => report!.policyBlocked(signal(i, `run_grow_${round}`, 20_000_000 + round * n + i))));
  }
  filled += options.rounds * n;
  const medianOf = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  results["memory.report_empty.ops"] = medianOf(growth);
  results["memory.report_at_100k.ops"] = medianOf(at100k);
  comparisons.push({
    section: "memory",
    path: "report at 100k incidents",
    key: "memory.report_at_100k.ops",
    floorKey: "memory.report_empty.ops",
    floor: "the same reports into an empty store",
    better: "higher",
    target: ">= 0.8x",
    met: ratio(0.8),
  });

  await grow(options.large);
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  const all = (await store.scan(WORKSPACE, { createdSince: null })) as Incident[];
  results["memory.incidents"] = all.length;
  results["memory.bytes_per_incident"] = (heapAfter - heapBefore) / all.length;

  // what the store keeps for an incident, as JSON: the incident, its activity, occurrences and snapshot
  let jsonBytes = 0;
  const sample = all.filter((_, i) => i % Math.ceil(all.length / 2000) === 0);
  for (const incident of sample) {
    const [activity, occurrences, snapshot] = await Promise.all([
      store.activity(WORKSPACE, incident.id),
      store.occurrences(WORKSPACE, incident.id),
      store.snapshot(WORKSPACE, incident.id),
    ]);
    jsonBytes += Buffer.byteLength(JSON.stringify({ incident, activity, occurrences, snapshot }));
  }
  results["json.bytes_per_incident_floor"] = jsonBytes / sample.length;
  comparisons.push({
    section: "memory",
    path: `heap per incident (${Math.round(all.length / 1000)}k)`,
    key: "memory.bytes_per_incident",
    floorKey: "json.bytes_per_incident_floor",
    floor: "the same records as JSON",
    better: "lower",
    target: "<= 1.5x",
    met: (library, floor) => library <= 1.5 * floor,
  });

  // the console's default view against a scan of every incident
  const ops = incidents.as({ id: "usr_bench", role: "viewer", workspaceId: WORKSPACE });
  const rank = { critical: 0, high: 1, medium: 2, low: 3 } as const;
  const scan = () =>
    all
      .filter((i) => i.status === "open")
      .sort((a, b) => rank[a.severity] - rank[b.severity] || (a.lastSeenAt < b.lastSeenAt ? 1 : a.lastSeenAt > b.lastSeenAt ? -1 : b.number - a.number))
      .slice(0, 50);
  const list = await micro({ list: () => ops.list({ status: ["open"] }), scan }, { rounds: 1, timeMs: 2000 });
  results["memory.list_1m.ms"] = list.list;
  results["memory.list_1m_scan.ms"] = list.scan;
  comparisons.push({
    section: "memory",
    path: `list(open, 50) at ${Math.round(all.length / 1000)}k`,
    key: "memory.list_1m.ms",
    floorKey: "memory.list_1m_scan.ms",
    floor: "filter + sort of every incident",
    better: "lower",
    target: "<= scan / 50",
    met: (library, floor) => library <= floor / 50,
  });
  await incidents.close();
}
