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
export type SignalContext = z.infer<typeof SignalContextSchema>;

/** The action an agent asked to perform, e.g. `{ type: "refund.create", payload: { amount: 900 } }`. */
export const ActionSchema = z.object({
  type: z.string().trim().min(1, "must not be empty").max(200),
  id: IdSchema.optional(),
  payload: JsonRecordSchema.optional(),
});
export type Action = z.infer<typeof ActionSchema>;

export const PolicySchema = z.object({
  id: IdSchema,
  name: z.string().trim().min(1, "must not be empty").max(200),
  effect: z.enum(["allow", "allow_with_alert", "require_approval", "block"]),
  reason: z.string().optional(),
});
export type Policy = z.infer<typeof PolicySchema>;

export const ConnectorSchema = z.object({
  id: IdSchema,
  provider: z.string().trim().min(1, "must not be empty").max(100),
});
export type Connector = z.infer<typeof ConnectorSchema>;

export const ConnectorErrorSchema = z.object({
  name: z.string().max(200).optional(),
  message: z.string().min(1, "must not be empty"),
  code: z.string().max(200).optional(),
  retryable: z.boolean().optional(),
});
export type ConnectorError = z.infer<typeof ConnectorErrorSchema>;

export const ApprovalSchema = z.object({
  id: IdSchema,
  decidedBy: IdSchema,
  reason: z.string().optional(),
});
export type Approval = z.infer<typeof ApprovalSchema>;

export const AgentErrorInfoSchema = z.object({
  name: z.string().trim().min(1, "must not be empty").max(200),
  message: z.string(),
  stack: z.string().optional(),
});
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

export const PolicyBlockedSignalSchema = z.object({
  kind: z.literal("policy_blocked"),
  ...scope,
  action: ActionSchema,
  policy: PolicySchema,
  impact: ImpactSchema.optional(),
});

export const ExecutionFailedSignalSchema = z.object({
  kind: z.literal("execution_failed"),
  ...scope,
  action: ActionSchema,
  connector: ConnectorSchema,
  error: ConnectorErrorSchema,
});

export const ApprovalRejectedSignalSchema = z.object({
  kind: z.literal("approval_rejected"),
  ...scope,
  action: ActionSchema,
  approval: ApprovalSchema,
});

export const AgentErrorSignalSchema = z.object({
  kind: z.literal("agent_error"),
  ...scope,
  error: AgentErrorInfoSchema,
});

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

export type PolicyBlockedSignal = z.infer<typeof PolicyBlockedSignalSchema>;
export type ExecutionFailedSignal = z.infer<typeof ExecutionFailedSignalSchema>;
export type ApprovalRejectedSignal = z.infer<typeof ApprovalRejectedSignalSchema>;
export type AgentErrorSignal = z.infer<typeof AgentErrorSignalSchema>;
export type AnomalySignal = z.infer<typeof AnomalySignalSchema>;
export type ManualSignal = z.infer<typeof ManualSignalSchema>;
export type Signal = z.infer<typeof SignalSchema>;
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
