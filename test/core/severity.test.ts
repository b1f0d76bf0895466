import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultSeverityRules, explainSeverity, severityRank, type Incident, type Signal } from "agent-incidents";
// the engine's pure ingest step, not part of the public API
import { decideIngest } from "../../src/core/ingest.js";
import { createFixtures } from "agent-incidents/testing";

const signals = createFixtures();

describe("severity rules", () => {
  it.each([
    ["execution_failed", signals.executionFailed(), "critical", "execution-failed"],
    ["policy_blocked, high impact", signals.policyBlocked({ impact: "high" }), "critical", "policy-blocked-high-impact"],
    ["policy_blocked, critical impact", signals.policyBlocked({ impact: "critical" }), "critical", "policy-blocked-high-impact"],
    ["policy_blocked, medium impact", signals.policyBlocked({ impact: "medium" }), "medium", "policy-blocked"],
    ["policy_blocked, low impact", signals.policyBlocked({ impact: "low" }), "medium", "policy-blocked"],
    ["policy_blocked, no impact", signals.policyBlocked({ impact: undefined }), "medium", "policy-blocked"],
    ["approval_rejected", signals.approvalRejected(), "high", "approval-rejected"],
    ["anomaly", signals.anomaly(), "medium", "anomaly"],
    ["agent_error in production", signals.agentError({ environment: "production" }), "high", "agent-error-production"],
    ["agent_error in staging", signals.agentError({ environment: "staging" }), "medium", "agent-error-staging"],
    ["agent_error in development", signals.agentError({ environment: "development" }), "low", "agent-error"],
    ["agent_error in test", signals.agentError({ environment: "test" }), "low", "agent-error"],
  ] as const)("%s is %s", (_name, signal, severity, rule) => {
    const explained = explainSeverity(signal);
    expect(explained).toMatchObject({ severity, rule });
    expect(explained.explanation.length).toBeGreaterThan(10);
  });

  it("takes the operator's choice for a manual escalation", () => {
    const manual: Signal = { kind: "manual", workspaceId: "ws", environment: "production", title: "Refunds look wrong", severity: "low" };
    expect(explainSeverity(manual)).toMatchObject({ severity: "low", rule: "manual" });
    expect(explainSeverity(manual, { history: { recentOccurrences: 10 } }).severity).toBe("low");
  });

  it("raises repeated failures to at least high once the fingerprint recurs N times in the window", () => {
    const anomaly = signals.anomaly();
    expect(explainSeverity(anomaly, { history: { recentOccurrences: 2 } }).severity).toBe("medium");
    const raised = explainSeverity(anomaly, { history: { recentOccurrences: 3 } });
    expect(raised).toMatchObject({ severity: "high", rule: "repeated-failures" });
    expect(raised.explanation).toContain("3 times within 1 h");
    expect(explainSeverity(signals.executionFailed(), { history: { recentOccurrences: 9 } }).severity).toBe("critical");
    expect(explainSeverity(anomaly, { history: { recentOccurrences: 2 }, repeat: { count: 2, windowMs: 60_000 } }).severity).toBe("high");
  });

  it("lets hosts put their own rules first, and falls back to medium when nothing matches", () => {
    const vip = {
      name: "vip",
      explanation: "VIP refunds are critical.",
      match: (s: Signal) => (s.kind === "anomaly" && s.pattern === "vip" ? ("critical" as const) : null),
    };
    expect(explainSeverity(signals.anomaly({ pattern: "vip" }), { rules: [vip, ...defaultSeverityRules] }).rule).toBe("vip");
    expect(explainSeverity(signals.anomaly(), { rules: [vip] })).toMatchObject({ severity: "medium", rule: "fallback" });
  });

  it("never lowers severity automatically, whatever the recurrences", () => {
    const kinds = [signals.anomaly(), signals.agentError({ environment: "development" }), signals.policyBlocked({ impact: "low" }), signals.executionFailed()];
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 30 }), fc.boolean(), (signal, counts, pinned) => {
        const base = {
          signal,
          fingerprint: "fp",
          incidentId: "inc_1",
          activityId: "act_1",
          actor: { type: "system" as const, id: "test", role: null },
          rules: defaultSeverityRules,
          repeat: { count: 3, windowMs: 3_600_000 },
          reopenWithinMs: 86_400_000,
        };
        let incident: Incident | null = null;
        let t = Date.UTC(2026, 0, 1);
        for (const recent of counts) {
          t += 60_000;
          const decision = decideIngest({ ...base, now: new Date(t).toISOString() }, incident, recent);
          const next: Incident = decision.outcome === "created" ? { ...decision.incident, number: 1, severityPinned: pinned } : decision.incident;
          if (incident) {
            expect(severityRank(next.severity)).toBeGreaterThanOrEqual(severityRank(incident.severity));
            if (incident.severityPinned) expect(next.severity).toBe(incident.severity);
          }
          incident = next;
        }
      }),
    );
  });
});
