import { z } from "zod";
import type { ActivityActor } from "./core/incident.js";
import { toPlain } from "./core/plain.js";
import { EnvironmentSchema, IdSchema, parseOrThrow, SpanIdSchema, TagSchema, TraceIdSchema } from "./core/schemas.js";
import {
  AgentErrorInfoSchema,
  AnomalySignalSchema,
  ApprovalRejectedSignalSchema,
  ExecutionFailedSignalSchema,
  PolicyBlockedSignalSchema,
  ReportableSignalSchema,
  SignalContextSchema,
  type AgentErrorSignal,
  type ReportableSignal,
} from "./core/signals.js";
import type { Engine, ReportResult } from "./engine.js";

/** Where a reporter's signals come from: one agent in one workspace and environment. */
export const ReporterScopeSchema = z.object({
  workspaceId: IdSchema,
  agentId: IdSchema,
  environment: EnvironmentSchema,
});
/** Where a reporter's signals come from: its workspace, agent and environment. */
export type ReporterScope = z.infer<typeof ReporterScopeSchema>;

/** Fields a reporter fills in itself. */
export type ScopeKeys = "kind" | "workspaceId" | "agentId" | "environment";
/** Input of `report.policyBlocked(...)`: the signal without what the reporter already knows. */
export type PolicyBlockedInput = Omit<z.input<typeof PolicyBlockedSignalSchema>, ScopeKeys>;
/** Input of `report.executionFailed(...)`: the signal without what the reporter already knows. */
export type ExecutionFailedInput = Omit<z.input<typeof ExecutionFailedSignalSchema>, ScopeKeys>;
/** Input of `report.approvalRejected(...)`: the signal without what the reporter already knows. */
export type ApprovalRejectedInput = Omit<z.input<typeof ApprovalRejectedSignalSchema>, ScopeKeys>;
/** Input of `report.anomaly(...)`: the signal without what the reporter already knows. */
export type AnomalyInput = Omit<z.input<typeof AnomalySignalSchema>, ScopeKeys>;

/** How a run ended; only `errored` creates an incident. */
export const RunEndedSchema = z
  .object({
    runId: IdSchema,
    status: z.enum(["completed", "errored", "escalated"]),
    error: AgentErrorInfoSchema.optional(),
    /** Defaults to `"run.ended"`: the idempotency key is then (runId, "run.ended"). */
    eventId: IdSchema.optional(),
    traceId: TraceIdSchema.optional(),
    spanId: SpanIdSchema.optional(),
    tags: z.array(TagSchema).max(50).optional(),
    context: SignalContextSchema.optional(),
  })
  .refine((run) => run.status !== "errored" || run.error !== undefined, {
    message: "is required when status is errored",
    path: ["error"],
  });
/** Input of `report.runEnded(...)`: the run's id and how it ended, with the error when it errored. */
export type RunEndedInput = z.input<typeof RunEndedSchema>;

const SYSTEM: ActivityActor = { type: "system", id: "reporter", role: null };

/** The runtime side: one per agent. Every method validates, never throws synchronously. */
export interface Reporter {
  /** The workspace, agent and environment every signal of this reporter carries. */
  readonly scope: Readonly<ReporterScope>;
  /**
   * Reports that a policy blocked an action the agent asked for: medium by default, critical for
   * high or critical impact.
   */
  policyBlocked(input: PolicyBlockedInput): Promise<ReportResult>;
  /** Reports that a connector failed to execute an approved action: critical by default. */
  executionFailed(input: ExecutionFailedInput): Promise<ReportResult>;
  /**
   * Reports that an approver rejected an action the agent asked for: high by default, and never
   * merged into an existing incident.
   */
  approvalRejected(input: ApprovalRejectedInput): Promise<ReportResult>;
  /** Resolves to `null` unless `status` is `errored`. */
  runEnded(input: RunEndedInput): Promise<ReportResult | null>;
  /** Reports an unusual pattern in the agent's behaviour: medium by default. */
  anomaly(input: AnomalyInput): Promise<ReportResult>;
}

/** Validates a whole signal and reports it. */
export function reportSignal(engine: Engine, signal: unknown): Promise<ReportResult> {
  return engine.run(async () => {
    const plain = toPlain(signal, "reported signal");
    return ingestPlain(engine, plain, `${kindOf(plain)} signal`);
  });
}

/** Reports input that `toPlain` already copied: validates it, then ingests it. */
function ingestPlain(engine: Engine, plain: unknown, subject: string): Promise<ReportResult> {
  const parsed: ReportableSignal = parseOrThrow(ReportableSignalSchema, plain, subject);
  return engine.ingest(parsed, { ...SYSTEM, id: `agent:${parsed.agentId}` });
}

export function createReporter(engine: Engine, scopeInput: unknown): Reporter {
  const scope = Object.freeze(parseOrThrow(ReporterScopeSchema, scopeInput, "reporter scope"));
  // the input is copied inside engine.run: a getter that throws rejects, it never throws here
  const send = <K extends ReportableSignal["kind"]>(kind: K, input: unknown) =>
    engine.run(async () => {
      const plain = toPlain(input, `${kind} input`);
      return ingestPlain(engine, { ...(isRecord(plain) ? plain : { input: plain }), ...scope, kind }, `${kind} signal`);
    });

  return {
    scope,
    policyBlocked: (input) => send("policy_blocked", input),
    executionFailed: (input) => send("execution_failed", input),
    approvalRejected: (input) => send("approval_rejected", input),
    anomaly: (input) => send("anomaly", input),
    runEnded: (input) =>
      engine.run(async () => {
        const run = parseOrThrow(RunEndedSchema, toPlain(input, "runEnded input"), "runEnded input");
        if (run.status !== "errored" || !run.error) return null;
        const { status: _status, ...rest } = run;
        const signal: AgentErrorSignal = { ...rest, ...scope, kind: "agent_error", eventId: run.eventId ?? "run.ended", error: run.error };
        return engine.ingest(signal, { ...SYSTEM, id: `agent:${scope.agentId}` });
      }),
  };
}

function kindOf(signal: unknown): string {
  return isRecord(signal) && typeof signal["kind"] === "string" ? signal["kind"] : "reported";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
