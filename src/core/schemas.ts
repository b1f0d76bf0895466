import { z } from "zod";
import { describeError, ValidationError, type ValidationIssue } from "./errors.js";
import { isPlainRecord } from "./plain.js";
import { cleanText, isSafeId } from "./text.js";

/** Severities, most severe first. */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
/** Validates a severity: one of {@link SEVERITIES}. */
export const SeveritySchema = z.enum(SEVERITIES);
/** How severe an incident is: critical > high > medium > low. */
export type Severity = z.infer<typeof SeveritySchema>;

/** Incident statuses, in lifecycle order (see {@link TRANSITIONS} for the allowed moves). */
export const STATUSES = ["open", "acknowledged", "investigating", "resolved"] as const;
/** Validates an incident status: one of {@link STATUSES}. */
export const StatusSchema = z.enum(STATUSES);
/** Where an incident is in its lifecycle: open, acknowledged, investigating or resolved. */
export type Status = z.infer<typeof StatusSchema>;

/** Incident kinds, one per signal kind; `manual` is an operator's escalation, `group` gathers incidents that fail alike. */
export const KINDS = [
  "policy_blocked",
  "execution_failed",
  "approval_rejected",
  "agent_error",
  "anomaly",
  "manual",
  "group",
] as const;
/** Validates an incident kind: one of {@link KINDS}. */
export const KindSchema = z.enum(KINDS);
/** What raised an incident: the `kind` of the signal that created it. */
export type Kind = z.infer<typeof KindSchema>;

/** Validates the environment a signal came from: production, staging, development or test. */
export const EnvironmentSchema = z.enum(["production", "staging", "development", "test"]);
/** The environment an agent ran in; the default severity rules rank an agent error by it. */
export type Environment = z.infer<typeof EnvironmentSchema>;

/** Validates an actor's role: admin, operator, approver or viewer. */
export const RoleSchema = z.enum(["admin", "operator", "approver", "viewer"]);
/** An actor's role, which decides what the actor may do (see {@link defaultAuthorize}). */
export type Role = z.infer<typeof RoleSchema>;

/** Validates the impact of a blocked action: low, medium, high or critical. */
export const ImpactSchema = z.enum(["low", "medium", "high", "critical"]);
/** How much harm a blocked action could have done; high or critical makes a policy_blocked incident critical. */
export type Impact = z.infer<typeof ImpactSchema>;

/** Validates the root cause an operator gives when resolving an incident. */
export const RootCauseSchema = z.enum([
  "policy_issue",
  "connector_failure",
  "agent_bug",
  "bad_input",
  "external",
  "other",
]);
/** Why an incident happened, as the operator who resolved it classified it. */
export type RootCause = z.infer<typeof RootCauseSchema>;

/** Validates one action taken to resolve an incident. */
export const ResolutionActionSchema = z.enum([
  "policy_updated",
  "connector_fixed",
  "agent_restarted",
  "customer_contacted",
  "other",
]);
/** One thing done to resolve an incident, e.g. `policy_updated` or `agent_restarted`. */
export type ResolutionAction = z.infer<typeof ResolutionActionSchema>;

/**
 * A non-empty identifier of at most 200 characters, without NUL or unpaired surrogates (stores
 * disagree on those, so they could merge two ids into one).
 */
export const IdSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .refine(isSafeId, "must not contain NUL or unpaired surrogate characters");

/**
 * Text that must say something: not empty once trimmed and cleaned (a note of only NUL
 * characters would be stored empty).
 */
export function nonEmptyText(max: number, message = "must not be empty") {
  return z
    .string()
    .trim()
    .min(1, message)
    .max(max, `must be at most ${max} characters`)
    // an empty string already failed min(1): one issue, not two
    .refine((text) => text.trim().length === 0 || cleanText(text).trim().length > 0, message);
}

/** A tag: 1 to 100 characters of text. */
export const TagSchema = nonEmptyText(100);

/** ISO-8601 UTC timestamp as stored on incidents, e.g. `2026-01-02T03:04:05.678Z`. */
export const TimestampSchema = z.iso.datetime({ offset: false });

/**
 * A JSON object. Checked, not copied: a copy through `z.record` would turn a `__proto__` key
 * into the object's prototype.
 */
export const JsonRecordSchema = z.custom<Record<string, unknown>>(isPlainRecord, { message: "must be an object" });

/** W3C trace-context ids, for OpenTelemetry users. */
export const TraceIdSchema = z.string().regex(/^[0-9a-f]{32}$/, "must be 32 lowercase hex characters (W3C trace id)");
/** A W3C span id: 16 lowercase hex characters. */
export const SpanIdSchema = z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lowercase hex characters (W3C span id)");

/** Who performs an operator call. */
export const ActorSchema = z.object({
  id: IdSchema,
  role: RoleSchema,
  workspaceId: IdSchema,
  name: z.string().max(200).optional(),
});
/** Who performs an operator call: their id, role and workspace, and optionally a display name. */
export type Actor = z.infer<typeof ActorSchema>;

/** How an incident was resolved. */
export const ResolutionSchema = z.object({
  note: nonEmptyText(8192, "a resolution needs a non-empty note"),
  rootCause: RootCauseSchema,
  actions: z.array(ResolutionActionSchema).max(20).default([]),
  systemic: z.boolean().default(false),
});
/** How an incident was resolved, defaults applied: note, root cause, actions taken and whether the cause is systemic. */
export type Resolution = z.infer<typeof ResolutionSchema>;
/** What `resolve` accepts: a {@link Resolution} whose `actions` and `systemic` may be left out. */
export type ResolutionInput = z.input<typeof ResolutionSchema>;

/**
 * Parses `value` with `schema`, or throws a {@link ValidationError} naming every bad field.
 * `subject` says what was being validated, e.g. `"policy_blocked signal"`.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.infer<S> {
  return parse(schema, value, subject, []);
}

/** Like {@link parseOrThrow} for one argument: issue paths start with the argument's name. */
export function parseArgument<S extends z.ZodType>(schema: S, value: unknown, name: string): z.infer<S> {
  return parse(schema, value, name, [name]);
}

function parse<S extends z.ZodType>(schema: S, value: unknown, subject: string, prefix: string[]): z.infer<S> {
  let result: z.ZodSafeParseResult<z.infer<S>>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // a getter that throws, a revoked proxy: the input cannot be read, so it is invalid
    throw new ValidationError(subject, [{ path: prefix, message: `could not be read (${describeError(error)})`, code: "custom" }]);
  }
  if (result.success) return result.data;
  throw new ValidationError(subject, toIssues(result.error).map((issue) => ({ ...issue, path: [...prefix, ...issue.path] })));
}

export function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === "number" ? part : String(part))),
    message: issue.message,
    code: issue.code,
  }));
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 3, high: 2, medium: 1, low: 0 };

/** 3 for critical down to 0 for low. */
export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

/** The more severe of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}
