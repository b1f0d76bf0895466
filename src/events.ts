import { EventEmitter } from "eventemitter3";
import { ValidationError } from "./core/errors.js";
import { frozenJson } from "./core/plain.js";
import type { Incident } from "./core/incident.js";
import type { ReportOutcome } from "./core/ingest.js";
import type { ReportableSignal } from "./core/signals.js";
import type { Notification, NotificationEvent } from "./core/notification.js";
// for the doc link
import { NOTIFICATION_EVENTS } from "./core/notification.js";

/**
 * Changes of incidents, as `incidents.on(...)` names them: the same names notifications have
 * (`incident.<event>` of {@link NOTIFICATION_EVENTS}). `incident.updated` is a note, an
 * assignment or investigating.
 */
export type IncidentChangeType = `incident.${NotificationEvent}`;

/** What happened to a report the store could not take at once (see the `spool` option). */
export type ReportSpoolEventType = "report.spooled" | "report.written" | "report.dropped";

/** Event names `incidents.on(...)` accepts. */
export type IncidentEventType = IncidentChangeType | "notification.failed" | ReportSpoolEventType;

export const EVENT_TYPES: readonly IncidentEventType[] = [
  ...NOTIFICATION_EVENTS.map((event) => `incident.${event}` as const),
  "notification.failed",
  "report.spooled",
  "report.written",
  "report.dropped",
];

/** A committed change; the same shape as a notification. Frozen: handlers share it. */
export interface IncidentChangeEvent<T extends IncidentChangeType = IncidentChangeType> {
  id: string;
  type: T;
  /** ISO time the change was committed. */
  timestamp: string;
  data: { incident: Incident; previous?: Incident };
}

/** A notification that could not be delivered after its last try. */
export interface NotificationFailedEvent {
  id: string;
  type: "notification.failed";
  timestamp: string;
  data: { notification: Notification; notifier: string; attempts: number; error: string };
}

/** Which report a spool event is about: the signal's identity and when it was reported. */
export interface SpooledReportIdentity {
  workspaceId: string;
  agentId: string;
  kind: ReportableSignal["kind"];
  runId: string;
  eventId: string;
  /** ISO time of the report; the incident is written as of this time, however late. */
  at: string;
}

/**
 * A report was kept in the spool: the store was away (a retryable `StorageError`), or older
 * reports were still waiting. The reporter's promise resolved to `{ incident: null, outcome:
 * "spooled" }`. With `kept: true` it is emitted by `close()` instead, once per report still in
 * the spool file: the next start writes it.
 */
export interface ReportSpooledEvent {
  id: string;
  type: "report.spooled";
  timestamp: string;
  data: SpooledReportIdentity & {
    /** The spool's size with this report in it (for `kept`, the reports left in the file). */
    spool: { reports: number; bytes: number };
    /** True when `close()` left it in the spool file for the next start. */
    kept: boolean;
  };
}

/**
 * A spooled report was written. The incident's own event (`incident.created`, `.recurred` or
 * `.reopened`) fires too, unless the outcome is `duplicate` (it had been written before).
 */
export interface ReportWrittenEvent {
  id: string;
  type: "report.written";
  timestamp: string;
  data: { incident: Incident; outcome: ReportOutcome; spooledAt: string };
}

/**
 * A report that will not be written: the spool was full (the reporter's promise rejected), the
 * store refused it on replay (`reason` is its error), `close()` came before the store answered,
 * or a line of the spool file could not be read (`reason` "unreadable spool line", `line` its
 * number, every identity field null).
 */
export interface ReportDroppedEvent {
  id: string;
  type: "report.dropped";
  timestamp: string;
  data: { [K in keyof SpooledReportIdentity]: SpooledReportIdentity[K] | null } & { reason: string; line?: number };
}

/** What a handler of `T` receives. */
export type IncidentEvent<T extends IncidentEventType = IncidentEventType> = T extends "notification.failed"
  ? NotificationFailedEvent
  : T extends IncidentChangeType
    ? IncidentChangeEvent<T>
    : T extends "report.spooled"
      ? ReportSpooledEvent
      : T extends "report.written"
        ? ReportWrittenEvent
        : T extends "report.dropped"
          ? ReportDroppedEvent
          : never;

