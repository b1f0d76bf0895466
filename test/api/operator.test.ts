import { describe, expect, it, vi } from "vitest";
import { ClosedError, type IncidentEvent, type RunSource } from "agent-incidents";
import { HOUR, limitPolicy, refund, setup, stripe } from "./helpers.js";
import { written } from "agent-incidents/testing";

describe("the operator's workflow", () => {
  it("lists open incidents by severity then recency, acknowledges, investigates and resolves", async () => {
    const { report, ops, clock } = setup();
    const low = written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "slow_tool" }));
    clock.advance(60_000);
    const crit = written(await report.executionFailed({ runId: "run_2", eventId: "e1", action: refund, connector: stripe, error: { message: "down", code: "503" } }));
    clock.advance(60_000);
    const high = written(await report.approvalRejected({ runId: "run_3", eventId: "e1", action: refund, approval: { id: "apr_1", decidedBy: "usr_lee" } }));
    const page = await ops.list({ status: "open" });
    expect(page.items.map((i) => i.id)).toEqual([crit.incident.id, high.incident.id, low.incident.id]);
    expect(page.nextCursor).toBeNull();

    clock.advance(5 * 60_000);
    const acked = await ops.acknowledge(crit.incident.id);
    expect(acked).toMatchObject({ status: "acknowledged", acknowledgedAt: "2026-06-01T09:07:00.000Z", version: 2 });
    await ops.startInvestigating(crit.incident.id, { expectedVersion: 2 });
    clock.advance(HOUR);
    const resolved = await ops.resolve(crit.incident.id, {
      note: "Stripe had an outage; retried the refunds",
      rootCause: "connector_failure",
      actions: ["connector_fixed", "customer_contacted"],
      systemic: false,
    });
    expect(resolved).toMatchObject({ status: "resolved", version: 4, resolution: { rootCause: "connector_failure", actions: ["connector_fixed", "customer_contacted"] } });
    expect((await ops.list({ status: ["open", "acknowledged", "investigating"] })).items).toHaveLength(2);
    expect((await ops.list()).items).toHaveLength(3);

    const stats = await ops.stats();
    // created 09:01, acknowledged 09:07, resolved 10:07
    expect(stats.mtta).toEqual({ count: 1, meanMs: 6 * 60_000, medianMs: 6 * 60_000 });
    expect(stats.mttr).toEqual({ count: 1, meanMs: HOUR + 6 * 60_000, medianMs: HOUR + 6 * 60_000 });
    expect(stats.bySeverity).toEqual({ critical: 1, high: 1, medium: 1, low: 0 });
    expect(stats.rootCauses).toEqual({ connector_failure: 1 });
    expect(stats.unresolved).toBe(2);
    expect(stats.systemic).toEqual({ resolved: 1, systemic: 0, share: 0 });
  });

  it("assigns, notes and sets severity, each one version and one activity entry", async () => {
    const { report, ops } = setup();
    const { incident } = written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "refund_spike" }));
    await ops.assign(incident.id, "usr_bo");
    expect((await ops.assign(incident.id, "usr_bo")).version).toBe(2);
    await ops.addNote(incident.id, "Checking the detector thresholds");
    const pinned = await ops.setSeverity(incident.id, "critical", "customer impact");
    expect(pinned).toMatchObject({ severity: "critical", severityPinned: true, severityReason: { rule: "operator", explanation: "customer impact" }, version: 4 });
    const detail = await ops.get(incident.id);
    expect(detail.activity.map((a) => a.type)).toEqual(["created", "assigned", "note_added", "severity_changed"]);
    expect(detail.activity[2]).toMatchObject({ message: "Checking the detector thresholds", actor: { id: "usr_ana" } });
  });

  it("pages through many incidents with a cursor", async () => {
    const { report, ops, clock } = setup();
    for (let i = 0; i < 120; i++) {
      clock.advance(1000);
      written(await report.anomaly({ runId: `run_${i}`, eventId: "e", pattern: `p${i}` }));
    }
    const first = await ops.list();
    expect(first.items).toHaveLength(50);
    const numbers = first.items.map((i) => i.number);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await ops.list({ cursor });
      numbers.push(...page.items.map((i) => i.number));
      cursor = page.nextCursor;
    }
    expect(numbers).toEqual(Array.from({ length: 120 }, (_, i) => 120 - i));
  });

  it("gives the context: snapshot with the triggering event and the run from the RunSource", async () => {
    const runs: RunSource = {
      loadRun: vi.fn(async (runId) => ({ runId, status: "errored" as const, events: [{ id: "e1", type: "run.started", at: "2026-06-01T08:59:00.000Z" }] })),
    };
    const { report, ops } = setup({ runs });
    const { incident } = written(await report.policyBlocked({
      runId: "run_1",
      eventId: "e2",
      action: refund,
      policy: limitPolicy,
      context: { events: [{ id: "e1", type: "run.started", at: "2026-06-01T08:59:00.000Z" }, { id: "e2", type: "action.requested", at: "2026-06-01T09:00:00.000Z", data: { action: "refund.create" } }] },
    }));
    const context = await ops.context(incident.id);
    expect(context.snapshot).toMatchObject({ action: refund, policy: limitPolicy, truncated: false });
    expect(context.snapshot?.events.at(-1)?.id).toBe("e2");
    expect(context.run?.events).toHaveLength(1);
    expect(runs.loadRun).toHaveBeenCalledWith("run_1", { workspaceId: "ws_acme", agentId: "agt_refunds" });
    expect(context.activity).toHaveLength(1);
    expect(context.occurrenceLog).toHaveLength(1);
  });

  it("still answers context when the RunSource fails, saying why", async () => {
    const { report, ops } = setup({ runs: { loadRun: async () => { throw new Error("runs db down"); } } });
    const { incident } = written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    const context = await ops.context(incident.id);
    expect(context.run).toBeNull();
    expect(context.runError).toContain("runs db down");
  });

  it("counts every cell, zero-filled", async () => {
    const { report, ops } = setup();
    written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    const counts = await ops.counts();
    expect(counts).toEqual({
      critical: { open: 0, acknowledged: 0, investigating: 0, resolved: 0 },
      high: { open: 0, acknowledged: 0, investigating: 0, resolved: 0 },
      medium: { open: 1, acknowledged: 0, investigating: 0, resolved: 0 },
      low: { open: 0, acknowledged: 0, investigating: 0, resolved: 0 },
    });
  });
});

