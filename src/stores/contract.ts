import type { Activity, Counts, Incident, Occurrence, Snapshot } from "../core/incident.js";
import type { IngestDecision, ReportOutcome } from "../core/ingest.js";
import type { OperationResult } from "../core/operations.js";
import type { ListQuery } from "../core/query.js";
import type { Notification } from "../notifiers/contract.js";

/**
 * A notification waiting to be delivered to one notifier, as the engine plans it inside the
 * store's transaction. `id` is the delivery id receivers dedupe on.
 */
export interface OutboxEntry {
  id: string;
  /** The notifier's name: after a restart it goes to the notifier of the same name. */
  notifier: string;
  workspaceId: string;
  incidentId: string;
  notification: Notification;
  /** Not before this ISO time (a digest's is the end of its interval). */
  dueAt: string;
  /** Part of a digest: sent in one batch with the notifier's other digest entries that are due. */
  digest: boolean;
}

/** An entry a worker claimed, with the tries made so far. */
export interface ClaimedDelivery extends OutboxEntry {
  attempts: number;
}

/** One delivery as kept for inspection. */
export interface DeliveryRecord extends ClaimedDelivery {
  status: "pending" | "delivered" | "dead";
  lastError: string | null;
  createdAt: string;
  settledAt: string | null;
}

/**
 * The durable outbox of a store: pending deliveries written in the same transaction as the change
 * they announce, claimed by workers with a lease, kept after delivery for inspection.
 */
export interface Outbox {
  /**
   * Claims up to `limit` pending entries of the named notifiers that are due and not leased (or
   * whose lease ran out), oldest first, for `worker` until `leaseUntil`. Keeps per-incident order:
   * an entry is not claimable while an older pending non-digest entry of the same notifier and
   * incident exists. Two workers never claim one entry.
   */
  claim(request: { worker: string; now: string; leaseUntil: string; limit: number; notifiers: readonly string[] }): Promise<ClaimedDelivery[]>;
  /**
   * Records a try of an entry `worker` holds: `delivered`, `dead` (no more tries), or `pending`
   * again from `dueAt` (a retry). Releases the claim.
   */
  settle(id: string, worker: string, outcome: { status: "delivered" | "dead" | "pending"; attempts: number; at: string; dueAt?: string; error?: string }): Promise<void>;
  /** Gives back every claim of `worker` (it is closing). */
  release(worker: string): Promise<void>;
  /** Deletes delivered and dead entries settled before `before`; returns how many. */
  prune(before: string): Promise<number>;
  /** Recent deliveries, newest first, for inspection. */
  deliveries(query: { status?: DeliveryRecord["status"]; limit: number }): Promise<DeliveryRecord[]>;
}

/** One report for the store to apply atomically. Built by `createIncidents`; stores only execute it. */
export interface IngestRequest {
  workspaceId: string;
  /** Scoped fingerprint; incidents with the same one (in the workspace) are candidates to merge into. */
  fingerprint: string;
  /** `false` for kinds that never merge (approvals, manual escalations): always create. */
  merge: boolean;
  /** The signal's kind; part of the idempotency key. */
  kind: Incident["kind"];
  /**
   * The idempotency key within the workspace is (kind, runId, eventId). When both ids are set
   * and an occurrence with the same key exists, the store must return `duplicate` with that
   * occurrence's incident and write nothing. Keys must not collide: compare the three parts, never
   * a string joined from them.
   */
  runId: string | null;
  eventId: string | null;
  traceId: string | null;
  /** ISO time of the report; the occurrence's `at`. */
  at: string;
  /** Count occurrences of `fingerprint` at or after this ISO time for `decide`'s second argument. */
  windowStart: string;
  /**
   * The context snapshot of this report. Call it only when `decide` creates or reopens an
   * incident, and store it as the snapshot of the incident's current episode (number
   * `incident.episodes.length`), next to the earlier episodes' ones.
   */
  snapshot(): Snapshot;
  /**
   * Stores with an `outbox`: call it inside the transaction, after `decide`, with the incident as
   * it will be written, and write the entries it returns to the outbox with it. Others ignore it.
   */
  deliveries?(incident: Incident, outcome: ReportOutcome): OutboxEntry[];
  /**
   * Pure and synchronous. Call it inside the transaction with the latest incident of this
   * fingerprint (the newest unresolved one, else the most recently resolved, or `null` when there
   * is none or `merge` is `false`) and the number of this fingerprint's occurrences since
   * `windowStart` plus one (1 when `merge` is `false`). Then write what it returns.
   */
  decide(existing: Incident | null, recentOccurrences: number): IngestDecision;
}

