/**
 * The outbox worker: one lane per notifier, so a notifier's failures and slowness stay its own.
 * A lane claims its notifier's due entries (oldest first, in order per incident), sends them one
 * after another, and settles each. A lane owns its receiver's circuit breaker: after a failed try
 * it stops sending and waits (exponential, at least the receiver's `Retry-After`), then probes
 * with one delivery at a time until one gets through; entries that wait meanwhile use up no tries.
 * A delivery is given up on (`dead`, and `notification.failed`) only when its receiver refuses it
 * for good (a non-retryable error), when it has had its notifier's `attempts`, or when it is
 * `maxAgeMs` old.
 */
import { describeError } from "../core/errors.js";
import type { ClaimedDelivery, Notification } from "../core/notification.js";
import type { Outbox } from "../stores/contract.js";
import { DeliveryError, type Notifier, type RetryPolicy } from "./contract.js";

/** Longest a receiver's `Retry-After` is honoured. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
const BATCH = 50;

/** A route's notifier as read once at start: a getter cannot change or break it later. */
export interface Target {
  name: string;
  send: Notifier["send"];
  notifier: Notifier;
  retry: RetryPolicy;
  timeoutMs: number;
}

export interface LaneOptions {
  outbox: Outbox;
  worker: string;
  leaseMs: number;
  pollMs: number;
  /** Builds a digest of entries that are due together. */
  digestOf(entries: readonly ClaimedDelivery[]): Notification;
  failed(notification: Notification, notifier: string, attempts: number, error: string): void;
}

export interface Lane {
  /** Looks for work now rather than at the next poll. */
  wake(): void;
  /** Delivers what is due, then resolves (does not wait for retries or an open breaker). */
  drain(): Promise<void>;
  /** Resolves once a claim that began after this call found nothing due (or the notifier is paused). */
  settled(): Promise<void>;
  /** Stops: aborts the try in flight, hands back what it holds; resolves once the loop ended. */
  stop(): Promise<void>;
}

/** Full jitter: a random wait up to the exponential ceiling of this attempt. */
export function backoff(policy: RetryPolicy, attempt: number): number {
  return Math.floor(Math.random() * ceiling(policy, attempt));
}

/** Half the ceiling plus a random half: a breaker's wait never collapses to nothing. */
function breakerDelay(policy: RetryPolicy, failures: number): number {
  const top = ceiling(policy, failures);
  return Math.floor(top / 2 + (Math.random() * top) / 2);
}

function ceiling(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.min(attempt - 1, 40));
}

