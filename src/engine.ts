import type { Authorize } from "./core/access.js";
import { asIncidentError, ClosedError, ValidationError } from "./core/errors.js";
import { fingerprintOf, mergesByFingerprint, scopeFingerprint } from "./core/fingerprint.js";
import type { ActivityActor, Incident } from "./core/incident.js";
import { decideIngest, type ReportOutcome } from "./core/ingest.js";
import { redact, type RedactOptions } from "./core/redact.js";
import type { RepeatPolicy, SeverityRule } from "./core/severity.js";
import type { Signal } from "./core/signals.js";
import { buildSnapshot } from "./core/snapshot.js";
import type { IncidentEvents, IncidentEventType } from "./events.js";
import type { IncidentStore } from "./stores/contract.js";
import type { RunSource } from "./run-source.js";

/** What every report resolves to. */
export interface ReportResult {
  incident: Incident;
  outcome: ReportOutcome;
}

/** The wired internals shared by the reporter and operator APIs. @internal */
export interface Engine {
  readonly store: IncidentStore;
  readonly events: IncidentEvents;
  readonly authorize: Authorize;
  readonly runs: RunSource | undefined;
  now(): string;
  newId(prefix: string): string;
  /** Runs an async operation: rejects once closed, tracks it for `close()`, wraps foreign errors. */
  run<T>(operation: () => Promise<T>): Promise<T>;
  ingest(signal: Signal, actor: ActivityActor): Promise<ReportResult>;
  emit(type: IncidentEventType, incident: Incident, previous?: Incident): void;
  close(): Promise<void>;
}

export interface EngineConfig {
  store: IncidentStore;
  events: IncidentEvents;
  authorize: Authorize;
  runs: RunSource | undefined;
  clock: { now(): Date };
  ids: () => string;
  rules: readonly SeverityRule[];
  repeat: RepeatPolicy;
  reopenWithinMs: number;
  fingerprint: ((signal: Signal) => string) | undefined;
  redact: RedactOptions | false;
  snapshotEvents: number;
}

/** Signal fields that locate it; everything else is payload and gets redacted. */
const SCOPE_KEYS = new Set(["kind", "workspaceId", "agentId", "environment", "runId", "eventId", "traceId", "spanId", "tags", "context"]);

export function createEngine(config: EngineConfig): Engine {
  const { store, events } = config;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  const now = (): string => {
    const date = config.clock.now();
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw optionError("clock", "clock.now() must return a valid Date");
    return date.toISOString();
  };

  const newId = (prefix: string): string => {
    const id = config.ids();
    if (typeof id !== "string" || id.length === 0) throw optionError("ids", "ids() must return a non-empty string");
    return `${prefix}_${id}`;
  };

  const wrap = (error: unknown) => asIncidentError(error, store.name);

  const run = <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new ClosedError());
    const promise = (async () => {
      try {
        return await operation();
      } catch (error) {
        throw wrap(error);
      }
    })();
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  const emit = (type: IncidentEventType, incident: Incident, previous?: Incident): void => {
    events.emit({
      id: newId("evt"),
      type,
      timestamp: incident.updatedAt > incident.lastSeenAt ? incident.updatedAt : incident.lastSeenAt,
      data: previous ? { incident, previous } : { incident },
    });
  };

  const clean = (signal: Signal): Signal => {
    if (config.redact === false) return signal;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(signal)) {
      out[key] = SCOPE_KEYS.has(key) ? value : redact(value, config.redact);
    }
    return out as Signal;
  };

  const fingerprintFor = (signal: Signal): string => {
    if (!config.fingerprint) return fingerprintOf(signal);
    const custom = config.fingerprint(signal);
    if (typeof custom !== "string" || custom.length === 0) {
      throw optionError("dedup.fingerprint", "dedup.fingerprint(signal) must return a non-empty string");
    }
    return scopeFingerprint(signal, custom);
  };

  const ingest = async (raw: Signal, actor: ActivityActor): Promise<ReportResult> => {
    const signal = clean(raw);
    const at = now();
    const merge = mergesByFingerprint(signal);
    const idempotent = signal.kind !== "manual";
    const plan = {
      signal,
      fingerprint: fingerprintFor(signal),
      now: at,
      incidentId: newId("inc"),
      activityId: newId("act"),
      actor,
      rules: config.rules,
      repeat: config.repeat,
      reopenWithinMs: config.reopenWithinMs,
    };
    const result = await store.ingest({
      workspaceId: signal.workspaceId,
      fingerprint: plan.fingerprint,
      merge,
      runId: idempotent ? (signal.runId ?? null) : null,
      eventId: idempotent ? (signal.eventId ?? null) : null,
      traceId: signal.traceId ?? null,
      at,
      windowStart: new Date(Date.parse(at) - config.repeat.windowMs).toISOString(),
      snapshot: () => buildSnapshot(raw, { maxEvents: config.snapshotEvents, redact: config.redact }),
      decide: (existing, recent) => decideIngest(plan, existing, recent),
    });
    if (result.outcome !== "duplicate") {
      emit(result.outcome === "created" ? "incident.created" : result.outcome === "reopened" ? "incident.reopened" : "incident.recurred", result.incident);
    }
    return result;
  };

  return {
    store,
    events,
    authorize: config.authorize,
    runs: config.runs,
    now,
    newId,
    run,
    ingest,
    emit,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      events.clear();
      try {
        await store.close();
      } catch (error) {
        throw wrap(error);
      }
    },
  };
}

function optionError(option: string, message: string): ValidationError {
  return new ValidationError("option", [{ path: option.split("."), message, code: "custom" }]);
}
