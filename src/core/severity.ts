import { CallbackError, describeError } from "./errors.js";
import { maxSeverity, SEVERITIES, severityRank, type Severity } from "./schemas.js";
import { cleanText, truncateString } from "./text.js";
import type { Signal } from "./signals.js";

/** What a rule may know beyond the signal: how often its fingerprint was seen lately. */
export interface SeverityHistory {
  /** Occurrences of this signal's fingerprint within the repeat window, this one included. */
  recentOccurrences: number;
}

/**
 * One severity rule: a pure function of the signal and its history. Rules are tried in order and
 * the first one that returns a severity wins; its `name` and `explanation` are stored on the
 * incident as `severityReason`.
 *
 * @example
 * ```ts
 * const vipRefunds: SeverityRule = {
 *   name: "vip-refund",
 *   explanation: "Refunds for VIP customers are always critical.",
 *   match: (signal) =>
 *     signal.kind === "policy_blocked" && signal.action.payload?.["tier"] === "vip" ? "critical" : null,
 * };
 * createIncidents({ severityRules: [vipRefunds, ...defaultSeverityRules] });
 * ```
 */
export interface SeverityRule {
  /** Stable identifier, stored as `severityReason.rule`. */
  readonly name: string;
  /** One line saying why the rule assigns its severity, stored as `severityReason.explanation`. */
  readonly explanation: string;
  /** The severity for this signal, or `null` to let the next rule decide. Must be pure. */
  match(signal: Signal, history: SeverityHistory): Severity | null;
}

/** How many occurrences within what window raise severity to at least `high`. */
export interface RepeatPolicy {
  count: number;
  windowMs: number;
}

/** The default repeat policy: 3 occurrences of a fingerprint within an hour raise its severity to at least `high`. */
export const DEFAULT_REPEAT: RepeatPolicy = { count: 3, windowMs: 60 * 60 * 1000 };

/** The seed's severity table, in order. */
export const defaultSeverityRules: readonly SeverityRule[] = [
  {
    name: "manual",
    explanation: "Escalated by an operator with a chosen severity.",
    match: (s) => (s.kind === "manual" ? s.severity : null),
  },
  {
    name: "execution-failed",
    explanation: "A connector failed to execute an approved action.",
    match: (s) => (s.kind === "execution_failed" ? "critical" : null),
  },
  {
    name: "policy-blocked-high-impact",
    explanation: "A policy blocked an action with high or critical impact.",
    match: (s) => (s.kind === "policy_blocked" && (s.impact === "high" || s.impact === "critical") ? "critical" : null),
  },
  {
    name: "policy-blocked",
    explanation: "A policy blocked an action with low, medium or unspecified impact.",
    match: (s) => (s.kind === "policy_blocked" ? "medium" : null),
  },
  {
    name: "approval-rejected",
    explanation: "An approver rejected an action the agent requested.",
    match: (s) => (s.kind === "approval_rejected" ? "high" : null),
  },
  {
    name: "anomaly",
    explanation: "An unusual pattern was detected.",
    match: (s) => (s.kind === "anomaly" ? "medium" : null),
  },
  {
    name: "agent-error-production",
    explanation: "A run ended in error in production.",
    match: (s) => (s.kind === "agent_error" && s.environment === "production" ? "high" : null),
  },
  {
    name: "agent-error-staging",
    explanation: "A run ended in error in staging.",
    match: (s) => (s.kind === "agent_error" && s.environment === "staging" ? "medium" : null),
  },
  {
    name: "agent-error",
    explanation: "A run ended in error outside production and staging.",
    match: (s) => (s.kind === "agent_error" ? "low" : null),
  },
];

/** What `explainSeverity` answers. */
export interface SeverityExplanation {
  severity: Severity;
  rule: string;
  explanation: string;
}

/**
 * Options of {@link explainSeverity}: the rules to try (default {@link defaultSeverityRules}), the
 * fingerprint's recent occurrences (default 1) and the repeat policy (default {@link DEFAULT_REPEAT}).
 */
export interface ExplainSeverityOptions {
  rules?: readonly SeverityRule[];
  history?: SeverityHistory;
  repeat?: RepeatPolicy;
}

const FALLBACK: SeverityExplanation = {
  severity: "medium",
  rule: "fallback",
  explanation: "No severity rule matched; medium by default.",
};

/**
 * Which rule decides this signal's severity, and why. Synchronous and pure. The repeat policy is
 * a floor applied after the first match: a fingerprint seen `repeat.count` times within
 * `repeat.windowMs` is at least `high`.
 */
export function explainSeverity(signal: Signal, options: ExplainSeverityOptions = {}): SeverityExplanation {
  const rules = options.rules ?? defaultSeverityRules;
  const history = options.history ?? { recentOccurrences: 1 };
  const repeat = options.repeat ?? DEFAULT_REPEAT;
  let base = FALLBACK;
  for (const [index, rule] of rules.entries()) {
    const matched = matchRule(rule, index, signal, history);
    if (matched !== null) {
      base = matched;
      break;
    }
  }
  if (signal.kind === "manual" || history.recentOccurrences < repeat.count) return base;
  const raised = maxSeverity(base.severity, "high");
  if (raised === base.severity) return base;
  return {
    severity: raised,
    rule: "repeated-failures",
    explanation: `Seen ${history.recentOccurrences} times within ${formatDuration(repeat.windowMs)}, so at least high (${base.rule} alone gives ${base.severity}).`,
  };
}

/**
 * A host's rule, run so that its mistakes are named as its own: a `CallbackError`. What it says
 * about itself is stored on incidents, so it is cleaned and capped like any other text.
 */
function matchRule(rule: SeverityRule, index: number, signal: Signal, history: SeverityHistory): SeverityExplanation | null {
  const option = `severityRules[${index}]`;
  try {
    const result: unknown = rule.match(signal, history);
    if (result === null || result === undefined) return null;
    const name = cleanText(truncateString(String(rule.name), 200));
    if (typeof result !== "string" || !(SEVERITIES as readonly string[]).includes(result)) {
      throw new CallbackError(option, `rule ${name} returned ${typeof result === "string" ? JSON.stringify(result.slice(0, 50)) : typeof result}; expected critical, high, medium, low or null`);
    }
    return { severity: result as Severity, rule: name, explanation: cleanText(truncateString(String(rule.explanation), 1000)) };
  } catch (error) {
    if (error instanceof CallbackError) throw error;
    throw new CallbackError(option, `the rule threw: ${describeError(error)}`, { cause: error });
  }
}

/** True when `next` is more severe than `current`. */
export function isRaise(current: Severity, next: Severity): boolean {
  return severityRank(next) > severityRank(current);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
