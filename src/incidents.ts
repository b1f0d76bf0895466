import { z } from "zod";
import { defaultAuthorize, type Authorize } from "./core/access.js";
import { IdSchema, parseArgument, parseOrThrow } from "./core/schemas.js";
import type { RedactOptions } from "./core/redact.js";
import { DEFAULT_REPEAT, defaultSeverityRules, type SeverityRule } from "./core/severity.js";
import type { Signal } from "./core/signals.js";
import { DEFAULT_SNAPSHOT_EVENTS } from "./core/snapshot.js";
import { createEngine, type ReportResult } from "./engine.js";
import { IncidentEvents, type IncidentEvent, type IncidentEventHandler, type IncidentEventType } from "./events.js";
import { ulidFactory } from "./ids.js";
import { createOperator, type Operator } from "./operator.js";
import { createReporter, reportSignal, type Reporter } from "./reporter.js";
import type { RunSource } from "./run-source.js";
import type { Change, IncidentStore } from "./stores/contract.js";
import { memoryStore } from "./stores/memory.js";
import type { Route } from "./notifiers/contract.js";
import { createDelivery, type Deliveries } from "./notifiers/delivery.js";
import { memoryOutbox } from "./stores/memory-outbox.js";
import { RoutesSchema } from "./notifiers/routing.js";
import { DEFAULT_SPOOL, SpoolOptionsSchema, type SpoolOptions } from "./spool/options.js";
import { NoiseOptionsSchema, type NoiseOptionsInput } from "./core/noise.js";
import { memorySilences, memoryTimers } from "./stores/memory-noise.js";
import { createNoiseViews } from "./notifiers/noise-view.js";
import { createTimerRunner, type TimerRunner } from "./noise/timers.js";

/** How signals are merged into incidents. */
export interface DedupOptions {
  /** Your own fingerprint; it is still scoped by workspace, agent and environment. */
  fingerprint?: (signal: Signal) => string;
  /** A recurrence within this long after resolving reopens the incident (default 24 h). */
  reopenWithinMs?: number;
  /** This many occurrences within `windowMs` raise severity to at least high (default 3 in 1 h). */
  repeat?: { count: number; windowMs: number };
}

