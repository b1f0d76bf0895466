/**
 * The incident system: `createIncidents`, the reporter and operator APIs, the memory store, the store contract, and the pure core (types, schemas, errors, lifecycle and severity helpers).
 *
 * @packageDocumentation
 * @module agent-incidents
 */
export { createIncidents } from "./incidents.js";
export type { DedupOptions, Incidents, IncidentsOptions } from "./incidents.js";
export type { ReportResult, SpooledReport, WrittenReport } from "./engine.js";
export type { SpoolOptions } from "./spool/options.js";
export type {
  IncidentChangeEvent,
  IncidentChangeType,
  IncidentEvent,
  IncidentEventHandler,
  IncidentEventType,
  NotificationFailedEvent,
  ReportDroppedEvent,
  ReportSpooledEvent,
  ReportSpoolEventType,
  ReportWrittenEvent,
  SpooledReportIdentity,
} from "./events.js";
export type {
  AnomalyInput,
  ApprovalRejectedInput,
  ExecutionFailedInput,
  PolicyBlockedInput,
  Reporter,
  ReporterScope,
  RunEndedInput,
  ScopeKeys,
} from "./reporter.js";
export { ReporterScopeSchema, RunEndedSchema } from "./reporter.js";
export type { EscalateInput, IncidentContext, ListedIncident, Operator, ResolveInput, VersionGuard } from "./operator.js";
export type { SilenceRecord, Silences, SnoozeInput } from "./noise/operator.js";
export { SnoozeSchema } from "./noise/operator.js";
export { EscalateSchema } from "./operator.js";
export type { RunSource, RunTimeline } from "./run-source.js";
export { defineStore } from "./stores/contract.js";
export type { Deliveries } from "./notifiers/delivery.js";
export type {
  Change,
  ChangeFeed,
  ChangeInput,
  ClaimedDelivery,
  DeliveryRecord,
  DeliveryStatus,
  IncidentStore,
  IngestRequest,
  IngestResult,
  Outbox,
  OutboxEntry,
  ScanQuery,
  SilenceStore,
  TimerStore,
} from "./stores/contract.js";
export { memoryStore } from "./stores/memory.js";
export { ulidFactory } from "./ids.js";
export * from "./public-core.js";
