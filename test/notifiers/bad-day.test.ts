import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createIncidents, memoryStore, ValidationError, type IncidentEvent, type IncidentStore } from "agent-incidents";
import { callbackNotifier, defineNotifier, DeliveryError, type Notification } from "agent-incidents/notifiers";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { until } from "./receiver.js";

/**
 * Each built-in store, with a way to open a second handle on the same data: what another process
 * (the CLI, the console, a second runtime) would hold.
 */
interface Shared {
  name: string;
  /** A fresh store and a function that opens another handle on it. */
  make(): { store: IncidentStore; other(): IncidentStore };
}
const dir = mkdtempSync(join(tmpdir(), "agent-incidents-bad-day-"));
let files = 0;
const shared: Shared[] = [
  {
    name: "memory",
    make() {
      const store = memoryStore();
      return { store, other: () => store };
    },
  },
  {
    name: "sqlite",
    make() {
      const filename = join(dir, `b-${++files}.db`);
      return { store: sqliteStore({ filename }), other: () => sqliteStore({ filename }) };
    },
  },
];
if (PG_URL) {
  const schema = schemas("bad_day");
  shared.push({
    name: "postgres",
    make() {
      const name = schema();
      return { store: postgresStore({ connectionString: PG_URL!, schema: name, max: 4 }), other: () => postgresStore({ connectionString: PG_URL!, schema: name, max: 4 }) };
    },
  });
} else {
  reportSkipped("delivery on a bad day, on postgres");
}

const scope = { workspaceId: "ws_b", agentId: "agt_b", environment: "production" as const };
const operator = { id: "usr_op", role: "operator" as const, workspaceId: "ws_b" };
const failure = (n: number) => ({
  runId: `run_${n}`,
  eventId: `evt_${n}`,
  action: { type: `refund.create.${n}` },
  connector: { id: "con_stripe", provider: "stripe" },
  error: { message: "card declined", code: `E${n}` },
});
const summary = (n: Notification) => `${n.type}${"incident" in n.data ? ` #${n.data.incident.number}` : ""}`;