/** Options of {@link createIncidents}; all optional. */
export interface IncidentsOptions {
  /** Where incidents live. Default: `memoryStore()`. */
  store?: IncidentStore;
  /** Ordered severity rules, first match wins. Default: `defaultSeverityRules`. */
  severityRules?: readonly SeverityRule[];
  /** Loads a run's full timeline for `context(id)`. */
  runs?: RunSource;
  /** How long `context(id)` waits for the `RunSource` before answering with `run: null` (default 5000 ms). */
  runTimeoutMs?: number;
  /** Extra redaction, or `false` to store payloads as reported (size caps still apply). */
  redact?: RedactOptions | false;
  dedup?: DedupOptions;
  /** How many preceding run events the snapshot keeps (default 20). */
  snapshotEvents?: number;
  /** The time source. Default: the system clock. `fakeClock()` from `agent-incidents/testing` for tests. */
  clock?: {
    /** The current time. */
    now(): Date;
  };
  /** Unique, sortable ids; the library adds prefixes such as `inc_`. Default: ULIDs. */
  ids?: () => string;
  /** Replaces the role policy. Asked before any lookup. */
  authorize?: Authorize;
  /**
   * Where notifications go: each route names a notifier and filters (no filter: everything).
   * Delivery runs after the store commits, off the report's path, with retries; with a durable
   * store that has an outbox, pending deliveries survive a restart.
   */
  routes?: readonly Route[];
  /**
   * Delivery settings: how long `close()` waits for deliveries in flight (default 5000 ms); how
   * often the feed and outbox are polled for other processes' changes and for retries (default
   * 1000 ms); a claim's lease (default 60 000 ms); how long delivered and dead entries are kept
   * (default 7 days); after how long without any process that has their notifier pending entries
   * are given up on and reported (default 1 h).
   */
  delivery?: { closeTimeoutMs?: number; pollMs?: number; leaseMs?: number; retentionMs?: number; strandedAfterMs?: number };
  /** Called when an event handler throws or rejects; if it throws too, that is ignored. Default: `console.error`. */
  onError?: (error: unknown, event: IncidentEvent) => void;
  /**
   * Keeps reports while the store is away (a failover, a restart, lost connections), so none is
   * lost. On by default: `{ maxReports: 10_000, maxBytes: 64 MiB }` in memory; `false` turns it
   * off (a report then rejects with the store's retryable `StorageError`).
   *
   * A report whose write fails with a retryable `StorageError` is kept, and every later report
   * waits behind it: both resolve to `{ incident: null, outcome: "spooled" }` (event
   * `report.spooled`). They are written oldest first, as of the time each was made, as soon as the
   * store answers (`report.written`); the idempotency key (kind, runId, eventId) counts each once.
   * A full spool (either limit) rejects the report with a retryable `StorageError` and emits
   * `report.dropped`. `close()` writes what it can within `delivery.closeTimeoutMs`; what is left
   * gets `report.dropped`, or, with `filename`, stays in the file (`report.spooled`, `kept: true`).
   *
   * - `maxReports`: most reports kept (default 10 000).
   * - `maxBytes`: most bytes kept, as JSON (default 64 MiB, 67 108 864).
   * - `filename`: also append each kept report to this file (one JSON line, fsynced before the
   *   report resolves); the next start writes what a previous process left. One process per file.
   */
  spool?: SpoolOptions | false;
  /**
   * Noise control: it holds back notifications, never incidents (guide 9).
   * - `groups`: incidents that match a rule and share its `by` fields within `windowMs` become
   *   members of one group incident, which notifies for them (`minIncidents`, default 2). A
   *   matching incident's first notification waits `windowMs` for its group to form.
   * - `inhibit`: while an open incident matches `source`, incidents matching `target` with the
   *   same `equal` fields notify nobody.
   * - `flapping`: an incident that resolves and reopens again and again is marked flapping
   *   (Icinga 2's weighted algorithm: starts above `high` percent, default 30, stops below `low`,
   *   default 25); it then notifies only that it started and stopped flapping. `false` turns it off.
   */
  noise?: NoiseOptionsInput;
}

/** The incident system: report signals, operate on incidents, listen to changes. */
export interface Incidents {
  /** A reporter for one agent. Throws `ValidationError` synchronously for a bad scope. */
  reporter(scope: { workspaceId: string; agentId: string; environment: Signal["environment"] }): Reporter;
  /** Reports one whole signal (any kind but `manual`), validated by `ReportableSignalSchema`. */
  report(signal: unknown): Promise<ReportResult>;
  /** The operator API for one actor. Throws `ValidationError` synchronously for a bad actor. */
  as(actor: { id: string; role: "admin" | "operator" | "approver" | "viewer"; workspaceId: string; name?: string }): Operator;
  /**
   * Subscribes to an event; returns the unsubscribe function. Handlers never break a report: what
   * they throw goes to `onError`. Throws `ValidationError` for an unknown event or a non-function.
   */
  on<T extends IncidentEventType>(type: T, handler: IncidentEventHandler<T>): () => void;
  /**
   * Unsubscribes `handler` from `type`, one subscription per call (the latest first); a handler not
   * subscribed is ignored.
   */
  off<T extends IncidentEventType>(type: T, handler: IncidentEventHandler<T>): void;
  /**
   * The outbox, for an admin: deliveries by status and notifier (the dead letters among them),
   * and re-sending them. With a store that has no outbox of its own, this process's deliveries.
   */
  readonly deliveries: Deliveries;
  /**
   * The store's change feed: every committed change, by any process sharing the store, in order.
   * Live views tail it (`read({ after: lastSeq })`); `head()` is where a new reader starts.
   * @experimental
   */
  /**
   * Fires every durable timer due at the clock's `now()` (group windows, snooze and silence ends)
   * and resolves once their changes are committed, to how many fired. A process with routes does
   * this by itself on each poll; with `fakeClock`, call it after `clock.advance(ms)`.
   */
  runDue(): Promise<number>;
  /**
   * Resolves once the notifications planned so far have been sent (or failed and been scheduled
   * for a retry): `clock.advance(ms); await incidents.runDue(); await incidents.settle()`.
   */
  settle(): Promise<void>;
  readonly feed: {
    /** Changes after `after` (default 0), oldest first; `limit` 1-1000 (default 100); optionally of one workspace. */
    read(query?: { after?: number; workspaceId?: string; limit?: number }): Promise<Change[]>;
    /** The newest change's `seq`, or 0. */
    head(): Promise<number>;
  };
  /**
   * Delivers what is due and waits for operations in flight, within `delivery.closeTimeoutMs`,
   * then closes the store. Later calls reject with `CLOSED`.
   */
  close(): Promise<void>;
}

