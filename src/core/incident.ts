import { z } from "zod";
import {
  EnvironmentSchema,
  JsonRecordSchema,
  KindSchema,
  ResolutionSchema,
  RoleSchema,
  SeveritySchema,
  StatusSchema,
  TimestampSchema,
} from "./schemas.js";
import { ActionSchema, PolicySchema, RunEventSchema } from "./signals.js";

/** Which rule set the severity, and why, in one line. */
export const SeverityReasonSchema = z.object({
  rule: z.string(),
  explanation: z.string(),
});
export type SeverityReason = z.infer<typeof SeverityReasonSchema>;

/** An incident as stored and returned. JSON-safe; times are ISO-8601 UTC strings. */
export const IncidentSchema = z.object({
  id: z.string().startsWith("inc_"),
  number: z.number().int().positive(),
  workspaceId: z.string().min(1),
  agentId: z.string().nullable(),
  runId: z.string().nullable(),
  eventId: z.string().nullable(),
  traceId: z.string().nullable(),
  spanId: z.string().nullable(),
  environment: EnvironmentSchema,
  kind: KindSchema,
  trigger: JsonRecordSchema,
  title: z.string(),
  summary: z.string(),
  severity: SeveritySchema,
  severityReason: SeverityReasonSchema,
  /** True after an operator's `setSeverity`: automatic changes leave severity alone until a reopen. */
  severityPinned: z.boolean(),
  status: StatusSchema,
  fingerprint: z.string(),
  /** How many distinct (runId, eventId) occurrences were merged into this incident. */
  occurrences: z.number().int().positive(),
  firstSeenAt: TimestampSchema,
  lastSeenAt: TimestampSchema,
  assignee: z.string().nullable(),
  resolution: ResolutionSchema.nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  acknowledgedAt: TimestampSchema.nullable(),
  resolvedAt: TimestampSchema.nullable(),
  version: z.number().int().positive(),
  tags: z.array(z.string()),
});
export type Incident = z.infer<typeof IncidentSchema>;

export const ACTIVITY_TYPES = [
  "created",
  "recurred",
  "acknowledged",
  "status_changed",
  "severity_changed",
  "assigned",
  "note_added",
  "resolved",
  "reopened",
] as const;
export const ActivityTypeSchema = z.enum(ACTIVITY_TYPES);
export type ActivityType = z.infer<typeof ActivityTypeSchema>;

/** Who made a change: an operator, or the system (a reported signal). */
export const ActivityActorSchema = z.object({
  type: z.enum(["user", "system"]),
  id: z.string(),
  role: RoleSchema.nullable(),
});
export type ActivityActor = z.infer<typeof ActivityActorSchema>;

/** One entry of an incident's audit trail. */
export const ActivitySchema = z.object({
  id: z.string(),
  incidentId: z.string(),
  type: ActivityTypeSchema,
  actor: ActivityActorSchema,
  at: TimestampSchema,
  /** The incident's version this change produced. */
  version: z.number().int().positive(),
  before: JsonRecordSchema.nullable(),
  after: JsonRecordSchema.nullable(),
  /** The note, reason or explanation that came with the change. */
  message: z.string().nullable(),
});
export type Activity = z.infer<typeof ActivitySchema>;

/** One report merged into an incident. */
export const OccurrenceSchema = z.object({
  incidentId: z.string(),
  runId: z.string().nullable(),
  eventId: z.string().nullable(),
  traceId: z.string().nullable(),
  at: TimestampSchema,
});
export type Occurrence = z.infer<typeof OccurrenceSchema>;

/** The redacted, size-capped context captured when the incident was created. */
export const SnapshotSchema = z.object({
  events: z.array(RunEventSchema),
  action: ActionSchema.nullable(),
  policy: PolicySchema.nullable(),
  data: JsonRecordSchema.nullable(),
  truncated: z.boolean(),
  /** Run events left out: beyond the last N, or dropped to respect the size cap. */
  droppedEvents: z.number().int().nonnegative(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** What `get(id)` returns. `occurrences` stays the count; the log is `occurrenceLog`. */
export type IncidentDetail = Incident & { activity: Activity[]; occurrenceLog: Occurrence[] };

/** Severity x status counts, every cell present. */
export type Counts = Record<z.infer<typeof SeveritySchema>, Record<z.infer<typeof StatusSchema>, number>>;
