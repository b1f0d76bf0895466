import type {
  AgentErrorSignal,
  AnomalySignal,
  ApprovalRejectedSignal,
  ExecutionFailedSignal,
  PolicyBlockedSignal,
} from "../core/signals.js";

/** Where fixture signals come from. */
export type FixtureScope = Pick<PolicyBlockedSignal, "workspaceId" | "agentId" | "environment">;
type Overrides<T> = Partial<Omit<T, "kind">>;

/**
 * Builders of valid signals for `incidents.report(...)`, each with a fresh `eventId`; `overrides`
 * replace any field but `kind`.
 */
export interface SignalFixtures {
  /** A `policy_blocked` signal: a refund of 900 blocked by the "Refund limit" policy, high impact. */
  policyBlocked(overrides?: Overrides<PolicyBlockedSignal>): PolicyBlockedSignal;
  /** An `execution_failed` signal: the Stripe connector declined a refund of 900. */
  executionFailed(overrides?: Overrides<ExecutionFailedSignal>): ExecutionFailedSignal;
  /** An `approval_rejected` signal: an approver rejected a refund of 900 as not eligible. */
  approvalRejected(overrides?: Overrides<ApprovalRejectedSignal>): ApprovalRejectedSignal;
  /** An `agent_error` signal: the run ended in a `TypeError`. */
  agentError(overrides?: Overrides<AgentErrorSignal>): AgentErrorSignal;
  /** An `anomaly` signal: pattern `refund_spike`, 12 refunds in 5 minutes. */
  anomaly(overrides?: Overrides<AnomalySignal>): AnomalySignal;
}

/**
 * Signal builders for tests. Each call gets the next `eventId` (`evt_1`, `evt_2`, ...) so that
 * reports are distinct occurrences unless you pass the same `runId` and `eventId` on purpose.
 *
 * @example
 * ```ts
 * const signals = createFixtures({ workspaceId: "ws_test" });
 * await incidents.report(signals.executionFailed({ error: { message: "timeout", code: "ETIMEDOUT" } }));
 * ```
 */
export function createFixtures(scope: Partial<FixtureScope> = {}): SignalFixtures {
  let n = 0;
  const base = () => ({
    workspaceId: scope.workspaceId ?? "ws_test",
    agentId: scope.agentId ?? "agt_test",
    environment: scope.environment ?? ("production" as const),
    runId: "run_1",
    eventId: `evt_${++n}`,
  });
  const refund = { type: "refund.create", payload: { amount: 900, currency: "usd" } };
  return {
    policyBlocked: (o = {}) => ({
      kind: "policy_blocked",
      ...base(),
      action: refund,
      policy: { id: "pol_refund_limit", name: "Refund limit", effect: "block", reason: "amount over 500" },
      impact: "high",
      ...o,
    }),
    executionFailed: (o = {}) => ({
      kind: "execution_failed",
      ...base(),
      action: refund,
      connector: { id: "con_stripe", provider: "stripe" },
      error: { name: "StripeError", message: "card_declined", code: "card_declined", retryable: false },
      ...o,
    }),
    approvalRejected: (o = {}) => ({
      kind: "approval_rejected",
      ...base(),
      action: refund,
      approval: { id: `apr_${n}`, decidedBy: "usr_approver", reason: "not eligible" },
      ...o,
    }),
    agentError: (o = {}) => ({
      kind: "agent_error",
      ...base(),
      error: { name: "TypeError", message: "cannot read properties of undefined" },
      ...o,
    }),
    anomaly: (o = {}) => ({
      kind: "anomaly",
      ...base(),
      pattern: "refund_spike",
      detail: "12 refunds in 5 minutes",
      ...o,
    }),
  };
}