const fn = () => z.custom<(...args: never[]) => unknown>((f) => typeof f === "function", { message: "must be a function" });

const OptionsSchema = z.object({
  store: z.custom<IncidentStore>((s) => typeof s === "object" && s !== null && typeof (s as IncidentStore).ingest === "function", {
    message: "must be an IncidentStore",
  }).optional(),
  severityRules: z
    .array(z.custom<SeverityRule>((r) => typeof r === "object" && r !== null && typeof (r as SeverityRule).match === "function" && typeof (r as SeverityRule).name === "string", { message: "must be a SeverityRule { name, explanation, match }" }))
    .optional(),
  dedup: z
    .object({
      fingerprint: fn().optional(),
      reopenWithinMs: z.number().int().nonnegative().optional(),
      repeat: z.object({ count: z.number().int().min(1), windowMs: z.number().int().positive() }).optional(),
    })
    .optional(),
  snapshotEvents: z.number().int().min(0).max(1000).optional(),
  runs: z.custom<RunSource>((r) => typeof r === "object" && r !== null && typeof (r as RunSource).loadRun === "function", { message: "must be a RunSource with loadRun(runId, scope)" }).optional(),
  runTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  redact: z
    .union([
      z.literal(false),
      z.object({
        keys: z.array(z.union([z.string().min(1), z.instanceof(RegExp)])).optional(),
        patterns: z.array(z.instanceof(RegExp)).optional(),
      }),
    ])
    .optional(),
  clock: z.custom<{ now(): Date }>((c) => typeof c === "object" && c !== null && typeof (c as { now: unknown }).now === "function", { message: "must have now(): Date" }).optional(),
  ids: fn().optional(),
  authorize: fn().optional(),
  onError: fn().optional(),
  routes: RoutesSchema.optional(),
  delivery: z
    .object({
      closeTimeoutMs: z.number().int().min(0).max(600_000).optional(),
      pollMs: z.number().int().min(10).max(600_000).optional(),
      leaseMs: z.number().int().min(1000).max(86_400_000).optional(),
      retentionMs: z.number().int().min(0).optional(),
      strandedAfterMs: z.number().int().min(1000).max(30 * 86_400_000).optional(),
    })
    .strict()
    .optional(),
  spool: SpoolOptionsSchema.optional(),
  noise: NoiseOptionsSchema.optional(),
});

const FeedQuerySchema = z
  .object({ after: z.number().int().min(0).optional(), workspaceId: IdSchema.optional(), limit: z.number().int().min(1).max(1000).optional() })
  .strict();

/**
 * Creates the incident system. Everything is optional: with no options it keeps incidents in
 * memory, uses the seed's severity table, and the system clock.
 *
 * @example
 * ```ts
 * const incidents = createIncidents();
 * const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
 * const { incident, outcome } = await report.executionFailed({ runId, eventId, action, connector, error });
 * ```
 */
