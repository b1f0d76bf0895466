import { z } from "zod";
import { describeError, ValidationError, type ValidationIssue } from "./errors.js";
import { isPlainRecord } from "./plain.js";
import { cleanText, isSafeId } from "./text.js";

/** Severities, most severe first. */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const STATUSES = ["open", "acknowledged", "investigating", "resolved"] as const;
export const StatusSchema = z.enum(STATUSES);
export type Status = z.infer<typeof StatusSchema>;

export const KINDS = [
  "policy_blocked",
  "execution_failed",
  "approval_rejected",
  "agent_error",
  "anomaly",
  "manual",
] as const;
export const KindSchema = z.enum(KINDS);
export type Kind = z.infer<typeof KindSchema>;

export const EnvironmentSchema = z.enum(["production", "staging", "development", "test"]);
export type Environment = z.infer<typeof EnvironmentSchema>;

export const RoleSchema = z.enum(["admin", "operator", "approver", "viewer"]);
export type Role = z.infer<typeof RoleSchema>;

export const ImpactSchema = z.enum(["low", "medium", "high", "critical"]);
export type Impact = z.infer<typeof ImpactSchema>;

export const RootCauseSchema = z.enum([
  "policy_issue",
  "connector_failure",
  "agent_bug",
  "bad_input",
  "external",
  "other",
]);
export type RootCause = z.infer<typeof RootCauseSchema>;

export const ResolutionActionSchema = z.enum([
  "policy_updated",
  "connector_fixed",
  "agent_restarted",
  "customer_contacted",
  "other",
]);
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
export const SpanIdSchema = z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lowercase hex characters (W3C span id)");

/** Who performs an operator call. */
export const ActorSchema = z.object({
  id: IdSchema,
  role: RoleSchema,
  workspaceId: IdSchema,
  name: z.string().max(200).optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** How an incident was resolved. */
export const ResolutionSchema = z.object({
  note: nonEmptyText(8192, "a resolution needs a non-empty note"),
  rootCause: RootCauseSchema,
  actions: z.array(ResolutionActionSchema).max(20).default([]),
  systemic: z.boolean().default(false),
});
export type Resolution = z.infer<typeof ResolutionSchema>;
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
