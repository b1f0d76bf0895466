import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOUR, limitPolicy, refund, setup, stripe } from "./helpers.js";
import { written } from "agent-incidents/testing";

const failure = (runId: string, eventId: string) => ({
  runId,
  eventId,
  action: refund,
  connector: stripe,
  error: { name: "StripeError", message: "rate limited", code: "rate_limited", retryable: true },
});

describe("dedup and recurrence", () => {
  it("adds occurrences to the open incident instead of new incidents", async () => {
    const { report, ops, clock } = setup();
    const first = written(await report.executionFailed(failure("run_1", "evt_1")));
    clock.advance(60_000);
    const second = written(await report.executionFailed(failure("run_2", "evt_1")));
    expect(second).toMatchObject({ outcome: "recurred", incident: { id: first.incident.id, occurrences: 2, version: 1 } });
    expect(second.incident.firstSeenAt).toBe("2026-06-01T09:00:00.000Z");
    expect(second.incident.lastSeenAt).toBe("2026-06-01T09:01:00.000Z");
    expect((await ops.list()).items).toHaveLength(1);
  });

  it("counts a retried hook once, also after the incident was resolved", async () => {
    const { report, ops } = setup();
    const first = written(await report.executionFailed(failure("run_1", "evt_1")));
    expect((written(await report.executionFailed(failure("run_1", "evt_1")))).outcome).toBe("duplicate");
    await ops.resolve(first.incident.id, { note: "Stripe recovered", rootCause: "external" });
    const retry = written(await report.executionFailed(failure("run_1", "evt_1")));
    expect(retry.outcome).toBe("duplicate");
    expect(retry.incident.status).toBe("resolved");
  });

  it("raises repeated failures to at least high, with one activity entry", async () => {
    const { report, ops, clock } = setup();
    const block = async (eventId: string) => written(await report.policyBlocked({ runId: "run_1", eventId, action: refund, policy: limitPolicy, impact: "low" }));
    const first = await block("e1");
    clock.advance(10 * 60_000);
    await block("e2");
    expect((await ops.get(first.incident.id)).severity).toBe("medium");
    clock.advance(10 * 60_000);
    const third = await block("e3");
    expect(third.incident).toMatchObject({ severity: "high", severityReason: { rule: "repeated-failures" }, version: 2, occurrences: 3 });
    const detail = await ops.get(first.incident.id);
    expect(detail.activity.map((a) => [a.type, a.before, a.after])).toEqual([
      ["created", null, { status: "open", severity: "medium" }],
      ["recurred", { severity: "medium" }, { severity: "high", occurrences: 3 }],
    ]);
  });

  it("does not raise when the repeats are spread beyond the window", async () => {
    const { report, clock } = setup();
    const anomaly = async (eventId: string) => written(await report.anomaly({ runId: "run_1", eventId, pattern: "refund_spike" }));
    await anomaly("e1");
    clock.advance(HOUR);
    await anomaly("e2");
    clock.advance(HOUR);
    expect((await anomaly("e3")).incident.severity).toBe("medium");
  });

  it("leaves a pinned severity alone until the incident is reopened", async () => {
    const { report, ops } = setup();
    const anomaly = async (eventId: string) => written(await report.anomaly({ runId: "run_1", eventId, pattern: "refund_spike" }));
    const { incident } = await anomaly("e1");
    await ops.setSeverity(incident.id, "low", "known noisy detector");
    await anomaly("e2");
    expect((await anomaly("e3")).incident).toMatchObject({ severity: "low", severityPinned: true, version: 2 });
  });

  it("reopens an incident resolved within 24 h, keeping the old resolution in the activity", async () => {
    const { report, ops, clock, incidents } = setup();
    const reopened: string[] = [];
    incidents.on("incident.reopened", (e) => void reopened.push(e.data.incident.id));
    const { incident } = written(await report.executionFailed(failure("run_1", "evt_1")));
    await ops.acknowledge(incident.id);
    await ops.resolve(incident.id, { note: "retry later", rootCause: "external" });
    clock.advance(23 * HOUR);
    const again = written(await report.executionFailed(failure("run_2", "evt_1")));
    expect(again).toMatchObject({ outcome: "reopened", incident: { id: incident.id, status: "open", acknowledgedAt: null, resolution: null, occurrences: 2, version: 4 } });
    expect(reopened).toEqual([incident.id]);
    const detail = await ops.get(incident.id);
    expect(detail.activity.at(-1)).toMatchObject({ type: "reopened", actor: { type: "system" }, before: { status: "resolved", resolution: { note: "retry later" } } });
  });

  it("opens a new incident when the match was resolved more than 24 h ago", async () => {
    const { report, ops, clock } = setup();
    const { incident } = written(await report.executionFailed(failure("run_1", "evt_1")));
    await ops.resolve(incident.id, { note: "fixed", rootCause: "connector_failure" });
    clock.advance(25 * HOUR);
    const next = written(await report.executionFailed(failure("run_2", "evt_1")));
    expect(next.outcome).toBe("created");
    expect(next.incident.number).toBe(2);
    expect((await ops.get(incident.id)).status).toBe("resolved");
  });

  it("never merges approvals", async () => {
    const { report } = setup();
    const reject = async (id: string) => written(await report.approvalRejected({ runId: "run_1", eventId: id, action: refund, approval: { id, decidedBy: "usr_lee" } }));
    const [a, b] = [await reject("apr_1"), await reject("apr_2")];
    expect(a.incident.id).not.toBe(b.incident.id);
  });

  it("has as many occurrences as distinct (runId, eventId) reported, whatever the retries", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("run_1", "run_2", "run_3"), fc.constantFrom("e1", "e2", "e3", "e4")), { minLength: 1, maxLength: 25 }),
        async (keys) => {
          const { report, ops, incidents } = setup();
          for (const [runId, eventId] of keys) written(await report.executionFailed(failure(runId, eventId)));
          const { items } = await ops.list();
          expect(items).toHaveLength(1);
          expect(items[0]!.occurrences).toBe(new Set(keys.map((k) => k.join("/"))).size);
          await incidents.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
