/**
 * Delivery of notifications. A committed change reaches `plan`, which matches it against the
 * routes and makes one entry per notifier (a digest route's entry waits for the end of its
 * interval). With a store that has an outbox, the entries were written in the change's own
 * transaction and a worker loop claims, sends and settles them; without one, they go to
 * in-memory queues, one per notifier. Either way a notifier's failures and slowness stay its own,
 * and nothing here runs on the report's path.
 */
import { describeError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import type { ClaimedDelivery, OutboxEntry, Outbox } from "../stores/contract.js";
import { DeliveryError, type Notification, type NotificationEvent, type Notifier, type RetryPolicy, type Route } from "./contract.js";
import { routeMatches } from "./routing.js";

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, minDelayMs: 1000, maxDelayMs: 60_000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RECURRED_EVERY_MS = 60 * 60 * 1000;

export interface DeliveryOptions {
  routes: readonly Route[];
  /** The store's outbox, when it has one: deliveries then survive restarts. */
  outbox: Outbox | undefined;
  now(): string;
  newId(prefix: string): string;
  /** Called once a notification is given up on. */
  failed(notification: Notification, notifier: string, attempts: number, error: string): void;
  /** How long `close()` waits for deliveries in flight (default 5000 ms). */
  closeTimeoutMs: number;
  /** How often the outbox is polled for retries and other processes' entries (default 1000 ms). */
  pollMs: number;
  /** How long a claim lasts before another worker may take the entry (default 60 000 ms; at least twice the longest notifier timeout). */
  leaseMs: number;
  /** Delivered and dead outbox entries are pruned after this long (default 7 days). */
  retentionMs: number;
}

export interface Delivery {
  /** Whether any route exists: without one, nothing is planned. */
  readonly active: boolean;
  /** The entries a committed change makes. Called inside the store's transaction when it has an outbox. */
  plan(event: NotificationEvent, incident: Incident, previous?: Incident): OutboxEntry[];
  /** After the commit: queue the entries in memory (no outbox) or wake the outbox worker. */
  dispatch(entries: readonly OutboxEntry[]): void;
  /** Stops taking work, waits for deliveries in flight up to the deadline, gives back claims. */
  close(): Promise<void>;
}

interface Job {
  entries: ClaimedDelivery[];
  notification: Notification;
}

/** Full jitter: a random wait up to the exponential ceiling of this attempt. */
export function backoff(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1));
  return Math.floor(Math.random() * ceiling);
}

/** A route's notifier as read once at start: a getter cannot change or break it later. */
interface Target {
  name: string;
  send: Notifier["send"];
  notifier: Notifier;
  retry: RetryPolicy;
  timeoutMs: number;
}