export function createIncidents(options: IncidentsOptions = {}): Incidents {
  const parsed = parseOrThrow(OptionsSchema, options, "createIncidents options");
  const noise = parsed.noise ?? NoiseOptionsSchema.parse({});
  const onError = options.onError ?? ((error: unknown, event: IncidentEvent) => console.error(`agent-incidents: a handler of ${event.type} failed`, error));
  const events = new IncidentEvents(onError);
  const store = options.store ?? memoryStore();
  const ids = options.ids ?? ulidFactory();
  const clock = options.clock ?? { now: () => new Date() };
  // a store without a feed and outbox of its own gets them in this process's memory
  const local = store.outbox ? null : memoryOutbox();
  const feed = store.feed ?? local?.feed ?? memoryOutbox().feed;
  const timers = store.timers ?? memoryTimers();
  const silences = store.silences ?? memorySilences();
  const now = () => engine.now();
  let runner: TimerRunner | undefined;
  const delivery = createDelivery({
    routes: options.routes ?? [],
    outbox: store.outbox ?? local!.outbox,
    durable: store.durable && store.outbox !== undefined,
    // delivery ids and times never fail a delivery: the host's ids and clock are for incidents
    newId: (() => {
      const next = ulidFactory();
      return (prefix: string) => `${prefix}_${next()}`;
    })(),
    failed: (notification, notifier, attempts, error) =>
      events.emit({ id: `evt_${notification.id}`, type: "notification.failed", timestamp: new Date().toISOString(), data: { notification, notifier, attempts, error } }),
    closeTimeoutMs: options.delivery?.closeTimeoutMs ?? 5000,
    pollMs: options.delivery?.pollMs ?? 1000,
    leaseMs: options.delivery?.leaseMs ?? 60_000,
    retentionMs: options.delivery?.retentionMs ?? 7 * 86_400_000,
    strandedAfterMs: options.delivery?.strandedAfterMs ?? 60 * 60 * 1000,
    views: createNoiseViews({ store, silences, inhibit: noise.inhibit, now }),
    runTimers: () => runner?.runDue() ?? Promise.resolve(0),
  });
  const engine = createEngine({
    store,
    delivery,
    committed: (change) => {
      local?.append(change);
      delivery.poke();
    },
    events,
    authorize: options.authorize ?? defaultAuthorize,
    runs: options.runs,
    runTimeoutMs: options.runTimeoutMs ?? 5000,
    clock,
    ids,
    rules: options.severityRules ?? defaultSeverityRules,
    repeat: options.dedup?.repeat ?? DEFAULT_REPEAT,
    reopenWithinMs: options.dedup?.reopenWithinMs ?? 24 * 60 * 60 * 1000,
    fingerprint: options.dedup?.fingerprint,
    customRules: options.severityRules !== undefined,
    redact: options.redact ?? {},
    snapshotEvents: options.snapshotEvents ?? DEFAULT_SNAPSHOT_EVENTS,
    spool: options.spool === false ? null : { ...DEFAULT_SPOOL, filename: undefined, ...options.spool, closeTimeoutMs: options.delivery?.closeTimeoutMs ?? 5000 },
    noise,
    timers,
    silences,
  });
  runner = createTimerRunner(engine, `tmr_${ulidFactory()()}`);

  return {
    reporter: (scope) => createReporter(engine, scope),
    report: (signal) => reportSignal(engine, signal),
    as: (actor) => createOperator(engine, actor),
    on: (type, handler) => events.on(type, handler),
    off: (type, handler) => events.off(type, handler),
    deliveries: {
      list: (query) => engine.run(() => delivery.deliveries.list(query)),
      retry: (target, extra) => engine.run(() => delivery.deliveries.retry(target, extra)),
    },
    feed: {
      read: (query = {}) =>
        engine.run(() => {
          const q = parseArgument(FeedQuerySchema, query, "query");
          return feed.read({ after: q.after ?? 0, limit: q.limit ?? 100, workspaceId: q.workspaceId });
        }),
      head: () => engine.run(() => feed.head()),
    },
    runDue: () => engine.run(() => runner!.runDue()),
    settle: () =>
      engine.run(async () => {
        await engine.idle();
        await delivery.settle();
      }),
    close: () => engine.close(),
  };
}
