import { EventEmitter } from "eventemitter3";
import type { Incident } from "./core/incident.js";

/** Event names `incidents.on(...)` accepts. */
export type IncidentEventType =
  | "incident.created"
  | "incident.recurred"
  | "incident.updated"
  | "incident.resolved"
  | "incident.reopened";

/** What a handler receives; the same shape as a notification. */
export interface IncidentEvent<T extends IncidentEventType = IncidentEventType> {
  id: string;
  type: T;
  /** ISO time the change was committed. */
  timestamp: string;
  data: { incident: Incident; previous?: Incident };
}

export type IncidentEventHandler<T extends IncidentEventType = IncidentEventType> = (event: IncidentEvent<T>) => void | Promise<void>;

type EventMap = { [K in IncidentEventType]: [IncidentEvent<K>] };

/**
 * A typed emitter whose handlers can never break the caller: a handler that throws or rejects is
 * reported to `onError` and the other handlers still run.
 */
export class IncidentEvents {
  readonly #emitter = new EventEmitter<EventMap>();
  readonly #wrapped = new Map<IncidentEventHandler<never>, (event: never) => void>();
  readonly #onError: (error: unknown, event: IncidentEvent) => void;

  constructor(onError: (error: unknown, event: IncidentEvent) => void) {
    this.#onError = onError;
  }

  on<T extends IncidentEventType>(type: T, handler: IncidentEventHandler<T>): () => void {
    const safe = (event: IncidentEvent<T>) => {
      try {
        const result = handler(event);
        if (result && typeof (result as Promise<void>).catch === "function") {
          (result as Promise<void>).catch((error: unknown) => this.#onError(error, event));
        }
      } catch (error) {
        this.#onError(error, event);
      }
    };
    this.#wrapped.set(handler as IncidentEventHandler<never>, safe as (event: never) => void);
    this.#emitter.on(type, safe as never);
    return () => this.off(type, handler);
  }

  off<T extends IncidentEventType>(type: T, handler: IncidentEventHandler<T>): void {
    const safe = this.#wrapped.get(handler as IncidentEventHandler<never>);
    if (safe) this.#emitter.off(type, safe as never);
  }

  emit<T extends IncidentEventType>(event: IncidentEvent<T>): void {
    this.#emitter.emit(event.type, event as never);
  }

  clear(): void {
    this.#emitter.removeAllListeners();
    this.#wrapped.clear();
  }
}
