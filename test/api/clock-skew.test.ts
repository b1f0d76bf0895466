import { afterEach, describe, expect, it } from "vitest";
import { createIncidents, type Incidents, type IncidentStore } from "agent-incidents";
import { fakeClock, written } from "agent-incidents/testing";
import { operator, scope, storeTargets, stripe, refund } from "../hardening/stores.js";

const HOUR = 60 * 60 * 1000;
const MINUTE = 60 * 1000;
const T = "2026-06-01T09:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(T) + ms).toISOString();

// Two machines sharing one store: the runtime reports on a correct clock, the operator's laptop
// runs an hour behind. Its changes are moved up to the incident's latest time, never before it.
describe.each(storeTargets("clock_skew"))("a change from a clock behind the incident's ($name)", ({ make }) => {
  let open: Incidents[] = [];
  afterEach(async () => {
    await Promise.all(open.map((i) => i.close()));
    open = [];
  });
  const machines = (store: IncidentStore) => {
    const runtimeClock = fakeClock(T);
    const operatorClock = fakeClock(at(-HOUR));
    const runtime = createIncidents({ store, clock: runtimeClock, spool: false });
    const laptop = createIncidents({ store, clock: operatorClock, spool: false });
    open = [laptop, runtime];
    return { runtimeClock, operatorClock, report: runtime.reporter(scope), ops: laptop.as(operator) };
  };
  const failure = (eventId: string) => ({ runId: "run_1", eventId, action: refund, connector: stripe, error: { message: "Stripe API unavailable", code: "api_unavailable" } });

  it("acknowledges and resolves no earlier than the report: MTTA and MTTR are 0, not negative", async () => {
    const { report, ops } = machines(make());
    const { incident } = written(await report.executionFailed(failure("evt_1")));
    expect(incident.createdAt).toBe(T);

    const acked = await ops.acknowledge(incident.id);
    expect(acked.acknowledgedAt).toBe(T);
    expect(acked.updatedAt).toBe(T);
    const resolved = await ops.resolve(incident.id, { note: "Stripe recovered", rootCause: "connector_failure" });
    expect(resolved.resolvedAt).toBe(T);
    expect(resolved.episodes).toEqual([{ openedAt: T, acknowledgedAt: T, resolvedAt: T }]);

    const { activity } = await ops.get(incident.id);
    expect(activity.map((a) => a.at)).toEqual([T, T, T]);
    const stats = await ops.stats();
    expect(stats.mtta).toEqual({ count: 1, meanMs: 0, medianMs: 0 });
    expect(stats.mttr).toEqual({ count: 1, meanMs: 0, medianMs: 0 });
  });

  it("clamps to the latest occurrence too, and leaves a clock that is ahead alone", async () => {
    const { runtimeClock, operatorClock, report, ops } = machines(make());
    const { incident } = written(await report.executionFailed(failure("evt_1")));
    runtimeClock.advance(10 * MINUTE);
    expect((await report.executionFailed(failure("evt_2"))).outcome).toBe("recurred");

    // the laptop is still 70 minutes behind the latest occurrence
    const acked = await ops.acknowledge(incident.id);
    expect(acked.acknowledgedAt).toBe(at(10 * MINUTE));

    // once the laptop's clock passes the incident's latest time, its own time is used as it is
    operatorClock.set(at(40 * MINUTE));
    const resolved = await ops.resolve(incident.id, { note: "Stripe recovered", rootCause: "connector_failure" });
    expect(resolved.resolvedAt).toBe(at(40 * MINUTE));
    const stats = await ops.stats();
    expect(stats.mtta.meanMs).toBe(10 * MINUTE);
    expect(stats.mttr.meanMs).toBe(40 * MINUTE);
  });

  it("keeps a reopened episode's durations from going negative", async () => {
    const { runtimeClock, report, ops } = machines(make());
    const { incident } = written(await report.executionFailed(failure("evt_1")));
    await ops.resolve(incident.id, { note: "looked fine", rootCause: "external" });
    runtimeClock.advance(20 * MINUTE);
    expect((await report.executionFailed(failure("evt_2"))).outcome).toBe("reopened");

    const acked = await ops.acknowledge(incident.id);
    expect(acked.episodes.map((e) => [e.openedAt, e.acknowledgedAt])).toEqual([
      [T, null],
      [at(20 * MINUTE), at(20 * MINUTE)],
    ]);
    const stats = await ops.stats();
    expect(stats.mtta).toMatchObject({ count: 1, meanMs: 0 });
    expect(stats.mttr).toMatchObject({ count: 1, meanMs: 0 });
  });
});