/** A listener for events of type `T`, given a deep-frozen copy of each; what it throws or rejects with goes to `onError`. */
export type IncidentEventHandler<T extends IncidentEventType = IncidentEventType> = (event: IncidentEvent<T>) => void | Promise<void>;

type EventMap = { [K in IncidentEventType]: [IncidentEvent<K>] };
type Safe = (event: never) => void;

/**
 * A typed emitter whose handlers can never break the caller or the process: a handler that throws
 * or rejects is reported to `onError`, an `onError` that throws is ignored, and the other
 * handlers still run. Handlers get a deep-frozen copy, so none can change what the reporter
 * returned or what the next handler sees.
 */
export class IncidentEvents {
  readonly #emitter = new EventEmitter<EventMap>();
  /** Per event type, each handler's wrappers (a handler may be added twice). */
  readonly #wrapped = new Map<IncidentEventType, Map<IncidentEventHandler<never>, Safe[]>>();
  readonly #onError: (error: unknown, event: IncidentEvent) => void;

  constructor(onError: (error: unknown, event: IncidentEvent) => void) {
    this.#onError = onError;
  }

  on<T extends IncidentEventType>(type: T, handler: IncidentEventHandler<T>): () => void {
    check(type, handler);
    const safe = (event: IncidentEvent<T>) => {
      try {
        const result: unknown = handler(event);
        if ((typeof result === "object" || typeof result === "function") && result !== null) {
          Promise.resolve(result).catch((error: unknown) => this.#report(error, event));
        }
      } catch (error) {
        this.#report(error, event);
      }
    };
    let byHandler = this.#wrapped.get(type);
    if (!byHandler) this.#wrapped.set(type, (byHandler = new Map()));
    const list = byHandler.get(handler as IncidentEventHandler<never>) ?? [];
    list.push(safe as Safe);
    byHandler.set(handler as IncidentEventHandler<never>, list);
    this.#emitter.on(type, safe as never);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      this.#remove(type, handler as IncidentEventHandler<never>, safe as Safe);
    };
  }

  off<T extends IncidentEventType>(type: T, handler: IncidentEventHandler<T>): void {
    check(type, handler);
    const safe = this.#wrapped.get(type)?.get(handler as IncidentEventHandler<never>)?.at(-1);
    if (safe) this.#remove(type, handler as IncidentEventHandler<never>, safe);
  }

  has(type: IncidentEventType): boolean {
    return this.#emitter.listenerCount(type) > 0;
  }

  emit<T extends IncidentEventType>(event: IncidentEvent<T>): void {
    this.#emitter.emit(event.type, frozenJson(event) as never);
  }

  clear(): void {
    this.#emitter.removeAllListeners();
    this.#wrapped.clear();
  }

  #remove(type: IncidentEventType, handler: IncidentEventHandler<never>, safe: Safe): void {
    const byHandler = this.#wrapped.get(type);
    const list = byHandler?.get(handler);
    const index = list?.indexOf(safe) ?? -1;
    if (!byHandler || !list || index < 0) return;
    list.splice(index, 1);
    if (list.length === 0) byHandler.delete(handler);
    this.#emitter.off(type, safe as never);
  }

  #report(error: unknown, event: IncidentEvent): void {
    try {
      const result: unknown = this.#onError(error, event);
      if ((typeof result === "object" || typeof result === "function") && result !== null) Promise.resolve(result).catch(ignore);
    } catch {
      // onError itself failed: nothing is left to tell, and the report must not fail for it
    }
  }
}

function ignore(): void {
  // an onError that rejects: nothing is left to tell
}

function check(type: unknown, handler: unknown): void {
  const issues = [];
  if (!EVENT_TYPES.includes(type as IncidentEventType)) {
    issues.push({ path: ["type"], message: `must be one of ${EVENT_TYPES.join(", ")}`, code: "invalid_value" });
  }
  if (typeof handler !== "function") issues.push({ path: ["handler"], message: "must be a function", code: "invalid_type" });
  if (issues.length > 0) throw new ValidationError("event subscription", issues);
}

