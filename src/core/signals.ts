import { z } from "zod";
import {
  EnvironmentSchema,
  IdSchema,
  ImpactSchema,
  JsonRecordSchema,
  nonEmptyText,
  SeveritySchema,
  TagSchema,
  SpanIdSchema,
  TimestampSchema,
  TraceIdSchema,
} from "./schemas.js";

/** One event of a run's timeline. */
export const RunEventSchema = z.object({
  id: IdSchema,
  type: z.string().min(1, "must not be empty").max(200),
  at: TimestampSchema,
  data: JsonRecordSchema.optional(),
});
/** One event of a run's timeline: its id, type, ISO time and optional data. */
export type RunEvent = z.infer<typeof RunEventSchema>;

/**
 * What the runtime knew when the signal fired; redacted and size-capped before it is stored.
 * Free text in a signal (messages, stacks, reasons, payloads) is never refused for its size: it
 * is cut and marked, so a huge error still makes its incident.
 */
export const SignalContextSchema = z.object({
  events: z.array(RunEventSchema).optional(),
  data: JsonRecordSchema.optional(),
});
/** What the runtime knew when a signal fired: recent run events and free-form data. */
export type SignalContext = z.infer<typeof SignalContextSchema>;

/** The action an agent asked to perform, e.g. `{ type: "refund.create", payload: { amount: 900 } }`. */
export const ActionSchema = z.object({
  type: z.string().trim().min(1, "must not be empty").max(200),
  id: IdSchema.optional(),
  payload: JsonRecordSchema.optional(),
});
/** The action an agent asked to perform: its type, and optionally its id and payload. */
export type Action = z.infer<typeof ActionSchema>;

/** Validates the policy that judged an action: its id, name and effect, and optionally why. */
export const PolicySchema = z.object({
  id: IdSchema,
  name: z.string().trim().min(1, "must not be empty").max(200),
  effect: z.enum(["allow", "allow_with_alert", "require_approval", "block"]),
  reason: z.string().optional(),
});
/** The policy that judged an action, e.g. `{ id: "pol_refunds", name: "Refund limit", effect: "block" }`. */
export type Policy = z.infer<typeof PolicySchema>;

/** Validates the connector that ran an action: its id and provider. */
export const ConnectorSchema = z.object({
  id: IdSchema,
  provider: z.string().trim().min(1, "must not be empty").max(100),
});
/** The connector that executed an action, e.g. `{ id: "stripe-prod", provider: "stripe" }`. */
export type Connector = z.infer<typeof ConnectorSchema>;

/** Validates the error a connector returned: a message, and optionally a name, a code and whether a retry may help. */
export const ConnectorErrorSchema = z.object({
  name: z.string().max(200).optional(),
  message: z.string().min(1, "must not be empty"),
  code: z.string().max(200).optional(),
  retryable: z.boolean().optional(),
});
/** The error a connector returned when it failed to execute an action. */
export type ConnectorError = z.infer<typeof ConnectorErrorSchema>;

/** Validates an approval decision: its id, who decided, and optionally why. */
export const ApprovalSchema = z.object({
  id: IdSchema,
  decidedBy: IdSchema,
  reason: z.string().optional(),
});
/** An approval decision on an action: which request, who decided it and why. */
export type Approval = z.infer<typeof ApprovalSchema>;

/** Validates the error a run ended with: its name and message, and optionally its stack. */
export const AgentErrorInfoSchema = z.object({
  name: z.string().trim().min(1, "must not be empty").max(200),
  message: z.string(),
  stack: z.string().optional(),
});
/** The error an agent run ended with: a thrown error's name, message and stack. */
export type AgentErrorInfo = z.infer<typeof AgentErrorInfoSchema>;

/** Fields every signal carries: where it happened. */
const scope = {
  workspaceId: IdSchema,
  agentId: IdSchema,
  environment: EnvironmentSchema,
  runId: IdSchema,
  eventId: IdSchema,
  traceId: TraceIdSchema.optional(),
  spanId: SpanIdSchema.optional(),
  tags: z.array(TagSchema).max(50).optional(),
  context: SignalContextSchema.optional(),
};

/** Validates a `policy_blocked` signal: a policy blocked an action the agent asked for. */
export const PolicyBlockedSignalSchema = z.object({
  kind: z.literal("policy_blocked"),
  ...scope,
  action: ActionSchema,
  policy: PolicySchema,
  impact: ImpactSchema.optional(),
});

