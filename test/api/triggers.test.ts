import { describe, expect, it } from "vitest";
import { limitPolicy, refund, setup, stripe } from "./helpers.js";
import { written } from "agent-incidents/testing";

describe("every seed trigger becomes an incident with the seed's severity", () => {
  it("a blocked high-impact refund is critical, linked to its run and event", async () => {
    const { report } = setup();
    const { incident, outcome } = written(await report.policyBlocked({
      runId: "run_1",
      eventId: "evt_7",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      action: refund,
      policy: limitPolicy,
      impact: "high",
    }));
    expect(outcome).toBe("created");
    expect(incident).toMatchObject({
      number: 1,
      workspaceId: "ws_acme",
      agentId: "agt_refunds",
      runId: "run_1",
      eventId: "evt_7",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      environment: "production",
      kind: "policy_blocked",
      severity: "critical",
      severityReason: { rule: "policy-blocked-high-impact" },
      status: "open",
      occurrences: 1,
      version: 1,
      title: 'Policy "Refund limit" blocked refund.create',
      trigger: { action: refund, policy: limitPolicy, impact: "high" },
    });
    expect(incident.id).toMatch(/^inc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(incident.createdAt).toBe("2026-06-01T09:00:00.000Z");
  });

  it("a low-impact block is medium", async () => {
    const { report } = setup();
    const { incident } = written(await report.policyBlocked({ runId: "r", eventId: "e", action: refund, policy: limitPolicy, impact: "low" }));
    expect(incident.severity).toBe("medium");
  });

  it("a connector failure is critical and its title names the provider and code", async () => {
    const { report } = setup();
    const { incident } = written(await report.executionFailed({
      runId: "run_2",
      eventId: "evt_1",
      action: refund,
      connector: stripe,
      error: { name: "StripeError", message: "Your card was declined", code: "card_declined", retryable: false },
    }));
    expect(incident).toMatchObject({ kind: "execution_failed", severity: "critical", title: "stripe failed to execute refund.create: card_declined" });
  });

  it("a rejected approval is high", async () => {
    const { report } = setup();
    const { incident } = written(await report.approvalRejected({
      runId: "run_3",
      eventId: "evt_2",
      action: refund,
      approval: { id: "apr_1", decidedBy: "usr_lee", reason: "customer not eligible" },
    }));
    expect(incident).toMatchObject({ kind: "approval_rejected", severity: "high", title: "usr_lee rejected refund.create" });
  });

  it("an errored run is high in production, low in development; a completed run is no incident", async () => {
    const { incidents, report } = setup();
    const dev = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_support", environment: "development" });
    const boom = new TypeError("cannot read properties of undefined (reading 'email')");
    const prod = written(await report.runEnded({ runId: "run_4", status: "errored", error: boom }));
    const local = written(await dev.runEnded({ runId: "run_5", status: "errored", error: boom }));
    expect(prod).toMatchObject({ outcome: "created", incident: { kind: "agent_error", severity: "high", eventId: "run.ended" } });
    expect(local?.incident.severity).toBe("low");
    expect(written(await report.runEnded({ runId: "run_6", status: "completed" }))).toBeNull();
    expect(written(await report.runEnded({ runId: "run_7", status: "escalated" }))).toBeNull();
  });

  it("an anomaly is medium", async () => {
    const { report } = setup();
    const { incident } = written(await report.anomaly({ runId: "run_8", eventId: "evt_3", pattern: "allow_with_alert:refund.create", detail: "refund above 300" }));
    expect(incident).toMatchObject({ kind: "anomaly", severity: "medium", title: "Anomaly: allow_with_alert:refund.create" });
  });

  it("a manual escalation takes the operator's severity and records who escalated", async () => {
    const { ops } = setup();
    const incident = await ops.escalate({ title: "Refunds to one customer look wrong", summary: "Three refunds in an hour", severity: "high", agentId: "agt_refunds" });
    expect(incident).toMatchObject({ kind: "manual", severity: "high", severityReason: { rule: "manual" }, runId: null, eventId: null });
    const detail = await ops.get(incident.id);
    expect(detail.activity[0]).toMatchObject({ type: "created", actor: { type: "user", id: "usr_ana", role: "operator" } });
  });

  it("report(signal) takes a whole signal", async () => {
    const { incidents } = setup();
    const { incident } = written(await incidents.report({
      kind: "execution_failed",
      workspaceId: "ws_acme",
      agentId: "agt_refunds",
      environment: "staging",
      runId: "run_9",
      eventId: "evt_9",
      action: refund,
      connector: stripe,
      error: { message: "timeout", code: "ETIMEDOUT" },
    }));
    expect(incident.severity).toBe("critical");
  });

  it("redacts secrets in what it stores", async () => {
    const { report, ops } = setup();
    const { incident } = written(await report.executionFailed({
      runId: "run_10",
      eventId: "evt_1",
      action: { type: "charge.create", payload: { card: "4242 4242 4242 4242", apiKey: "sk_live_abc" } },
      connector: stripe,
      error: { message: "declined for 4242424242424242", code: "card_declined" },
      context: { data: { authorization: "Bearer abcdefghijkl", customer: "cus_1" } },
    }));
    expect(JSON.stringify(incident)).not.toMatch(/4242|sk_live/);
    const context = await ops.context(incident.id);
    expect(context.snapshot?.data).toEqual({ authorization: "[REDACTED]", customer: "cus_1" });
    expect(JSON.stringify(context.snapshot)).not.toMatch(/4242|sk_live/);
  });
});
