import type { Activity, Counts, Incident, Occurrence, Snapshot } from "../core/incident.js";
import type { IngestDecision, ReportOutcome } from "../core/ingest.js";
import type { OperationResult } from "../core/operations.js";
import type { ListQuery } from "../core/query.js";
import type { Change, ChangeInput, ClaimedDelivery, DeliveryRecord, DeliveryStatus, OutboxEntry } from "../core/notification.js";
import type { ActivityActor } from "../core/incident.js";
import type { Silence, Timer } from "../core/noise.js";

export type { Change, ChangeInput, ClaimedDelivery, DeliveryRecord, DeliveryStatus, OutboxEntry, Silence, Timer };

/**
 * Durable timers: group windows, snooze ends, silence ends. A timer is a row; whichever process
 * delivers claims the due ones with a lease, fires them, and deletes them. What a timer does is
 * checked against the incident's or silence's state when it fires, so a timer fired twice (a
 * lease that ran out mid-fire) changes nothing the second time.
 */
export interface TimerStore {
  /** Writes the timers; a timer with the id of an existing one replaces it (moves it, unclaimed). */
  schedule(timers: readonly Timer[]): Promise<void>;
  /**
   * Claims up to `limit` timers due at or before `now` and not leased (or whose lease ran out),
   * earliest first, for `worker` until `leaseUntil`. Two workers never hold one timer.
   */
  claim(request: { worker: string; now: string; leaseUntil: string; limit: number }): Promise<Timer[]>;
  /**
   * Deletes the timer once fired, if `worker` still holds it and it still has `dueAt` (one
   * scheduled again meanwhile stays, unclaimed).
   */
  done(id: string, worker: string, dueAt: string): Promise<void>;
  /** Deletes a timer whatever its state (a snooze cancelled, a silence expired). */
  cancel(id: string): Promise<void>;
  /** Timers not yet fired, earliest first, of one workspace or all; for inspection. */
  list(query: { workspaceId?: string | undefined; limit: number }): Promise<Timer[]>;
}

/** Silences as the store keeps them. Scoped to a workspace like incidents. */
export interface SilenceStore {
  /** Writes a new silence. */
  create(silence: Silence): Promise<void>;
  /** The silence, or `null` when it does not exist in the workspace. */
  get(workspaceId: string, id: string): Promise<Silence | null>;
  /**
   * Silences newest first (by `createdAt`, then id): of one workspace (all when left out), and
   * with `activeAt`, only those in force then (started, not ended, not expired by then).
   */
  list(query: { workspaceId?: string | undefined; activeAt?: string | undefined; limit: number }): Promise<Silence[]>;
  /**
   * Ends a silence early: sets `expiredAt` and `expiredBy` unless it already has an `expiredAt`.
   * Resolves to the silence as it now is, or `null` when it does not exist in the workspace.
   */
  expire(workspaceId: string, id: string, at: string, by: ActivityActor): Promise<Silence | null>;
}

/**
 * The durable change feed and outbox of a store. Every committed change (a report that created,
 * recurred or reopened an incident, an operator's change) is appended to the feed in the change's
 * own transaction. A process that delivers plans the feed's unplanned changes into outbox entries
 * (one per notifier), and workers claim, send and settle them with a lease. Any process may
 * write; whichever delivers plans and sends, so nothing a CLI or console changes is lost.
 */