describe.each(shared)("delivery on a bad day ($name store)", { timeout: 60_000 }, ({ make }) => {
  it("one notifier never waits on another: a healthy one is sent a critical incident while another's receiver hangs with a backlog", async () => {
    const { store } = make();
    const hangingTries: number[] = [];
    const hanging = defineNotifier({
      name: "hangs",
      timeoutMs: 1000,
      send: (_batch, { attempt }) => {
        hangingTries.push(attempt);
        return new Promise<void>(() => undefined);
      },
    });
    const healthy: Array<{ type: string; hangingTriesSoFar: number }> = [];
    const incidents = createIncidents({
      store,
      routes: [
        { notifier: hanging, kinds: ["anomaly"] },
        { notifier: callbackNotifier(async ([n]) => void healthy.push({ type: n!.type, hangingTriesSoFar: hangingTries.length }), { name: "healthy" }), kinds: ["execution_failed"] },
      ],
      delivery: { pollMs: 50, closeTimeoutMs: 200 },
    });
    const report = incidents.reporter(scope);
    for (let i = 0; i < 60; i++) await report.anomaly({ runId: "run_a", eventId: `a${i}`, pattern: `pattern ${i}` });
    await until(() => hangingTries.length >= 1);
    await report.executionFailed(failure(1));
    await until(() => healthy.length === 1, 30_000);
    // the hanging receiver is probed one delivery at a time: its backlog never stood in the way
    expect(healthy[0]!.type).toBe("incident.created");
    expect(healthy[0]!.hangingTriesSoFar).toBeLessThanOrEqual(3);
    await incidents.close();
  });

  it("follow-ups reach every notifier that got the trigger, whatever the incident's severity by then", async () => {
    const { store } = make();
    const pager: string[] = [];
    const resolvesOnly: string[] = [];
    const incidents = createIncidents({
      store,
      routes: [
        { notifier: callbackNotifier(async ([n]) => void pager.push(summary(n!)), { name: "pager" }), minSeverity: "critical" },
        // a route that asked for fewer events keeps asking for fewer
        { notifier: callbackNotifier(async ([n]) => void resolvesOnly.push(summary(n!)), { name: "created-only" }), minSeverity: "critical", events: ["created"] },
      ],
      delivery: { pollMs: 50 },
    });
    const ops = incidents.as(operator);
    const { incident } = await incidents.reporter(scope).executionFailed(failure(1));
    await ops.setSeverity(incident!.id, "low", "not that bad after all");
    await ops.acknowledge(incident!.id);
    await ops.resolve(incident!.id, { note: "refund went through on retry", rootCause: "external" });
    await ops.reopen(incident!.id, "it came back");
    // a low incident never paged: its changes stay away from the pager
    const { incident: quiet } = await incidents.reporter({ ...scope, environment: "development" }).runEnded({ runId: "run_q", status: "errored", error: { name: "E", message: "x" } }) ?? {};
    await ops.resolve(quiet!.id, { note: "noise", rootCause: "other" });
    await until(() => pager.length === 5);
    await incidents.close();
    expect(pager).toEqual(["incident.created #1", "incident.severity_changed #1", "incident.acknowledged #1", "incident.resolved #1", "incident.reopened #1"]);
    expect(resolvesOnly).toEqual(["incident.created #1"]);
  });

  it("changes made by another process (a CLI, a console) are delivered by the process that has the routes", async () => {
    const { store, other } = make();
    const got: string[] = [];
    const runtime = createIncidents({ store, routes: [{ notifier: callbackNotifier(async ([n]) => void got.push(summary(n!)), { name: "pager" }) }], delivery: { pollMs: 50 } });
    const { incident } = await runtime.reporter(scope).executionFailed(failure(1));
    await until(() => got.length === 1);
    // the other process has no routes at all
    const cli = createIncidents({ store: other() });
    const ops = cli.as(operator);
    await ops.acknowledge(incident!.id);
    await ops.resolve(incident!.id, { note: "fixed from the command line", rootCause: "connector_failure" });
    await cli.close();
    await until(() => got.length === 3);
    expect(got).toEqual(["incident.created #1", "incident.acknowledged #1", "incident.resolved #1"]);
    // each change once, however many times the runtime polled
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(3);
    await runtime.close();
  });

  it("deliveries for a notifier no process has any more are reported, kept as dead letters, and can be sent to its new name", async () => {
    const { store, other } = make();
    const before = createIncidents({
      store,
      routes: [{ notifier: defineNotifier({ name: "slack:old", send: async () => Promise.reject(new DeliveryError("down", { retryable: true })) }) }],
      delivery: { closeTimeoutMs: 100, pollMs: 50 },
      onError: () => undefined,
    });
    for (let i = 0; i < 3; i++) await before.reporter(scope).executionFailed(failure(i));
    await until(async () => (await before.deliveries.list({ notifier: "slack:old" })).length === 3);
    const delivered: string[] = [];
    const failed: Array<IncidentEvent<"notification.failed">> = [];
    const after = createIncidents({
      store: other(),
      routes: [{ notifier: callbackNotifier(async ([n]) => void delivered.push(summary(n!)), { name: "slack:new" }), events: ["created", "resolved"], kinds: ["anomaly"] }],
      delivery: { pollMs: 50, strandedAfterMs: 1000 },
    });
    after.on("notification.failed", (e) => void failed.push(e));
    await before.close();
    // the old notifier's process is gone: its entries are reported once it has been absent a while
    await until(() => failed.length === 3, 20_000);
    expect(failed.map((f) => f.data.notifier)).toEqual(["slack:old", "slack:old", "slack:old"]);
    expect(failed[0]!.data.error).toMatch(/no process has had a notifier named "slack:old".*deliveries\.retry/);
    const dead = await after.deliveries.list({ status: "dead", notifier: "slack:old" });
    expect(dead).toHaveLength(3);
    expect(await after.deliveries.retry({ notifier: "slack:old", to: "slack:new" })).toBe(3);
    await until(() => delivered.length === 3);
    expect(delivered.sort()).toEqual(["incident.created #1", "incident.created #2", "incident.created #3"]);
    expect(await after.deliveries.list({ status: "dead" })).toEqual([]);
    // the new name took over the incidents: their resolves reach it, though no route matches them now
    const ops = after.as(operator);
    const [first] = (await ops.list({ limit: 1, sort: "recency" })).items;
    await ops.resolve(first!.id, { note: "refunded by hand", rootCause: "external" });
    await until(() => delivered.length === 4);
    expect(delivered.at(-1)).toBe(`incident.resolved #${first!.number}`);
    await after.close();
  });

  it("keeps dead letters inspectable and sends them again, by id or by filter; refuses bad queries", async () => {
    const { store } = make();
    let refuse = true;
    const got: string[] = [];
    const incidents = createIncidents({
      store,
      routes: [
        {
          notifier: defineNotifier({
            name: "strict",
            async send([n]) {
              if (refuse) throw new DeliveryError("400 bad request", { retryable: false, status: 400 });
              got.push(summary(n!));
            },
          }),
        },
      ],
      delivery: { pollMs: 50 },
      onError: () => undefined,
    });
    for (let i = 0; i < 3; i++) await incidents.reporter(scope).executionFailed(failure(i));
    await until(async () => (await incidents.deliveries.list({ status: "dead" })).length === 3);
    const dead = await incidents.deliveries.list({ status: "dead", notifier: "strict", limit: 2 });
    expect(dead).toHaveLength(2);
    expect(dead[0]).toMatchObject({ status: "dead", notifier: "strict", attempts: 1, lastError: "400 bad request", notification: { type: "incident.created" } });
    refuse = false;
    expect(await incidents.deliveries.retry([dead[0]!.id])).toBe(1);
    await until(() => got.length === 1);
    expect(await incidents.deliveries.retry({ status: "dead" })).toBe(2);
    await until(() => got.length === 3);
    // sent once each: a delivered one is not sent again
    expect(await incidents.deliveries.retry([dead[0]!.id])).toBe(0);
    expect(got.sort()).toEqual(["incident.created #1", "incident.created #2", "incident.created #3"]);

    for (const bad of [{ status: "gone" }, { limit: 0 }, { limit: 10_000 }, { notifier: "a\u0000b" }, { notifier: "\ud800" }, { extra: 1 }, JSON.parse('{"__proto__": {"status": "dead"}}')]) {
      await expect(incidents.deliveries.list(bad as never)).rejects.toBeInstanceOf(ValidationError);
    }
    for (const bad of [[], {}, { to: "strict" }, ["x\u0000"], { status: "delivered" }, "dlv_1", null, [1]]) {
      await expect(incidents.deliveries.retry(bad as never)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(incidents.deliveries.retry({ status: "dead", to: "a" }, { to: "b" })).rejects.toBeInstanceOf(ValidationError);
    await incidents.close();
    await expect(incidents.deliveries.list()).rejects.toMatchObject({ code: "CLOSED" });
  });
});

describe.each(shared)("delivery after the review of the rebuild ($name store)", { timeout: 60_000 }, ({ make }) => {
  it("a notification its receiver always refuses (with a Retry-After) does not hold back the notifier's others", async () => {
    const { store } = make();
    const delivered: string[] = [];
    let poisonTries = 0;
    const incidents = createIncidents({
      store,
      routes: [
        {
          notifier: defineNotifier({
            name: "picky",
            retry: { minDelayMs: 20, maxDelayMs: 200 },
            async send([n]) {
              if ("incident" in n!.data && n!.data.incident.number === 1) {
                poisonTries += 1;
                throw new DeliveryError("500 for this one", { retryable: true, status: 500, retryAfterMs: 300 });
              }
              delivered.push(summary(n!));
            },
          }),
        },
      ],
      delivery: { pollMs: 50 },
    });
    const report = incidents.reporter(scope);
    await report.executionFailed(failure(0));
    await until(() => poisonTries >= 1);
    for (let i = 1; i <= 20; i++) await report.executionFailed(failure(i));
    await until(() => delivered.length === 20, 30_000);
    expect(new Set(delivered).size).toBe(20);
    // it is still tried, on its own schedule
    await until(async () => (await incidents.deliveries.list({ status: "pending" })).length === 1);
    expect(await incidents.deliveries.list({ status: "pending" })).toMatchObject([{ lastError: "500 for this one" }]);
    await incidents.close();
  });

  it("a steady stream of reports never postpones delivery until it stops", async () => {
    const { store } = make();
    let delivered = 0;
    const incidents = createIncidents({ store, routes: [{ notifier: callbackNotifier(async () => void (delivered += 1), { name: "cb" }) }], delivery: { pollMs: 60_000 } });
    const report = incidents.reporter(scope);
    // one report after another, each well within the planner's few milliseconds of gathering
    let made = 0;
    while (delivered === 0 && made < 3000) {
      await report.anomaly({ runId: "run_s", eventId: `s${made++}`, pattern: `p${made}` });
      // the host's event loop turns between reports, as a runtime's does
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(delivered).toBeGreaterThan(0);
    await incidents.close();
  });

  it("re-sending a delivery that died of age gives it its whole age again", async () => {
    const { store } = make();
    let tries = 0;
    let up = false;
    const incidents = createIncidents({
      store,
      routes: [{ notifier: defineNotifier({ name: "down", retry: { minDelayMs: 5, maxDelayMs: 20, maxAgeMs: 1000 }, send: async () => { tries += 1; if (!up) throw new DeliveryError("503", { retryable: true }); } }) }],
      delivery: { pollMs: 20 },
      onError: () => undefined,
    });
    await incidents.reporter(scope).executionFailed(failure(1));
    await until(async () => (await incidents.deliveries.list({ status: "dead" })).length === 1);
    const before = tries;
    expect(await incidents.deliveries.retry({ status: "dead" })).toBe(1);
    // still down for a while: tried again and again, not given up after one try
    await until(() => tries >= before + 3);
    up = true;
    await until(async () => (await incidents.deliveries.list({ status: "delivered" })).length === 1);
    await incidents.close();
  });

  it("close() keeps its deadline when the store stops answering mid-delivery", async () => {
    const { store } = make();
    let hang = false;
    const outbox = new Proxy(store.outbox!, {
      get(target, key) {
        const value = (target as unknown as Record<string | symbol, unknown>)[key];
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => (hang ? new Promise(() => undefined) : (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    let sending = false;
    const incidents = createIncidents({
      store: { ...store, outbox, close: () => store.close() } as IncidentStore,
      routes: [{ notifier: defineNotifier({ name: "slow", send: async () => { sending = true; await new Promise((r) => setTimeout(r, 200)); } }) }],
      delivery: { pollMs: 20, closeTimeoutMs: 300 },
      onError: () => undefined,
    });
    await incidents.reporter(scope).executionFailed(failure(1));
    await until(() => sending);
    hang = true;
    // settles: the deadline, a little grace, and the store's own close
    const closed = await Promise.race([incidents.close().then(() => "closed"), new Promise((r) => setTimeout(() => r("hung"), 10_000))]);
    expect(closed).toBe("closed");
  });
});

describe("the memory store's feed", { timeout: 120_000 }, () => {
  it("loses no change that waits to be planned, however many come at once", async () => {
    let delivered = 0;
    const incidents = createIncidents({ routes: [{ notifier: callbackNotifier(async () => void (delivered += 1), { name: "cb" }) }], delivery: { pollMs: 50 } });
    const report = incidents.reporter(scope);
    await Promise.all(Array.from({ length: 12_000 }, (_, i) => report.anomaly({ runId: "run_b", eventId: `b${i}`, pattern: `p${i}` })));
    await until(() => delivered === 12_000, 100_000);
    await incidents.close();
  });
});

describe("delivery through an outbox that fails", () => {
  it("loses nothing when the store's outbox throws or hangs on half its calls", async () => {
    const inner = memoryStore();
    const outbox = inner.outbox!;
    let calls = 0;
    // every other call fails, now and then one never answers for a while
    const flaky = new Proxy(outbox, {
      get(target, key) {
        const method = (target as unknown as Record<string | symbol, unknown>)[key];
        if (typeof method !== "function") return method;
        return (...args: unknown[]) => {
          calls += 1;
          if (calls % 2 === 0) return Promise.reject(new Error("database away"));
          if (calls % 7 === 0) return new Promise((resolve) => setTimeout(resolve, 300)).then(() => (method as (...a: unknown[]) => unknown).apply(target, args));
          return (method as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const store = { ...inner, name: "flaky", outbox: flaky } as IncidentStore;
    const got = new Map<string, number>();
    const notifier = defineNotifier({ name: "cb", timeoutMs: 400, send: async ([n]) => void got.set(n!.id, (got.get(n!.id) ?? 0) + 1) });
    const incidents = createIncidents({ store, routes: [{ notifier }], delivery: { pollMs: 20, leaseMs: 1000 } });
    for (let i = 0; i < 40; i++) await incidents.reporter(scope).executionFailed(failure(i));
    await until(() => got.size === 40, 30_000);
    // at least once: a settle that failed may send one again, but nothing is missing
    expect(got.size).toBe(40);
    await incidents.close();
  });
});
