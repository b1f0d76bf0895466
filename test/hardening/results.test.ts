import { describe, expect, it } from "vitest";
import { createIncidents, type RunSource } from "agent-incidents";
import { fakeClock, written } from "agent-incidents/testing";
import { limit, operator, refund, scope, storeTargets, stripe } from "./stores.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

describe.each(storeTargets("results"))("right results on $name", { timeout: 60_000 }, ({ make }) => {
  it("reads back what redaction made longer than the input limits", async () => {
    const incidents = createIncidents({ store: make() });
    const report = incidents.reporter(scope);
    const type = `${"a".repeat(180)} Bearer abcdefgh`;
    const { incident } = written(await report.policyBlocked({
      runId: "r",
      eventId: "e",
      action: { type, payload: { note: "Bearer abcdefgh" } },
      policy: { ...limit, name: "Bearer abcdefgh", reason: "Bearer abcdefgh" },
      context: { events: [{ id: "ev", type: "Bearer abcdefgh", at: "2026-01-01T00:00:00.000Z" }] },
    }));
    const ops = incidents.as(operator);
    const context = await ops.context(incident.id);
    expect(context.snapshot?.action?.type).toBe(`${"a".repeat(180)} Bearer [REDACTED]`);
    expect(context.snapshot?.events[0]?.type).toBe("Bearer [REDACTED]");
    const resolved = await ops.resolve(incident.id, { note: `${"n".repeat(8176)} Bearer abcdefgh`, rootCause: "other" });
    expect(resolved.resolution?.note.length).toBeGreaterThan(8192);
    expect((await ops.get(incident.id)).resolution?.note).toBe(resolved.resolution?.note);
    expect((await ops.list({ status: "resolved" })).items).toHaveLength(1);
    await incidents.close();
  });

  it("refuses a clock outside 1970-9999 with CALLBACK and keeps the workspace readable; a clock going backwards never makes negative durations", async () => {
    const clock = fakeClock("2026-01-01T00:00:00.000Z");
    const incidents = createIncidents({ store: make(), clock });
    const report = incidents.reporter(scope);
    const ops = incidents.as(operator);
    const { incident } = written(await report.anomaly({ runId: "r", eventId: "e1", pattern: "p" }));
    clock.set(new Date(Date.UTC(10000, 0, 1)));
    await expect(report.anomaly({ runId: "r", eventId: "e2", pattern: "q" })).rejects.toMatchObject({ code: "CALLBACK", option: "clock" });
    await expect(ops.acknowledge(incident.id)).rejects.toMatchObject({ code: "CALLBACK" });
    expect((await ops.list()).items).toHaveLength(1);
    clock.set("2025-12-31T23:00:00.000Z");
    await ops.acknowledge(incident.id);
    await ops.resolve(incident.id, { note: "fixed", rootCause: "other" });
    const stats = await ops.stats();
    expect(stats.mtta).toEqual({ count: 1, meanMs: 0, medianMs: 0 });
    expect(stats.mttr).toEqual({ count: 1, meanMs: 0, medianMs: 0 });
    await incidents.close();
  });

  it("measures MTTA and MTTR per episode, from the time the incident opened or reopened", async () => {
    const clock = fakeClock("2026-02-01T00:00:00.000Z");
    const incidents = createIncidents({ store: make(), clock });
    const report = incidents.reporter(scope);
    const ops = incidents.as(operator);
    const story = async (eventId: string) => {
      const { incident, outcome } = written(await report.executionFailed({ runId: "r", eventId, action: refund, connector: stripe, error: { message: "down", code: "E1" } }));
      clock.advance(30 * MIN);
      await ops.acknowledge(incident.id);
      clock.advance(30 * MIN);
      await ops.resolve(incident.id, { note: "restarted", rootCause: "connector_failure" });
      clock.advance(HOUR);
      return outcome;
    };
    expect([await story("e1"), await story("e2"), await story("e3")]).toEqual(["created", "reopened", "reopened"]);
    const [only] = (await ops.list()).items;
    expect(only!.episodes).toHaveLength(3);
    const stats = await ops.stats();
    expect(stats.mtta).toEqual({ count: 3, meanMs: 30 * MIN, medianMs: 30 * MIN });
    expect(stats.mttr).toEqual({ count: 3, meanMs: HOUR, medianMs: HOUR });
    // an operator's reopen starts an episode too
    await ops.reopen(only!.id, "not fixed");
    clock.advance(10 * MIN);
    await ops.startInvestigating(only!.id);
    expect((await ops.stats()).mtta).toMatchObject({ count: 4, medianMs: 30 * MIN });
    await incidents.close();
  });

  it("never cuts a title in half an emoji, and keeps the summary within 8 KiB", async () => {
    const incidents = createIncidents({ store: make() });
    const report = incidents.reporter(scope);
    // paddings that put a surrogate pair on either side of the cut
    for (const pad of [173, 174, 175, 176]) {
      const result = written(await report.runEnded({ runId: "r", eventId: `e${pad}`, status: "errored", error: { name: `E${pad}`, message: "a".repeat(pad) + "😀".repeat(10) + "b".repeat(9000) } }));
      const stored = await incidents.as(operator).get(result!.incident.id);
      expect(stored.title).toMatch(/…$/);
      expect(stored.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      expect(stored.summary.length).toBeLessThan(8 * 1024 + 40);
    }
    await incidents.close();
  });

  it("writes UTC times even from a clock whose dates print themselves otherwise", async () => {
    class LocalDate extends Date {
      override toISOString() {
        return "2026-01-01T01:00:00.000+01:00";
      }
    }
    const incidents = createIncidents({ store: make(), clock: { now: () => new LocalDate("2026-01-01T00:00:00.000Z") } });
    const { incident } = written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    expect(incident.createdAt).toBe("2026-01-01T00:00:00.000Z");
    const ops = incidents.as(operator);
    expect((await ops.list()).items).toHaveLength(1);
    expect((await ops.stats()).total).toBe(1);
    const broken = createIncidents({ store: make(), clock: { now: () => ({ getTime: () => 0 }) as never } });
    await expect(broken.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" })).rejects.toMatchObject({ code: "CALLBACK", option: "clock" });
    await broken.close();
    await incidents.close();
  });

  it("stores what a severity rule says about itself cleaned and capped", async () => {
    const rule = { name: "odd\u0000name\uD800", explanation: "x".repeat(5000) + "\u0000", match: () => "high" as const };
    const incidents = createIncidents({ store: make(), severityRules: [rule] });
    const { incident } = written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    const stored = await incidents.as(operator).get(incident.id);
    expect(stored.severityReason.rule).toBe("oddname\uFFFD");
    expect(stored.severityReason.explanation.length).toBeLessThan(1100);
    const throwing = createIncidents({ store: make(), severityRules: [{ name: "n", get explanation(): string { throw new Error("getter"); }, match: () => "low" as const }] });
    await expect(throwing.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" })).rejects.toMatchObject({ code: "CALLBACK", option: "severityRules[0]" });
    await throwing.close();
    await incidents.close();
  });

  it("hands out copies: changing what a report or a read returned changes nothing stored", async () => {
    const incidents = createIncidents({ store: make() });
    const { incident } = written(await incidents.reporter(scope).policyBlocked({ runId: "r", eventId: "e", action: refund, policy: limit }));
    (incident.trigger as { action: { type: string } }).action.type = "changed";
    incident.title = "changed";
    const ops = incidents.as(operator);
    const read = await ops.get(incident.id);
    expect(read.title).not.toBe("changed");
    expect((read.trigger as { action: { type: string } }).action.type).toBe("refund.create");
    (read.trigger as { action: { type: string } }).action.type = "changed again";
    read.activity[0]!.message = "changed";
    const again = await ops.context(incident.id);
    expect((again.incident.trigger as { action: { type: string } }).action.type).toBe("refund.create");
    expect(again.snapshot?.action?.type).toBe("refund.create");
    expect(again.activity[0]!.message).not.toBe("changed");
    await incidents.close();
  });

  it("counts agents named __proto__, constructor and toString like any other", async () => {
    const incidents = createIncidents({ store: make() });
    for (const agentId of ["__proto__", "constructor", "toString", "__proto__"]) {
      written(await incidents.reporter({ ...scope, agentId }).anomaly({ runId: "r", eventId: `e-${agentId}-${Math.random()}`, pattern: "p" }));
    }
    const { byAgent } = await incidents.as(operator).stats();
    expect(Object.entries(byAgent).sort()).toEqual([["__proto__", 1], ["constructor", 1], ["toString", 1]]);
    expect(JSON.parse(JSON.stringify(byAgent))).toEqual(JSON.parse('{"__proto__":1,"constructor":1,"toString":1}'));
    await incidents.close();
  });

  it("returns each incident once when a filter repeats a value", async () => {
    const incidents = createIncidents({ store: make() });
    written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    const page = await incidents.as(operator).list({ status: ["open", "open"], severity: ["medium", "medium"], agentId: [scope.agentId, scope.agentId] });
    expect(page.items).toHaveLength(1);
    await incidents.close();
  });

  it("context() of a reopened incident shows the run and snapshot of the report that reopened it", async () => {
    const loaded: string[] = [];
    const runs: RunSource = {
      async loadRun(runId) {
        loaded.push(runId);
        return { runId, events: [{ id: `${runId}-ev`, type: "step", at: "2026-01-01T00:00:00.000Z" }] };
      },
    };
    const incidents = createIncidents({ store: make(), runs });
    const report = incidents.reporter(scope);
    const ops = incidents.as(operator);
    const first = written(await report.executionFailed({ runId: "run_1", eventId: "e", action: refund, connector: stripe, error: { message: "x" }, context: { data: { attempt: 1 } } }));
    await ops.resolve(first.incident.id, { note: "ok", rootCause: "external" });
    const again = written(await report.executionFailed({ runId: "run_2", eventId: "e", action: refund, connector: stripe, error: { message: "x" }, context: { data: { attempt: 2 } } }));
    expect(again.outcome).toBe("reopened");
    const latest = await ops.context(first.incident.id);
    expect(latest.run?.runId).toBe("run_2");
    expect(latest.snapshot?.data).toEqual({ attempt: 2 });
    const earlier = await ops.context(first.incident.id, { runId: "run_1" });
    expect(earlier.run?.runId).toBe("run_1");
    await expect(ops.context(first.incident.id, { runId: "run_9" })).rejects.toMatchObject({ code: "VALIDATION", issues: [expect.objectContaining({ path: ["runId"] })] });
    expect(loaded).toEqual(["run_2", "run_1"]);
    await incidents.close();
  });
});