export interface Outbox {
  /**
   * Plans: in one transaction, takes up to `limit` unplanned changes, oldest first; calls `plan`
   * with them and with `notified`, which answers whether a notifier was ever given an entry of an
   * incident; writes the entries `plan` returns (and remembers their notifier and incident for
   * `notified`); marks the changes planned. Only one `plan` runs at a time across processes.
   * Resolves to the number of changes planned. When `plan` throws, nothing is written.
   */
  plan(limit: number, plan: (changes: Change[], notified: (notifier: string, incidentId: string) => boolean) => OutboxEntry[]): Promise<number>;
  /**
   * Claims up to `limit` pending entries of `notifier` that are due and not leased (or whose lease
   * ran out), oldest first, for `worker` until `leaseUntil`. Keeps per-incident order: an entry is
   * not claimable while an older pending entry of the same notifier, incident and digest flag
   * exists. Two workers never claim one entry.
   */
  claim(request: { worker: string; now: string; leaseUntil: string; limit: number; notifier: string }): Promise<ClaimedDelivery[]>;
  /**
   * Records a try of an entry `worker` holds: `delivered`, `dead` (no more tries), or `pending`
   * again from `dueAt` (a retry; `attempts` unchanged when it was handed back untried). Releases
   * the claim. Entries `worker` no longer holds are left alone.
   */
  settle(id: string, worker: string, outcome: { status: DeliveryStatus; attempts: number; at: string; dueAt?: string; error?: string }): Promise<void>;
  /** Gives back every claim of `worker` (it is closing). */
  release(worker: string): Promise<void>;
  /**
   * Deletes delivered and dead entries settled before `settledBefore`, and planned changes made
   * before `changesBefore` (unplanned ones before `settledBefore`, or before `changesBefore` when
   * no notifier ever had a heartbeat: nobody delivers from the store); returns how many entries.
   */
  prune(before: { settledBefore: string; changesBefore: string }): Promise<number>;
  /** Deliveries, newest first, for inspection; `ids` picks given ones. */
  deliveries(query: { status?: DeliveryStatus | undefined; notifier?: string | undefined; ids?: readonly string[] | undefined; limit: number }): Promise<DeliveryRecord[]>;
  /**
   * Sends entries again: every pending (and not leased) or dead entry matching the query becomes pending, due at
   * `now`, with its tries counted from zero, its age from `now`, and its error cleared (`keep`:
   * all kept, only due now); `to` moves them to another notifier, which then counts as notified
   * of their incidents. Resolves to how many.
   */
  retry(
    query: { ids?: readonly string[] | undefined; status?: "pending" | "dead" | undefined; notifier?: string | undefined },
    update: { now: string; to?: string | undefined; keep?: boolean | undefined },
  ): Promise<number>;
  /** Notes that these notifiers have a worker (a heartbeat at `now`). */
  heartbeat(notifiers: readonly string[], now: string): Promise<void>;
  /**
   * Names of notifiers with pending entries and no heartbeat since `before` (or never): no
   * process delivers for them. Their entries would otherwise wait for ever.
   */
  stranded(before: string): Promise<string[]>;
  /**
   * Marks the pending entries of `notifier` dead with `error`, unless its heartbeat came at or
   * after `before` (a process has it after all); entries leased at `at` (being tried) are left
   * alone. Resolves to the entries.
   */
  bury(notifier: string, error: string, at: string, before: string): Promise<DeliveryRecord[]>;
}

/** Reads of the change feed, for live views. */
export interface ChangeFeed {
  /** Changes after `after` (a `seq`), oldest first, at most `limit`, optionally of one workspace. */
  read(query: { after: number; limit: number; workspaceId?: string | undefined }): Promise<Change[]>;
  /** The newest `seq`, or 0 when the feed is empty. */
  head(): Promise<number>;
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
   * Optional: applies several reports in one transaction, in the given order, each exactly as
   * `ingest` would (a later one sees what an earlier one wrote; a duplicate among them is a
   * `duplicate`). All or nothing: when anything throws, nothing of any of them is kept. The engine
   * hands it concurrent reports of one fingerprint, so an outage's storm of recurrences costs one
   * transaction per batch instead of one per report.
   */
  ingestMany?(requests: readonly IngestRequest[]): Promise<IngestResult[]>;

  /**
   * Applies an operator change atomically: reads the incident, calls `apply` with it (it may throw
   * an `IncidentError`: then write nothing and rethrow), and writes the returned incident and
   * activity entry (a system change such as releasing a held notification has none), and, with a
   * feed, the change. `apply` returning `null` means nothing changed: return the incident as read.
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
   * Optional: the change feed and outbox. With them, `ingest` and `mutate` append the change they
   * make to the feed in the same transaction (`changeOfReport(...)` for a report; `{ event:
   * result.event, incident: result.incident, previous: current }` for an operation), and pending
   * notifications survive restarts and reach whichever process delivers. Without them, the engine
   * keeps both in this process's memory.
   */
  readonly outbox?: Outbox;
  /** Reads of the change feed; present when `outbox` is. */
  readonly feed?: ChangeFeed;
  /**
   * Optional: durable timers. Without them the engine keeps timers in this process's memory (they
   * do not survive a restart, and only this process fires them).
   */
  readonly timers?: TimerStore;
  /** Optional: silences. Without them the engine keeps silences in this process's memory. */
  readonly silences?: SilenceStore;
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
