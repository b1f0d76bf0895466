import type { Incident } from "../core/incident.js";
import type { Kind, Severity } from "../core/schemas.js";
import type { Notification, NotificationEvent } from "../core/notification.js";

export { NOTIFICATION_EVENTS } from "../core/notification.js";
export type { Notification, NotificationEvent, NotificationType } from "../core/notification.js";

/**
 * Retries of one delivery, with exponential backoff and jitter between them. A delivery is given
 * up on when it has had `attempts` tries or is `maxAgeMs` old, whichever comes first; one that
 * waits while its receiver is down (see the circuit breaker in guide 7) uses up no tries.
 */
export interface RetryPolicy {
  /** Tries in all, the first included (default: no limit, `maxAgeMs` decides). */
  attempts: number;
  /** The first backoff (default 1000 ms); each next one doubles it. */
  minDelayMs: number;
  /** The largest backoff (default 300 000 ms: 5 min). */
  maxDelayMs: number;
  /** How long after a change its delivery is still tried (default 86 400 000 ms: 24 h). */
  maxAgeMs: number;
}

/** What `send` is told about the attempt. */
export interface SendContext {
  /** 1 for the first try. */
  attempt: number;
  /** Aborted when the attempt times out or the instance closes: stop and reject. */
  signal: AbortSignal;
}

/**
 * Where notifications go. Implement it (wrapped in {@link defineNotifier}) to notify anything,
 * then check it with `describeNotifierConformance` from `agent-incidents/testing`.
 *
 * @example
 * ```ts
 * import { defineNotifier } from "agent-incidents/notifiers";
 * const teams = defineNotifier({
 *   name: "teams:incidents",
 *   async send(batch, { signal }) {
 *     const response = await fetch(TEAMS_URL, { method: "POST", body: JSON.stringify(batch), signal });
 *     if (!response.ok) throw new DeliveryError(`Teams answered ${response.status}`, { retryable: response.status >= 500 });
 *   },
 * });
 * ```
 */
export interface Notifier {
  /**
   * Unique among the routes of one instance. After a restart a pending delivery goes to the
   * notifier with the name it was queued for, so keep names stable.
   */
  readonly name: string;
  /**
   * Delivers a batch (one notification, or one `incident.digest`). Resolve when the receiver
   * has it; reject to have it retried. Throw a `DeliveryError` with `retryable: false` when a
   * retry cannot help (a 400). Must not hang past `context.signal`.
   */
  send(batch: readonly Notification[], context: SendContext): Promise<void>;
  /** This notifier's retry policy; the default keeps trying for 24 h, backing off from 1 s up to 5 min. */
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** How long one try may take before it is aborted and counted as failed (default 10 000 ms). */
  readonly timeoutMs?: number | undefined;
}

/** Identity helper that type-checks a notifier. */
export function defineNotifier<T extends Notifier>(notifier: T): T {
  return notifier;
}

/** Which incidents and changes go to one notifier. A filter left out matches everything. */
export interface Route {
  notifier: Notifier;
  /** Only incidents at least this severe. */
  minSeverity?: Severity;
  severities?: readonly Severity[];
  kinds?: readonly Kind[];
  agents?: readonly string[];
  /** Only incidents of these environments (`production`, `staging`, ...). */
  environments?: readonly Incident["environment"][];
  /** Only incidents of these workspaces. */
  workspaces?: readonly string[];
  events?: readonly NotificationEvent[];
  /** Batches matching notifications into one `incident.digest` per interval. */
  digest?: { everyMs: number };
  /** At most one `recurred` notification per incident per this long (default 1 h). */
  recurredEveryMs?: number;
}

/** Thrown by a notifier to say whether the delivery may be tried again. */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  /** The receiver's HTTP status, when there was one. */
  readonly status: number | undefined;
  /**
   * How long the receiver asked to be left alone (its `Retry-After`), in ms. The whole notifier
   * then waits at least this long (capped) before its next try.
   */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "DeliveryError";
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}