/** Validates an `execution_failed` signal: a connector failed to execute an approved action. */
export const ExecutionFailedSignalSchema = z.object({
  kind: z.literal("execution_failed"),
  ...scope,
  action: ActionSchema,
  connector: ConnectorSchema,
  error: ConnectorErrorSchema,
});

/** Validates an `approval_rejected` signal: an approver rejected an action the agent asked for. */
export const ApprovalRejectedSignalSchema = z.object({
  kind: z.literal("approval_rejected"),
  ...scope,
  action: ActionSchema,
  approval: ApprovalSchema,
});

/** Validates an `agent_error` signal: a run ended in error. */
export const AgentErrorSignalSchema = z.object({
  kind: z.literal("agent_error"),
  ...scope,
  error: AgentErrorInfoSchema,
});

/** Validates an `anomaly` signal: an unusual pattern was detected, optionally with detail. */
export const AnomalySignalSchema = z.object({
  kind: z.literal("anomaly"),
  ...scope,
  pattern: z.string().trim().min(1, "must not be empty").max(200),
  detail: z.union([z.string(), JsonRecordSchema]).optional(),
});

/** An operator's escalation. Agent, run and event are optional here. */
export const ManualSignalSchema = z.object({
  kind: z.literal("manual"),
  ...scope,
  agentId: IdSchema.optional(),
  runId: IdSchema.optional(),
  eventId: IdSchema.optional(),
  title: nonEmptyText(300),
  summary: z.string().max(8192).optional(),
  severity: SeveritySchema,
});

/** Every signal the runtime can report, discriminated on `kind`. */
export const SignalSchema = z.discriminatedUnion("kind", [
  PolicyBlockedSignalSchema,
  ExecutionFailedSignalSchema,
  ApprovalRejectedSignalSchema,
  AgentErrorSignalSchema,
  AnomalySignalSchema,
  ManualSignalSchema,
]);

/** What `incidents.report(signal)` accepts: every kind but `manual` (escalate needs an actor). */
export const ReportableSignalSchema = z.discriminatedUnion("kind", [
  PolicyBlockedSignalSchema,
  ExecutionFailedSignalSchema,
  ApprovalRejectedSignalSchema,
  AgentErrorSignalSchema,
  AnomalySignalSchema,
]);

/** A report that a policy blocked an action the agent asked for. */
export type PolicyBlockedSignal = z.infer<typeof PolicyBlockedSignalSchema>;
/** A report that a connector failed to execute an approved action. */
export type ExecutionFailedSignal = z.infer<typeof ExecutionFailedSignalSchema>;
/** A report that an approver rejected an action the agent asked for. */
export type ApprovalRejectedSignal = z.infer<typeof ApprovalRejectedSignalSchema>;
/** A report that an agent run ended in error. */
export type AgentErrorSignal = z.infer<typeof AgentErrorSignalSchema>;
/** A report of an unusual pattern in an agent's behaviour. */
export type AnomalySignal = z.infer<typeof AnomalySignalSchema>;
/** An operator's escalation: a title, a chosen severity and optionally a summary; agent, run and event are optional. */
export type ManualSignal = z.infer<typeof ManualSignalSchema>;
/** Any signal, discriminated on `kind`: what creates an incident, recurs one or reopens a resolved one. */
export type Signal = z.infer<typeof SignalSchema>;
/** A signal `incidents.report` accepts: any kind but `manual`. */
export type ReportableSignal = z.infer<typeof ReportableSignalSchema>;

/** The kind-specific payload kept on the incident as `trigger`. */
export function triggerOf(signal: Signal): Record<string, unknown> {
  switch (signal.kind) {
    case "policy_blocked":
      return { action: signal.action, policy: signal.policy, impact: signal.impact ?? null };
    case "execution_failed":
      return { action: signal.action, connector: signal.connector, error: signal.error };
    case "approval_rejected":
      return { action: signal.action, approval: signal.approval };
    case "agent_error":
      return { error: signal.error };
    case "anomaly":
      return { pattern: signal.pattern, detail: signal.detail ?? null };
    case "manual":
      return { title: signal.title, summary: signal.summary ?? null, severity: signal.severity };
  }
}
