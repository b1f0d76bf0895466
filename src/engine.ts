/**
 * The engine behind the reporter and operator APIs. A report's path: the reporter copies the
 * input within bounds (`toPlain`) and validates it with zod; `ingest` cleans it (sanitized,
 * redacted, capped), computes the fingerprint and hands the store an `IngestRequest` whose pure
 * `decide` (core/ingest.ts) says what to write (concurrent reports of one fingerprint go together,
 * ingest-batcher.ts); the store runs it in one transaction and appends
 * the change to its feed; the engine then tells delivery a change was committed (it plans
 * notifications from the feed, see notifiers/delivery.ts) and emits the event to listeners, each
 * with its own frozen copy.
 */
import type { Authorize, Permission } from "./core/access.js";
import { asIncidentError, CallbackError, ClosedError, describeError } from "./core/errors.js";
import { fingerprintOf, mergesByFingerprint, scopeFingerprint } from "./core/fingerprint.js";
import type { Actor } from "./core/schemas.js";
import type { ActivityActor, Incident } from "./core/incident.js";
import { decideIngest, type ReportOutcome } from "./core/ingest.js";
import { frozenJson, isPlainRecord, setKey } from "./core/plain.js";
import { cleanValue, type RedactOptions } from "./core/redact.js";
import type { RepeatPolicy, SeverityRule } from "./core/severity.js";
import type { ManualSignal, RunEvent, Signal } from "./core/signals.js";
import { buildSnapshot } from "./core/snapshot.js";
import { isSafeId, jsonFits, utf8Length } from "./core/text.js";
import type { IncidentChangeType, IncidentEvents } from "./events.js";
import { changeOfReport, type ChangeInput } from "./core/notification.js";
import type { Delivery } from "./notifiers/delivery.js";
import type { IncidentStore } from "./stores/contract.js";
import type { RunSource } from "./run-source.js";
import { createSpool, within, type PendingReport } from "./spool/spool.js";
import { createBatcher } from "./ingest-batcher.js";
import type { NoiseOptions } from "./core/noise.js";
import { timer } from "./core/noise.js";
import { applyOperation, type Operation } from "./core/operations.js";
import type { SilenceStore, TimerStore } from "./stores/contract.js";

/** A report the store took: the incident it created or updated, and how. */
export interface WrittenReport {
  incident: Incident;
  outcome: ReportOutcome;
}

/**
 * A report kept in the spool because the store was away (or older reports still wait there). It
 * is written as soon as the store answers, as of the time it was made: `report.written` says so.
 */
export interface SpooledReport {
  incident: null;
  outcome: "spooled";
}

/** What every report resolves to: narrow on `outcome` (`"spooled"` has no incident yet). */
export type ReportResult = WrittenReport | SpooledReport;

/** The wired internals shared by the reporter and operator APIs. @internal */
export interface Engine {
  readonly store: IncidentStore;
  readonly events: IncidentEvents;
  readonly runs: RunSource | undefined;
  readonly runTimeoutMs: number;
  readonly redact: RedactOptions | false;
  now(): string;
  newId(prefix: string): string;
  /** Asks the host's `authorize`; a throw is a `CallbackError`. */
  allowed(actor: Actor, permission: Permission): boolean;
  /** Operator text as stored: sanitized, redacted, capped. */
  text(value: string): string;
  /** Runs an async operation: rejects once closed, tracks it for `close()`, wraps foreign errors. */
  run<T>(operation: () => Promise<T>): Promise<T>;
  /** A manual signal is never spooled: it has no idempotency key, and its operator waits for the incident. */
  ingest(signal: ManualSignal, actor: ActivityActor): Promise<WrittenReport>;
  ingest(signal: Signal, actor: ActivityActor): Promise<ReportResult>;
  /** Routes and delivery of notifications. @internal */
  readonly delivery: Delivery;
  /** Hands a committed change to delivery (and to the local feed when the store has none). */
  committed(change: ChangeInput): void;
  /** Emits a committed change; `eventId` was made before the commit, so emitting cannot fail. */
  emit(type: IncidentChangeType, eventId: string, incident: Incident, previous?: Incident): void;
  /**
   * Applies one operation to an incident in the store's transaction, then hands the change to
   * delivery and listeners. Resolves to the incident and the change (`null` when nothing changed).
   */
  apply(workspaceId: string, id: string, op: Operation, actor: ActivityActor, expectedVersion?: number): Promise<{ incident: Incident; change: ChangeInput | null }>;
  /** Noise control: grouping, inhibition and flap detection options. */
  readonly noise: NoiseOptions;
  /** Durable timers: the store's, or this process's. */
  readonly timers: TimerStore;
  /** Silences: the store's, or this process's. */
  readonly silences: SilenceStore;
  /** Hands out background work (a timer scheduled after a commit) so `close()` and `runDue()` wait for it. */
  track<T>(work: Promise<T>): Promise<T>;
  /** Resolves once the background work handed out so far has settled. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface EngineConfig {
  store: IncidentStore;
  delivery: Delivery;
  /** Called after each commit with the change it made. Must not throw. */
  committed(change: ChangeInput): void;
  events: IncidentEvents;
  authorize: Authorize;
  runs: RunSource | undefined;
  runTimeoutMs: number;
  clock: { now(): Date };
  ids: () => string;
  rules: readonly SeverityRule[];
  repeat: RepeatPolicy;
  reopenWithinMs: number;
  fingerprint: ((signal: Signal) => string) | undefined;
  /** True when the host replaced the severity rules: they then see a frozen copy of the signal. */
  customRules: boolean;
  redact: RedactOptions | false;
  snapshotEvents: number;
  noise: NoiseOptions;
  timers: TimerStore;
  silences: SilenceStore;
  /** Keeps reports while the store is away (spool/spool.ts); null turns that off. */
  spool: { maxReports: number; maxBytes: number; filename: string | undefined; closeTimeoutMs: number } | null;
}