/** What the store did with a report. */
export interface IngestResult {
  outcome: ReportOutcome;
  incident: Incident;
}

/** What `scan` reads, for stats. */
export interface ScanQuery {
  /** Incidents created at or after this ISO time; all when `null`. */
  createdSince: string | null;
}

/**
 * Where incidents live. Implement it (wrapped in {@link defineStore}) to keep incidents anywhere,
 * then run `describeStoreConformance` from `agent-incidents/testing` against it.
 *
 * Every method is scoped to one workspace: an incident of another workspace does not exist for
 * it. Writes (`ingest`, `mutate`) are each one atomic operation, also when several processes
 * share the store: a reader never sees half of one, and two writers never both win.
 * Raise only `IncidentError`s; anything else is wrapped in a `StorageError` by the caller.
 *
 * @example
 * ```ts
 * import { defineStore } from "agent-incidents";
 * export const myStore = (options: MyOptions) => defineStore({
 *   name: "my-store",
 *   async ingest(request) { ... },
 *   async mutate(workspaceId, id, apply) { ... },
 *   // ... the remaining members
 * });
 * ```
 */
export interface IncidentStore {
  /** Short adapter name used in `StorageError`s, e.g. `"sqlite"`. */
  readonly name: string;
  /** `true` when incidents survive a restart of the process. */
  readonly durable: boolean;

  /**
   * Applies one report atomically: idempotency check, lookup of the latest incident of the
   * fingerprint, `request.decide`, then the write it returns (new incident with the next
   * per-workspace `number`, its first activity entry, its occurrence and snapshot; or the updated
   * incident, its occurrence, the activity entry if any and, on a reopen, the new episode's
   * snapshot). Concurrent reports of one fingerprint must serialize: many at once make one
   * incident whose count is exact. All or nothing: when anything throws (`decide`, `snapshot`,
   * the database), nothing of the report is kept, not even a used-up `number`.
   */
  ingest(request: IngestRequest): Promise<IngestResult>;

  /**
   * Applies an operator change atomically: reads the incident, calls `apply` with it (it may throw
   * an `IncidentError`: then write nothing and rethrow), and writes the returned incident and
   * activity entry (and, with an outbox, the result's `deliveries`). `apply` returning `null`
   * means nothing changed: return the incident as read.
   * Reject with `NotFoundError` when the id does not exist in the workspace. All or nothing.
   */
  mutate(workspaceId: string, id: string, apply: (current: Incident) => OperationResult | null): Promise<Incident>;

  /** The incident, or `null` when it does not exist in the workspace. */
  get(workspaceId: string, id: string): Promise<Incident | null>;
  /** The incident's activity entries, oldest first (by version). */
  activity(workspaceId: string, id: string): Promise<Activity[]>;
  /** The incident's occurrences, oldest first. */
  occurrences(workspaceId: string, id: string): Promise<Occurrence[]>;
  /** The snapshot of the latest episode that has one (creation or reopen), or `null`. */
  snapshot(workspaceId: string, id: string): Promise<Snapshot | null>;
  /**
   * Optional: `get`, `activity` and `occurrences` in one read (one round trip, one statement),
   * or `null` when the incident does not exist in the workspace. Without it, the three are
   * called at once.
   */
  detail?(workspaceId: string, id: string): Promise<{ incident: Incident; activity: Activity[]; occurrences: Occurrence[] } | null>;
  /**
   * One page of incidents matching the query's filters, ordered as `compareKeys` orders them
   * (severity then recency, or recency), starting after `query.after`. Return at most
   * `query.limit + 1` items: the extra one tells the caller there is a next page.
   */
  list(workspaceId: string, query: ListQuery): Promise<Incident[]>;
  /** Severity x status counts, optionally for one agent. Cells with no incidents may be left out. */
  counts(workspaceId: string, filter: { agentId?: string | undefined }): Promise<Partial<Counts>>;
  /** The incidents of a period, for stats. */
  scan(workspaceId: string, query: ScanQuery): Promise<Incident[]>;
  /**
   * Optional: a durable outbox. With one, notifications survive a restart: `ingest` writes what
   * `request.deliveries` returns and `mutate` what the operation result's `deliveries` holds, in
   * the same transaction.
   */
  readonly outbox?: Outbox;
  /**
   * Releases resources once operations in flight have settled. Safe to call twice; every call
   * after it rejects with `ClosedError` (code `CLOSED`), so nothing waits forever.
   */
  close(): Promise<void>;
}

/** Identity helper that type-checks a store implementation. */
export function defineStore<T extends IncidentStore>(store: T): T {
  return store;
}