describe("events", () => {
  it("emits each change under the name its notification has, with the incident", async () => {
    const { report, ops, incidents } = setup();
    const seen: IncidentEvent[] = [];
    const types = ["incident.created", "incident.recurred", "incident.acknowledged", "incident.severity_changed", "incident.updated", "incident.resolved", "incident.reopened"] as const;
    for (const type of types) incidents.on(type, (e) => void seen.push(e));
    const { incident } = written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    written(await report.anomaly({ runId: "run_1", eventId: "e2", pattern: "x" }));
    written(await report.anomaly({ runId: "run_1", eventId: "e2", pattern: "x" }));
    await ops.acknowledge(incident.id);
    await ops.setSeverity(incident.id, "critical", "customer impact");
    await ops.addNote(incident.id, "looking");
    await ops.resolve(incident.id, { note: "ok", rootCause: "other" });
    await ops.reopen(incident.id, "not ok");
    expect(seen.map((e) => e.type)).toEqual(types);
    expect(seen[2]).toMatchObject({ data: { incident: { status: "acknowledged" }, previous: { status: "open" } } });
    expect(seen[0]!.id).toMatch(/^evt_/);
  });

  it("a throwing or rejecting handler never breaks a report", async () => {
    const errors: unknown[] = [];
    const { report, incidents } = setup({ onError: (error) => void errors.push(error) });
    const later: string[] = [];
    incidents.on("incident.created", () => { throw new Error("handler bug"); });
    incidents.on("incident.created", async () => { throw new Error("async handler bug"); });
    incidents.on("incident.created", (e) => void later.push(e.data.incident.id));
    const { outcome } = written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    await new Promise((r) => setTimeout(r, 0));
    expect(outcome).toBe("created");
    expect(later).toHaveLength(1);
    expect(errors.map((e) => (e as Error).message).sort()).toEqual(["async handler bug", "handler bug"]);
  });

  it("off and the returned unsubscribe stop delivery", async () => {
    const { report, incidents } = setup();
    const calls: string[] = [];
    const handler = () => void calls.push("a");
    const unsubscribe = incidents.on("incident.created", () => void calls.push("b"));
    incidents.on("incident.created", handler);
    incidents.off("incident.created", handler);
    unsubscribe();
    written(await report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    expect(calls).toEqual([]);
  });
});

describe("close", () => {
  it("waits for reports in flight, then rejects every call with CLOSED", async () => {
    const { report, ops, incidents } = setup();
    const pending = report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" });
    await incidents.close();
    await expect(pending).resolves.toMatchObject({ outcome: "created" });
    await expect(report.anomaly({ runId: "run_1", eventId: "e2", pattern: "x" })).rejects.toBeInstanceOf(ClosedError);
    await expect(ops.list()).rejects.toMatchObject({ code: "CLOSED" });
    await incidents.close();
  });
});