/** Most characters of an error stack kept (16 KiB); other strings keep 8 KiB. */
export const MAX_STACK = 16 * 1024;
/** Most bytes of JSON one payload (an action's, an anomaly's detail, the data context) keeps. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** Signal fields that locate it: validated ids, kept as they are. Everything else is cleaned. */
const SCOPE_KEYS = new Set(["kind", "workspaceId", "agentId", "environment", "runId", "eventId", "traceId", "spanId"]);
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** How many `createIncidents` instances use each store: the last one to close closes it. */
const storeUsers = new WeakMap<IncidentStore, number>();

export function createEngine(config: EngineConfig): Engine {
  const { store, events } = config;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  storeUsers.set(store, (storeUsers.get(store) ?? 0) + 1);

  const now = (): string => {
    let time: number;
    try {
      // the Date's own time, read past any subclass: a toISOString of its own could write non-UTC times
      time = Date.prototype.getTime.call(config.clock.now());
    } catch (error) {
      throw new CallbackError("clock", `clock.now() must return a Date: ${describeError(error)}`, { cause: error });
    }
    if (!(time >= MIN_TIME && time <= MAX_TIME)) {
      throw new CallbackError("clock", "clock.now() must return a valid Date between 1970 and 9999");
    }
    return new Date(time).toISOString();
  };

  const newId = (prefix: string): string => {
    let id: unknown;
    try {
      id = config.ids();
    } catch (error) {
      throw new CallbackError("ids", `ids() threw: ${describeError(error)}`, { cause: error });
    }
    if (typeof id !== "string" || id.length === 0 || id.length > 190 || !isSafeId(id) || /\s/.test(id)) {
      throw new CallbackError("ids", "ids() must return a non-empty string of at most 190 characters, without whitespace, NUL or unpaired surrogates");
    }
    return `${prefix}_${id}`;
  };

  const run = <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new ClosedError());
    const promise = (async () => {
      try {
        return await operation();
      } catch (error) {
        throw asIncidentError(error, store.name);
      }
    })();
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  const emit = (type: IncidentChangeType, eventId: string, incident: Incident, previous?: Incident): void => {
    if (!events.has(type)) return;
    events.emit({
      id: eventId,
      type,
      timestamp: incident.updatedAt > incident.lastSeenAt ? incident.updatedAt : incident.lastSeenAt,
      data: previous ? { incident, previous } : { incident },
    });
  };

  /** The signal as stored: every string sanitized, payloads redacted and capped. */
  const clean = (signal: Signal): Signal => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(signal)) {
      const value = (signal as Record<string, unknown>)[key];
      if (SCOPE_KEYS.has(key)) setKey(out, key, value);
      else if (key === "error" && signal.kind === "agent_error") setKey(out, key, cleanAgentError(signal.error));
      // each event and the data context are payloads of their own: the depth limit counts from each
      else if (key === "context") setKey(out, key, mapContext(signal.context!, cleanPayload, cleanPayload));
      else setKey(out, key, cleanValue(value, config.redact));
    }
    // a signal whose whole JSON fits has no payload over the cap
    if (jsonFits(out, MAX_PAYLOAD_BYTES)) return out as Signal;
    for (const key of Object.keys(out)) {
      if (SCOPE_KEYS.has(key) || (key === "error" && signal.kind === "agent_error")) continue;
      setKey(out, key, key === "context" ? mapContext(out[key] as NonNullable<Signal["context"]>, capPayloads, capRecord) : capPayloads(out[key]));
    }
    return out as Signal;
  };

  const cleanPayload = (value: unknown) => cleanValue(value, config.redact);

  const cleanAgentError = (error: Extract<Signal, { kind: "agent_error" }>["error"]) => {
    const out = cleanValue({ name: error.name, message: error.message }, config.redact) as Record<string, unknown>;
    if (error.stack !== undefined) out["stack"] = cleanValue(error.stack, config.redact, MAX_STACK);
    return out;
  };

  const fingerprintFor = (signal: Signal): string => {
    if (!config.fingerprint) return fingerprintOf(signal);
    let custom: unknown;
    try {
      custom = config.fingerprint(frozenJson(signal));
    } catch (error) {
      throw new CallbackError("dedup.fingerprint", `dedup.fingerprint(signal) threw: ${describeError(error)}`, { cause: error });
    }
    if (typeof custom !== "string" || custom.length === 0) {
      throw new CallbackError("dedup.fingerprint", "dedup.fingerprint(signal) must return a non-empty string");
    }
    return scopeFingerprint(signal, custom.slice(0, 1000));
  };

  /**
   * Applies a cleaned signal as of `at`: the store's transaction, then the change to delivery and
   * to listeners. A report kept back while the store was away is applied later through here, with
   * its own time.
   */
  const ingestOne = createBatcher(store);
  const ingestAt = async (signal: Signal, actor: ActivityActor, at: string): Promise<ReportResult> => {
    const merge = mergesByFingerprint(signal);
    const idempotent = signal.kind !== "manual";
    const eventId = newId("evt");
    const plan = {
      // host rules see a frozen copy: one that changes the signal cannot change what is stored
      signal: config.customRules ? frozenJson(signal) : signal,
      fingerprint: fingerprintFor(signal),
      now: at,
      incidentId: newId("inc"),
      activityId: newId("act"),
      actor,
      rules: config.rules,
      repeat: config.repeat,
      reopenWithinMs: config.reopenWithinMs,
      groups: config.noise.groups,
      flapping: config.noise.flapping,
    };
    let existing: Incident | null = null;
    const result = await ingestOne({
      workspaceId: signal.workspaceId,
      kind: signal.kind,
      fingerprint: plan.fingerprint,
      merge,
      runId: idempotent ? (signal.runId ?? null) : null,
      eventId: idempotent ? (signal.eventId ?? null) : null,
      traceId: signal.traceId ?? null,
      at,
      windowStart: new Date(Date.parse(at) - config.repeat.windowMs).toISOString(),
      snapshot: () => buildSnapshot(signal, { maxEvents: config.snapshotEvents, redact: false }),
      decide: (found, recent) => {
        existing = found;
        return decideIngest(plan, found, recent);
      },
    });
    const change = changeOfReport(result.outcome, result.incident, existing, at);
    if (change) {
      const held = result.incident.noise.heldUntil;
      // a new or reopened incident held for its group window: the window's end is a durable timer
      if (held !== null && result.outcome !== "recurred") await scheduleWindow(result.incident, held);
      config.committed(change);
      emit(result.outcome === "created" ? "incident.created" : result.outcome === "reopened" ? "incident.reopened" : "incident.recurred", eventId, result.incident);
      emitFlap(existing, result.incident);
    }
    return result;
  };

  /** The group window's timer; the report is written whatever happens here (the hold lapses by itself). */
  const scheduleWindow = async (incident: Incident, dueAt: string): Promise<void> => {
    const row = timer("group", incident.workspaceId, incident.id, dueAt);
    await config.timers.schedule([row]).catch(() => track(config.timers.schedule([row])).catch(() => undefined));
  };

  /** A change that started or stopped flapping is also told as such. */
  const emitFlap = (previous: Incident | null, incident: Incident): void => {
    if (!previous || previous.noise.flapping === incident.noise.flapping) return;
    emit(incident.noise.flapping ? "incident.flapping_started" : "incident.flapping_stopped", newId("evt"), incident, previous);
  };

  const background = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    background.add(work);
    const forget = () => background.delete(work);
    work.then(forget, forget);
    return work;
  };

  const apply: Engine["apply"] = async (workspaceId, id, op, actor, expectedVersion) => {
    const eventId = newId("evt");
    let change: ChangeInput | null = null;
    const incident = await store.mutate(workspaceId, id, (current) => {
      const result = applyOperation(current, op, { actor, now: now(), activityId: newId("act"), expectedVersion, flapping: config.noise.flapping });
      change = result && { workspaceId, incidentId: id, event: result.event, at: result.at ?? result.activity?.at ?? current.updatedAt, incident: result.incident, previous: current };
      return result;
    });
    if (change) {
      const committed = change as ChangeInput;
      config.committed(committed);
      emit(`incident.${committed.event}`, eventId, incident, committed.previous!);
      emitFlap(committed.previous, incident);
    }
    return { incident, change };
  };

  // the spool writes the reports it keeps through ingestAt, each as of its own time; ingestAt's
  // result is always a written report (ReportResult only gained the spooled case)
  const write = (report: PendingReport) => ingestAt(report.signal, report.actor, report.at) as Promise<WrittenReport>;
  const spool = config.spool && createSpool({ ...config.spool, write, events, adapter: store.name });
  const ingest = async (raw: Signal, actor: ActivityActor): Promise<ReportResult> => {
    const signal = clean(raw);
    const at = now();
    if (!spool || signal.kind === "manual") return ingestAt(signal, actor, at);
    return spool.report({ signal, actor, at }, () => fingerprintFor(signal));
  };

  return {
    store,
    events,
    delivery: config.delivery,
    committed: config.committed,
    runs: config.runs,
    runTimeoutMs: config.runTimeoutMs,
    redact: config.redact,
    now,
    newId,
    allowed(actor, permission) {
      let answer: unknown;
      try {
        answer = config.authorize(actor, permission);
      } catch (error) {
        throw new CallbackError("authorize", `authorize(actor, "${permission}") threw: ${describeError(error)}`, { cause: error });
      }
      if (typeof answer !== "boolean") throw new CallbackError("authorize", `authorize(actor, "${permission}") must return true or false, synchronously`);
      return answer;
    },
    text: (value) => cleanValue(value, config.redact) as string,
    run,
    ingest: ingest as Engine["ingest"],
    emit,
    apply,
    noise: config.noise,
    timers: config.timers,
    silences: config.silences,
    track,
    async idle() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (spool) {
        // with the spool on, close() settles by its deadline even when the store hangs
        const deadline = Date.now() + config.spool!.closeTimeoutMs;
        await within(Promise.allSettled([...inFlight]), deadline);
        await spool.close(deadline);
      } else {
        await Promise.allSettled([...inFlight]);
      }
      await Promise.allSettled([...background]);
      await config.delivery.close();
      events.clear();
      const users = (storeUsers.get(store) ?? 1) - 1;
      storeUsers.set(store, users);
      if (users > 0) return;
      try {
        await store.close();
      } catch (error) {
        throw asIncidentError(error, store.name);
      }
    },
  };
}

