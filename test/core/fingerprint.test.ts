import { describe, expect, it } from "vitest";
import { fingerprintOf } from "agent-incidents";
// the engine's own rule, not part of the public API
import { mergesByFingerprint } from "../../src/core/fingerprint.js";
import { createFixtures } from "agent-incidents/testing";

const signals = createFixtures();

describe("fingerprints", () => {
  it("groups by policy and action type, ignoring run and event", () => {
    expect(fingerprintOf(signals.policyBlocked({ runId: "a" }))).toBe(fingerprintOf(signals.policyBlocked({ runId: "b" })));
    expect(fingerprintOf(signals.policyBlocked())).not.toBe(
      fingerprintOf(signals.policyBlocked({ action: { type: "email.send" } })),
    );
  });

  it("groups connector failures by connector, action type and error code", () => {
    const base = signals.executionFailed();
    expect(fingerprintOf(base)).toBe(fingerprintOf(signals.executionFailed({ error: { ...base.error, message: "other text" } })));
    expect(fingerprintOf(base)).not.toBe(fingerprintOf(signals.executionFailed({ error: { ...base.error, code: "rate_limited" } })));
    expect(fingerprintOf(signals.executionFailed({ error: { message: "x" } }))).toMatch(/:$/);
  });

  it("is scoped by agent and environment", () => {
    const a = signals.agentError();
    expect(fingerprintOf(a)).not.toBe(fingerprintOf(signals.agentError({ agentId: "agt_other" })));
    expect(fingerprintOf(a)).not.toBe(fingerprintOf(signals.agentError({ environment: "staging" })));
  });

  it("never merges approvals or manual escalations", () => {
    expect(mergesByFingerprint(signals.approvalRejected())).toBe(false);
    expect(mergesByFingerprint(signals.anomaly())).toBe(true);
    expect(fingerprintOf(signals.approvalRejected())).not.toBe(fingerprintOf(signals.approvalRejected()));
  });
});