export function createDelivery(options: DeliveryOptions): Delivery {
  const notifiers = new Map<string, Target>();
  for (const route of options.routes) {
    const n = route.notifier;
    notifiers.set(n.name, { name: n.name, send: n.send, notifier: n, retry: { ...DEFAULT_RETRY, ...n.retry }, timeoutMs: n.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }
  const worker = options.newId("wkr");
  // a claim must outlast a try: a lease shorter than twice the longest timeout is raised to that
  const leaseMs = Math.max(options.leaseMs, 2 * Math.max(0, ...[...notifiers.values()].map((t) => t.timeoutMs)));
  const inFlight = new Set<Promise<unknown>>();
  const controllers = new Set<AbortController>();
  /** Backoff waits, woken early by close(). */
  const pauses = new Set<() => void>();
  /** (route, incident) -> when its last `recurred` was planned: at most one per interval. */
  const lastRecurred = new Map<string, number>();
  let closing = false;
  /** close() is delivering what is due itself: the regular poll loop stands aside. */
  let draining = false;
  /** Set by close(): no try may run past it. */
  let deadlineAt = Number.POSITIVE_INFINITY;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref?.();
      pauses.add(done);
    });

  /** One try: `send` with a timeout and the close signal; resolves to the error, or null. */
  const attempt = async (target: Target, notification: Notification, number: number): Promise<{ error: string; retryable: boolean } | null> => {
    const controller = new AbortController();
    controllers.add(controller);
    const timeoutMs = Math.max(1, Math.min(target.timeoutMs, deadlineAt - Date.now()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // ends the try on timeout or close, also when `send` ignores its signal
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => controller.abort(new DeliveryError(`no answer within ${timeoutMs} ms`, { retryable: true })), timeoutMs);
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
      });
      // a copy per try: a notifier that changes what it was given cannot change the next try
      await Promise.race([Promise.resolve().then(() => target.send.call(target.notifier, [structuredClone(notification)], { attempt: number, signal: controller.signal })), timeout]);
      return null;
    } catch (error) {
      return { error: describeError(error), retryable: isRetryable(error) };
    } finally {
      clearTimeout(timer);
      controllers.delete(controller);
    }
  };

  // ---- without an outbox: in-memory queues, one per notifier, in order ----

  const queues = new Map<string, Job[]>();
  const pumping = new Set<string>();
  const digests = new Map<string, { entries: ClaimedDelivery[]; timer: ReturnType<typeof setTimeout> }>();

  const enqueue = (name: string, job: Job): void => {
    let queue = queues.get(name);
    if (!queue) queues.set(name, (queue = []));
    queue.push(job);
    if (!pumping.has(name)) void track(pump(name));
  };

  /** Tries one job until delivered or given up; reports the give-up. Never throws. */
  const deliverJob = async (target: Target, job: Job): Promise<void> => {
    for (let tries = 1; ; tries++) {
      const failure = await attempt(target, job.notification, tries);
      if (!failure) return;
      if (!failure.retryable || tries >= target.retry.attempts) return options.failed(job.notification, target.name, tries, failure.error);
      if (!closing) await pause(backoff(target.retry, tries));
      if (closing) return options.failed(job.notification, target.name, tries, `${failure.error} (closed before the next try)`);
    }
  };

  const pump = async (name: string): Promise<void> => {
    pumping.add(name);
    const target = notifiers.get(name)!;
    const queue = queues.get(name)!;
    try {
      while (queue.length > 0 && !closing) {
        const job = queue[0]!;
        try {
          await deliverJob(target, job);
        } catch (error) {
          options.failed(job.notification, name, 0, describeError(error));
        }
        queue.shift();
      }
    } finally {
      // once closing, what is left is reported here, once, and never delivered later
      if (closing) for (const job of queue.splice(0)) options.failed(job.notification, name, 0, "closed before delivery");
      pumping.delete(name);
    }
  };

  const collect = (entry: OutboxEntry, everyMs: number): void => {
    const key = entry.notifier;
    let digest = digests.get(key);
    if (!digest) {
      const timer = setTimeout(() => {
        const due = digests.get(key);
        digests.delete(key);
        if (due) enqueue(key, { entries: due.entries, notification: digestOf(due.entries, options.now()) });
      }, everyMs);
      timer.unref?.();
      digests.set(key, (digest = { entries: [], timer }));
    }
    digest.entries.push({ ...entry, attempts: 0 });
  };

  // ---- with an outbox: claim, send, settle; any process may take what another left ----

  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<void> | null = null;
  let again = false;
  let lastPrune = 0;

  const poll = (): void => {
    if (closing || draining || !options.outbox) return;
    if (polling) {
      again = true;
      return;
    }
    clearTimeout(pollTimer);
    polling = track(pollOnce()).finally(() => {
      polling = null;
      if (again) {
        again = false;
        poll();
      } else schedule(options.pollMs);
    });
  };

  let pollAt = Number.POSITIVE_INFINITY;
  const schedule = (ms: number): void => {
    if (closing || draining) return;
    clearTimeout(pollTimer);
    pollAt = Date.now() + ms;
    pollTimer = setTimeout(() => {
      pollAt = Number.POSITIVE_INFINITY;
      poll();
    }, ms);
    pollTimer.unref?.();
  };
  /** Polls within `ms`, keeping an earlier poll that is already planned. */
  const soon = (ms: number): void => {
    if (polling) {
      again = true;
      return;
    }
    if (pollAt > Date.now() + ms) schedule(ms);
  };

  const pollOnce = async (): Promise<void> => {
    try {
      await pollOnceUnsafe();
    } catch {
      // a notifier that broke something outside its tries: the lease brings its claims back
    }
  };

  const pollOnceUnsafe = async (): Promise<void> => {
    const outbox = options.outbox!;
    const now = Date.now();
    let claimed: ClaimedDelivery[];
    try {
      if (now - lastPrune > 60 * 60 * 1000) {
        lastPrune = now;
        await outbox.prune(new Date(now - options.retentionMs).toISOString());
      }
      claimed = await outbox.claim({
        worker,
        now: new Date(now).toISOString(),
        leaseUntil: new Date(now + leaseMs).toISOString(),
        limit: 50,
        notifiers: [...notifiers.keys()],
      });
    } catch {
      return; // the database is away: the next poll tries again
    }
    const leaseEnds = now + leaseMs;
    const byNotifier = new Map<string, ClaimedDelivery[]>();
    for (const entry of claimed) {
      if (!notifiers.has(entry.notifier)) continue; // not ours after all: its lease runs out
      const list = byNotifier.get(entry.notifier) ?? [];
      list.push(entry);
      byNotifier.set(entry.notifier, list);
    }
    await Promise.all([...byNotifier].map(([name, entries]) => deliverClaimed(name, entries, leaseEnds)));
    // what was just delivered may have been holding back the next change of its incident
    if (claimed.length > 0) again = true;
  };

  const deliverClaimed = async (name: string, entries: ClaimedDelivery[], leaseEnds: number): Promise<void> => {
    const target = notifiers.get(name)!;
    const settled: Array<Promise<void>> = [];
    const digest = entries.filter((e) => e.digest);
    const jobs: Job[] = entries.filter((e) => !e.digest).map((e) => ({ entries: [e], notification: e.notification }));
    if (digest.length > 0) jobs.push({ entries: digest, notification: digestOf(digest, options.now()) });
    for (const job of jobs) {
      if (closing) break; // claims go back on close
      // a claim about to run out is handed back untried: another worker may take it as soon as
      // it does, and sending it now could deliver it twice
      if (Date.now() + target.timeoutMs > leaseEnds || Date.now() >= deadlineAt) {
        for (const entry of job.entries) {
          settled.push(options.outbox!.settle(entry.id, worker, { status: "pending", attempts: entry.attempts, at: new Date().toISOString(), dueAt: new Date().toISOString() }));
        }
        again = true;
        continue;
      }
      const tries = Math.max(...job.entries.map((e) => e.attempts)) + 1;
      const failure = await attempt(target, job.notification, tries);
      const retry = target.retry;
      const at = new Date().toISOString();
      const give = !failure ? "delivered" : !failure.retryable || tries >= retry.attempts ? "dead" : "pending";
      const wait = give === "pending" ? backoff(retry, tries) : 0;
      for (const entry of job.entries) {
        settled.push(options.outbox!.settle(entry.id, worker, { status: give, attempts: tries, at, dueAt: new Date(Date.now() + wait).toISOString(), error: failure?.error }));
      }
      if (give === "dead") options.failed(job.notification, name, tries, failure!.error);
      if (give === "pending") schedule(Math.min(wait + 5, options.pollMs));
    }
    // recorded together (one transaction on SQLite); one that fails leaves its entry to the lease:
    // it is tried again, at least once
    await Promise.allSettled(settled);
  };

  if (options.outbox && options.routes.length > 0) schedule(0);

  return {
    active: options.routes.length > 0,
    plan(event, incident, previous) {
      const entries: OutboxEntry[] = [];
      const planned = new Set<string>();
      const at = options.now();
      for (const [index, route] of options.routes.entries()) {
        if (!routeMatches(route, event, incident)) continue;
        if (event === "recurred" && !recurredIsDue(index, route, incident, previous)) continue;
        if (event === "created" || event === "reopened") lastRecurred.set(`${index}:${incident.id}`, Date.parse(at));
        const name = route.notifier.name;
        // one notifier on two matching routes gets the change once
        if (planned.has(name)) continue;
        planned.add(name);
        const id = options.newId("dlv");
        const notification: Notification = { id, type: `incident.${event}`, timestamp: at, data: previous ? { incident, previous } : { incident } };
        const everyMs = route.digest?.everyMs;
        const dueAt = everyMs ? new Date((Math.floor(Date.parse(at) / everyMs) + 1) * everyMs).toISOString() : at;
        entries.push({ id, notifier: name, workspaceId: incident.workspaceId, incidentId: incident.id, notification, dueAt, digest: everyMs !== undefined });
      }
      return entries;
    },
    dispatch(entries) {
      if (closing || entries.length === 0) return;
      // a few milliseconds' wait gathers a burst of reports into one claim and one settle
      if (options.outbox) return soon(5);
      for (const entry of entries) {
        const route = options.routes.find((r) => r.notifier.name === entry.notifier && r.digest);
        if (entry.digest && route?.digest) collect(entry, route.digest.everyMs);
        else enqueue(entry.notifier, { entries: [{ ...entry, attempts: 0 }], notification: entry.notification });
      }
    },
    async close() {
      if (closing || draining) return;
      deadlineAt = Date.now() + options.closeTimeoutMs;
      const untilDeadline = () => sleep(Math.max(0, deadlineAt - Date.now()), true).then(() => "timeout" as const);
      if (options.outbox && options.routes.length > 0) {
        // what is due goes out before closing, within the deadline; the rest (waiting for a retry)
        // stays in the outbox for the next start
        draining = true;
        clearTimeout(pollTimer);
        if ((await Promise.race([polling?.catch(() => undefined), untilDeadline()])) !== "timeout") {
          while (Date.now() < deadlineAt) {
            again = false;
            const round = await Promise.race([track(pollOnce()).then(() => (again ? "more" : "done")), untilDeadline()]);
            if (round !== "more") break;
          }
        }
      } else {
        // what a digest collected goes out now rather than never
        for (const [name, digest] of digests) {
          clearTimeout(digest.timer);
          enqueue(name, { entries: digest.entries, notification: digestOf(digest.entries, options.now()) });
        }
        digests.clear();
        await Promise.race([Promise.allSettled([...inFlight]), untilDeadline()]);
      }
      closing = true;
      clearTimeout(pollTimer);
      for (const wake of [...pauses]) wake();
      for (const controller of controllers) controller.abort(new DeliveryError("closing", { retryable: true }));
      await Promise.race([Promise.allSettled([...inFlight]), sleep(200, true)]);
      await options.outbox?.release(worker).catch(() => undefined);
    },
  };

  function recurredIsDue(index: number, route: Route, incident: Incident, previous: Incident | undefined): boolean {
    const key = `${index}:${incident.id}`;
    const now = Date.parse(options.now());
    const last = lastRecurred.get(key);
    const raised = previous !== undefined && previous.severity !== incident.severity;
    if (!raised && last !== undefined && now - last < (route.recurredEveryMs ?? DEFAULT_RECURRED_EVERY_MS)) return false;
    lastRecurred.delete(key); // re-inserted last: the map stays in least-recently-used order
    lastRecurred.set(key, now);
    if (lastRecurred.size > 10_000) lastRecurred.delete(lastRecurred.keys().next().value!);
    return true;
  }

  function digestOf(entries: readonly ClaimedDelivery[], timestamp: string): Notification {
    // the latest state of each incident, in the order they first appeared
    const latest = new Map<string, Incident>();
    for (const entry of entries) {
      const data = entry.notification.data;
      if ("incident" in data) latest.set(data.incident.id, data.incident);
    }
    return { id: `${entries[0]!.id}_digest`, type: "incident.digest", timestamp, data: { incidents: [...latest.values()] } };
  }
}

function sleep(ms: number, unref = false): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (unref) timer.unref?.();
  });
}

/** Whether a failed try may be repeated: unless the error says `retryable: false`. Never throws. */
function isRetryable(error: unknown): boolean {
  try {
    return !(typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === false);
  } catch {
    return true;
  }
}