export function createLane(target: Target, options: LaneOptions): Lane {
  const { outbox, worker } = options;
  /** Consecutive failed tries: while above zero, the breaker is open or probing. */
  let failures = 0;
  let openUntil = 0;
  /** The earliest retry this lane set: an idle lane looks again then rather than at the next poll. */
  let nextDue = Number.POSITIVE_INFINITY;
  let stopped = false;
  let draining = false;
  let woken = false;
  let wakeUp: (() => void) | null = null;
  const controllers = new Set<AbortController>();
  const leaseMs = options.leaseMs;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      timer.unref?.();
      wakeUp = done;
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
    });

  /** One try: `send` with a timeout and the stop signal; resolves to the failure, or null. */
  const attempt = async (notification: Notification, number: number): Promise<{ error: string; retryable: boolean; retryAfterMs: number } | null> => {
    const controller = new AbortController();
    controllers.add(controller);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // ends the try on timeout or stop, also when `send` ignores its signal
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => controller.abort(new DeliveryError(`no answer within ${target.timeoutMs} ms`, { retryable: true })), target.timeoutMs);
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
      });
      // a copy per try: a notifier that changes what it was given cannot change the next try
      await Promise.race([Promise.resolve().then(() => target.send.call(target.notifier, [structuredClone(notification)], { attempt: number, signal: controller.signal })), timeout]);
      return null;
    } catch (error) {
      return { error: describeError(error), retryable: isRetryable(error), retryAfterMs: retryAfterOf(error) };
    } finally {
      clearTimeout(timer);
      controllers.delete(controller);
    }
  };

  const handBack = (entries: readonly ClaimedDelivery[], settled: Array<Promise<void>>) => {
    const at = new Date().toISOString();
    for (const entry of entries) settled.push(outbox.settle(entry.id, worker, { status: "pending", attempts: entry.attempts, at }));
  };

  /** Sends what was claimed, in order; stops at the first failure (the breaker opens). */
  const deliver = async (claimed: ClaimedDelivery[], leaseEnds: number): Promise<void> => {
    const settled: Array<Promise<void>> = [];
    const digest = claimed.filter((e) => e.digest);
    const jobs = claimed.filter((e) => !e.digest).map((e) => ({ entries: [e], notification: e.notification }));
    if (digest.length > 0) jobs.push({ entries: digest, notification: options.digestOf(digest) });
    for (const [index, job] of jobs.entries()) {
      // a claim about to run out goes back untried: another worker may take it as soon as it does,
      // and sending it now could deliver it twice
      if (stopped || Date.now() < openUntil || Date.now() + target.timeoutMs > leaseEnds) {
        handBack(jobs.slice(index).flatMap((j) => j.entries), settled);
        break;
      }
      const tries = Math.max(...job.entries.map((e) => e.attempts)) + 1;
      const failure = await attempt(job.notification, tries);
      const now = Date.now();
      const at = new Date(now).toISOString();
      if (!failure) {
        failures = 0;
        openUntil = 0;
        for (const entry of job.entries) settled.push(outbox.settle(entry.id, worker, { status: "delivered", attempts: tries, at }));
        continue;
      }
      const oldest = Math.min(...job.entries.map((e) => Date.parse(e.createdAt)));
      const dead = !failure.retryable || tries >= target.retry.attempts || now - oldest >= target.retry.maxAgeMs;
      if (dead) {
        for (const entry of job.entries) settled.push(outbox.settle(entry.id, worker, { status: "dead", attempts: tries, at, error: failure.error }));
        options.failed(job.notification, target.name, tries, failure.error);
        // a receiver that refused one notification for good is still up
        if (!failure.retryable) continue;
      }
      failures += 1;
      openUntil = now + Math.max(breakerDelay(target.retry, failures), Math.min(failure.retryAfterMs, MAX_RETRY_AFTER_MS));
      if (!dead) {
        // the entry that failed waits past the next probe: one that always fails (a poison
        // notification) cannot be the probe every time and hold back the rest of the notifier
        const dueAt = openUntil + backoff(target.retry, tries);
        nextDue = Math.min(nextDue, dueAt);
        for (const entry of job.entries) settled.push(outbox.settle(entry.id, worker, { status: "pending", attempts: tries, at, dueAt: new Date(dueAt).toISOString(), error: failure.error }));
      }
    }
    // one that fails leaves its entry to the lease: it is tried again, at least once
    await Promise.allSettled(settled);
  };

  /** One claim and its deliveries; resolves to whether anything was claimed. */
  const step = async (): Promise<boolean> => {
    const now = Date.now();
    let claimed: ClaimedDelivery[];
    try {
      // while the breaker probes, one delivery at a time
      claimed = await outbox.claim({ worker, notifier: target.name, now: new Date(now).toISOString(), leaseUntil: new Date(now + leaseMs).toISOString(), limit: failures > 0 ? 1 : BATCH });
    } catch {
      return false; // the database is away: the next poll tries again
    }
    if (claimed.length === 0) return false;
    await deliver(claimed, now + leaseMs);
    return true;
  };

  /** Waiters of `settled()`, with the step count when they asked: a later step's idleness answers them. */
  let waiters: Array<{ after: number; resolve: () => void }> = [];
  let steps = 0;
  const answer = (started: number) => {
    const left: typeof waiters = [];
    for (const w of waiters) (w.after < started ? w.resolve : () => left.push(w))();
    waiters = left;
  };

  const loop = (async () => {
    while (!stopped) {
      woken = false;
      const wait = openUntil - Date.now();
      if (wait > 0) {
        // the breaker is open: what is due waits for the probe, so nothing more settles now
        answer(Number.POSITIVE_INFINITY);
        if (draining) return;
        await sleep(wait);
        continue;
      }
      let worked = false;
      const started = ++steps;
      try {
        worked = await step();
      } catch {
        // a notifier that broke something outside its tries: the lease brings its claims back
      }
      if (worked) continue;
      answer(started);
      if (draining) return;
      const idle = Math.min(options.pollMs, Math.max(1, nextDue - Date.now()));
      if (nextDue <= Date.now() + idle) nextDue = Number.POSITIVE_INFINITY;
      await sleep(idle);
    }
  })();

  let finished = false;
  void loop.then(() => {
    finished = true;
    answer(Number.POSITIVE_INFINITY);
  });

  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async drain() {
      draining = true;
      this.wake();
      await loop;
    },
    settled() {
      if (stopped || finished) return Promise.resolve();
      const done = new Promise<void>((resolve) => waiters.push({ after: steps, resolve }));
      this.wake();
      return done;
    },
    async stop() {
      stopped = true;
      answer(Number.POSITIVE_INFINITY);
      wakeUp?.();
      for (const controller of controllers) controller.abort(new DeliveryError("closing", { retryable: true }));
      await loop;
    },
  };
}

/** Whether a failed try may be repeated: unless the error says `retryable: false`. Never throws. */
function isRetryable(error: unknown): boolean {
  try {
    return !(typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false);
  } catch {
    return true;
  }
}

/** The receiver's `Retry-After` as a `DeliveryError` carries it, or 0. Never throws. */
function retryAfterOf(error: unknown): number {
  try {
    const ms = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? ms : 0;
  } catch {
    return 0;
  }
}
