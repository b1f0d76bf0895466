import { z } from "zod";
import { GroupInfoSchema, NoiseStateSchema, QUIET_NONE, type QuietReason } from "./noise.js";
import {
  EnvironmentSchema,
  JsonRecordSchema,
  KindSchema,
  ResolutionActionSchema,
  RoleSchema,
  RootCauseSchema,
  SeveritySchema,
  StatusSchema,
  TimestampSchema,
} from "./schemas.js";

// The schemas below describe what the library wrote, not what a caller may send: no trimming,
// no length limits (redaction can lengthen a string, truncation adds its mark), so anything
// written always reads back.

/** A resolution as stored on the incident. */
export const StoredResolutionSchema = z.object({
  note: z.string(),
  rootCause: RootCauseSchema,
  actions: z.array(ResolutionActionSchema),
  systemic: z.boolean(),
});

/**
 * One open → acknowledged → resolved cycle of an incident. A reopen starts a new one; MTTA and
 * MTTR are measured per episode, from `openedAt`.
 */
export const EpisodeSchema = z.object({
  openedAt: TimestampSchema,
  acknowledgedAt: TimestampSchema.nullable(),
  resolvedAt: TimestampSchema.nullable(),
});
/** One open → acknowledged → resolved cycle of an incident, with the time it reached each step. */
export type Episode = z.infer<typeof EpisodeSchema>;

/** Most episodes kept per incident; older ones are dropped from the stats. */
export const MAX_EPISODES = 50;

/** Which rule set the severity, and why, in one line. */
export const SeverityReasonSchema = z.object({
  rule: z.string(),
  explanation: z.string(),
});
/** Which severity rule set an incident's severity, and its one-line explanation. */
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
  resolution: StoredResolutionSchema.nullable(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  acknowledgedAt: TimestampSchema.nullable(),
  resolvedAt: TimestampSchema.nullable(),
  version: z.number().int().positive(),
  tags: z.array(z.string()),
  /** Every episode, oldest first; the last is the current one. */
  episodes: z.array(EpisodeSchema).min(1),
  /** The group incident this one is a member of: the group notifies, members do not. */
  groupId: z.string().nullable().default(null),
  /** The grouping rule and key this incident would group under (members and their group share it). */
  groupKey: z.string().nullable().default(null),
  /** On a group incident (`kind: "group"`): the rule, the shared fields and the members' agents. */
  group: GroupInfoSchema.nullable().default(null),
  /** Held for its group window, snoozed, flapping. */
  noise: NoiseStateSchema.default(() => ({ ...QUIET_NONE, samples: [] })),
});
/** An incident as stores and the operator API return it: JSON-safe, times as ISO-8601 UTC strings. */
export type Incident = z.infer<typeof IncidentSchema>;

/** Every kind of change an incident's activity log records. */
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
  "grouped",
  "snoozed",
  "unsnoozed",
] as const;
/** Validates an activity type: one of {@link ACTIVITY_TYPES}. */
export const ActivityTypeSchema = z.enum(ACTIVITY_TYPES);
/** What kind of change an activity entry records, e.g. `acknowledged` or `note_added`. */
export type ActivityType = z.infer<typeof ActivityTypeSchema>;

/** Who made a change: an operator, or the system (a reported signal). */
export const ActivityActorSchema = z.object({
  type: z.enum(["user", "system"]),
  id: z.string(),
  role: RoleSchema.nullable(),
});
/** Who made a change: an operator with their role, or the system for a reported signal. */
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
/** One entry of an incident's audit trail: who changed what and when, with the fields before and after. */
export type Activity = z.infer<typeof ActivitySchema>;

/** One report merged into an incident. */
export const OccurrenceSchema = z.object({
  incidentId: z.string(),
  runId: z.string().nullable(),
  eventId: z.string().nullable(),
  traceId: z.string().nullable(),
  at: TimestampSchema,
});
/** One report merged into an incident: its run, event and trace ids, and when it came. */
export type Occurrence = z.infer<typeof OccurrenceSchema>;

const StoredRunEventSchema = z.object({ id: z.string(), type: z.string(), at: z.string(), data: JsonRecordSchema.optional() });

/** The redacted, size-capped context captured when the incident was created or reopened. */
export const SnapshotSchema = z.object({
  events: z.array(StoredRunEventSchema),
  action: z.object({ type: z.string(), id: z.string().optional(), payload: JsonRecordSchema.optional() }).nullable(),
  policy: z
    .object({ id: z.string(), name: z.string(), effect: z.enum(["allow", "allow_with_alert", "require_approval", "block"]), reason: z.string().optional() })
    .nullable(),
  data: JsonRecordSchema.nullable(),
  truncated: z.boolean(),
  /** Run events left out: beyond the last N, or dropped to respect the size cap. */
  droppedEvents: z.number().int().nonnegative(),
});
/** The redacted, size-capped context stored with an incident: run events, action, policy and data. */
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** What `get(id)` returns. `occurrences` stays the count; the log is `occurrenceLog`. */
export type IncidentDetail = Incident & { activity: Activity[]; occurrenceLog: Occurrence[]; quiet: QuietReason | null };

/** Severity x status counts, every cell present. */
export type Counts = Record<z.infer<typeof SeveritySchema>, Record<z.infer<typeof StatusSchema>, number>>;
