/**
 * What the root entry exports of the pure core: the domain's types and schemas, the errors, and
 * the helpers DESIGN names for users' own code and tests (`canTransition`, `nextStatuses`,
 * `explainSeverity`, `fingerprintOf`, `defaultSeverityRules`, `redact`), plus what a store author
 * needs to implement `IncidentStore`. The engine's own machinery (`decideIngest`, `numbered`,
 * `applyOperation`, cursors, copying, cleaning) stays inside.
 */
export {
  CallbackError,
  ClosedError,
  ConflictError,
  ForbiddenError,
  IncidentError,
  InvalidTransitionError,
  isIncidentError,
  NotFoundError,
  StorageError,
  ValidationError,
} from "./core/errors.js";
export type { IncidentErrorCode, ValidationIssue } from "./core/errors.js";
export {
  ActorSchema,
  EnvironmentSchema,
  IdSchema,
  ImpactSchema,
  KINDS,
  KindSchema,
  maxSeverity,
  ResolutionActionSchema,
  ResolutionSchema,
  RoleSchema,
  RootCauseSchema,
  SEVERITIES,
  SeveritySchema,
  severityRank,
  SpanIdSchema,
  STATUSES,
  StatusSchema,
  TagSchema,
  TimestampSchema,
  TraceIdSchema,
} from "./core/schemas.js";
export type { Actor, Environment, Impact, Kind, Resolution, ResolutionAction, ResolutionInput, Role, RootCause, Severity, Status } from "./core/schemas.js";
export {
  ActionSchema,
  AgentErrorInfoSchema,
  AgentErrorSignalSchema,
  AnomalySignalSchema,
  ApprovalRejectedSignalSchema,
  ApprovalSchema,
  ConnectorErrorSchema,
  ConnectorSchema,
  ExecutionFailedSignalSchema,
  ManualSignalSchema,
  PolicyBlockedSignalSchema,
  PolicySchema,
  ReportableSignalSchema,
  RunEventSchema,
  SignalContextSchema,
  SignalSchema,
} from "./core/signals.js";
export type {
  Action,
  AgentErrorInfo,
  AgentErrorSignal,
  AnomalySignal,
  Approval,
  ApprovalRejectedSignal,
  Connector,
  ConnectorError,
  ExecutionFailedSignal,
  ManualSignal,
  Policy,
  PolicyBlockedSignal,
  ReportableSignal,
  RunEvent,
  Signal,
  SignalContext,
} from "./core/signals.js";
export {
  ACTIVITY_TYPES,
  ActivityActorSchema,
  ActivitySchema,
  ActivityTypeSchema,
  EpisodeSchema,
  IncidentSchema,
  OccurrenceSchema,
  SeverityReasonSchema,
  SnapshotSchema,
} from "./core/incident.js";
export type { Activity, ActivityActor, ActivityType, Counts, Episode, Incident, IncidentDetail, Occurrence, SeverityReason, Snapshot } from "./core/incident.js";
export { canTransition, nextStatuses, TRANSITIONS } from "./core/lifecycle.js";
export { DEFAULT_REPEAT, defaultSeverityRules, explainSeverity } from "./core/severity.js";
export type { ExplainSeverityOptions, RepeatPolicy, SeverityExplanation, SeverityHistory, SeverityRule } from "./core/severity.js";
export { fingerprintOf } from "./core/fingerprint.js";
export { redact, REDACTED } from "./core/redact.js";
export type { RedactOptions } from "./core/redact.js";
export { DEFAULT_SNAPSHOT_EVENTS, MAX_SNAPSHOT_BYTES } from "./core/snapshot.js";
export { defaultAuthorize } from "./core/access.js";
export type { Authorize, Permission } from "./core/access.js";
export { compareKeys, DEFAULT_LIMIT, ListQuerySchema, matchesQuery, MAX_LIMIT } from "./core/query.js";
export type { CursorKey, ListQuery, ListQueryInput, Page } from "./core/query.js";
export type { DurationStat, IncidentStats } from "./core/stats.js";
// what a store's ingest and mutate hand back to the engine
export type { IngestDecision, NewIncident, ReportOutcome } from "./core/ingest.js";
export type { Operation, OperationResult } from "./core/operations.js";
export { NOTIFICATION_EVENTS } from "./core/notification.js";
export type { Notification, NotificationEvent, NotificationType } from "./core/notification.js";
export { FIELD_PATHS, matches, MatcherSchema } from "./core/matcher.js";
export type { FieldPath, Matcher, MatcherInput } from "./core/matcher.js";
export {
  flapPercent,
  FLAP_WINDOW,
  FlappingSchema,
  GroupInfoSchema,
  GroupRuleSchema,
  InhibitRuleSchema,
  NoiseOptionsSchema,
  NoiseStateSchema,
  SilenceInputSchema,
} from "./core/noise.js";
export type {
  FlappingOptions,
  GroupInfo,
  GroupRule,
  GroupRuleInput,
  InhibitRule,
  NoiseOptions,
  NoiseOptionsInput,
  NoiseState,
  QuietReason,
  Silence,
  SilenceInput,
  Timer,
  TimerKind,
} from "./core/noise.js";
export type { SystemOperation } from "./core/operations.js";