/** The context with each run event and the data context passed through `event` and `data`. */
function mapContext(context: NonNullable<Signal["context"]>, event: (value: RunEvent) => unknown, data: (value: Record<string, unknown>) => unknown) {
  const out: Record<string, unknown> = {};
  if (context.events) setKey(out, "events", context.events.map((item) => event(item)));
  if (context.data) setKey(out, "data", data(context.data));
  return out;
}

/** Caps the payloads a cleaned value carries: each record at most 64 KiB of JSON. */
function capPayloads(value: unknown): unknown {
  if (!isPlainRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) setKey(out, key, isPlainRecord(item) ? capRecord(item) : item);
  return capRecord(out);
}

/**
 * The record if its JSON fits in {@link MAX_PAYLOAD_BYTES}; otherwise the keys that fit, in
 * order, and a `…truncated` key saying how many were left out.
 */
export function capRecord(record: Record<string, unknown>): Record<string, unknown> {
  if (jsonFits(record, MAX_PAYLOAD_BYTES)) return record;
  const out: Record<string, unknown> = {};
  const budget = MAX_PAYLOAD_BYTES - 200;
  let used = 2;
  let left = 0;
  for (const [key, value] of Object.entries(record)) {
    const size = utf8Length(JSON.stringify(key)) + utf8Length(JSON.stringify(value) ?? "null") + 2;
    if (used + size > budget) {
      left += 1;
      continue;
    }
    used += size;
    setKey(out, key, value);
  }
  setKey(out, "…truncated", `${left} of ${Object.keys(record).length} keys left out: larger than ${MAX_PAYLOAD_BYTES} bytes of JSON`);
  return out;
}


