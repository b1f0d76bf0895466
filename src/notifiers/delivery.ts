/**
 * Delivery of notifications, in the process that has routes. A committed change (made here or by
 * any other process sharing the store) is in the store's change feed; the planning loop turns
 * unplanned changes into outbox entries (planner.ts), and one lane per notifier claims, sends and
 * settles them (worker.ts). This file wires the two, keeps the outbox tidy (pruning, notifiers no
 * process has any more), offers the dead letters for inspection and re-sending, and closes all of
 * it within a deadline. Nothing here runs on a report's path.
 */
import { z } from "zod";
import { ValidationError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import type { ClaimedDelivery, DeliveryRecord, DeliveryStatus, Notification } from "../core/notification.js";
import { IdSchema, parseArgument } from "../core/schemas.js";
import type { Outbox } from "../stores/contract.js";
import type { RetryPolicy, Route } from "./contract.js";
import { createPlanner } from "./planner.js";
import type { NoiseViews } from "./noise-view.js";
import { backoff, createLane, type Lane, type Target } from "./worker.js";

export { backoff };

/** Keeps trying for 24 h, backing off from 1 s up to 5 min; no limit on tries. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: Number.POSITIVE_INFINITY, minDelayMs: 1000, maxDelayMs: 300_000, maxAgeMs: 86_400_000 };
const DEFAULT_TIMEOUT_MS = 10_000;
const PLAN_BATCH = 200;
const MAINTENANCE_MS = 60_000;

export interface DeliveryOptions {
  routes: readonly Route[];
  /** The store's outbox, or the engine's in-memory one. */
  outbox: Outbox;
  /** Whether the outbox outlives the process: when not, what is left at `close()` is reported. */
  durable: boolean;
  newId(prefix: string): string;
  /** Called once a notification is given up on. */
  failed(notification: Notification, notifier: string, attempts: number, error: string): void;
  /** How long `close()` waits for deliveries in flight (default 5000 ms). */
  closeTimeoutMs: number;
  /** How often the feed and the outbox are polled for other processes' changes and for retries (default 1000 ms). */
  pollMs: number;
  /** How long a claim lasts before another worker may take the entry (default 60 000 ms; at least twice the longest notifier timeout). */
  leaseMs: number;
  /** Delivered and dead outbox entries are pruned after this long (default 7 days). */
  retentionMs: number;
  /** Pending entries of a notifier no process has had for this long are given up on and reported (default 1 h). */
  strandedAfterMs: number;
  /** Noise control's silences and inhibitions, read before each plan. */
  views?: NoiseViews | undefined;
  /** Fires the durable timers that are due; run on each poll by a process that delivers. */
  runTimers?: (() => Promise<unknown>) | undefined;
}

/** Dead letters and re-sending, as `incidents.deliveries` offers them. */
export interface Deliveries {
  /** Deliveries, newest first: `status` and `notifier` filter, `limit` 1-500 (default 50). */
  list(query?: { status?: DeliveryStatus; notifier?: string; limit?: number }): Promise<DeliveryRecord[]>;
  /**
   * Sends deliveries again, from their first try: the given ids, or every pending and dead one
   * matching the filter (`status`, `notifier`); `to` moves them to another notifier (one renamed,
   * say). Delivered ones are left alone. Resolves to how many will be sent.
   */
  retry(target: readonly string[] | { status?: "pending" | "dead"; notifier?: string; to?: string }, options?: { to?: string }): Promise<number>;
}

export interface Delivery {
  /** Whether any route exists: without one, nothing is planned or sent. */
  readonly active: boolean;
  /** A change was committed in this process: plan and send it soon. */
  poke(): void;
  /**
   * Resolves once what was committed so far is planned, and every notifier has sent (or failed
   * and scheduled a retry of) each entry that is due. Entries waiting for a later retry or digest
   * are not waited for.
   */
  settle(): Promise<void>;
  readonly deliveries: Deliveries;
  /** Delivers what is due within the deadline, gives back claims, reports what is lost. */
  close(): Promise<void>;
}

const ListSchema = z
  .object({
    status: z.enum(["pending", "delivered", "dead"]).optional(),
    notifier: IdSchema.optional(),
    limit: z.number().int().min(1).max(500).optional(),
  })
  .strict();
const RetrySchema = z.union([
  z.array(IdSchema).min(1).max(1000),
  z.object({ status: z.enum(["pending", "dead"]).optional(), notifier: IdSchema.optional(), to: IdSchema.optional() }).strict(),
]);

export function createDelivery(options: DeliveryOptions): Delivery {
  const { outbox, routes } = options;
  const targets = new Map<string, Target>();
  for (const route of routes) {
    const n = route.notifier;
    targets.set(n.name, { name: n.name, send: n.send, notifier: n, retry: { ...DEFAULT_RETRY, ...n.retry }, timeoutMs: n.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  }
  const active = routes.length > 0;
  const worker = options.newId("wkr");
  const planner = createPlanner(routes, options.newId);
  // a claim must outlast a try: a lease shorter than twice the longest timeout is raised to that
  const leaseMs = Math.max(options.leaseMs, 2 * Math.max(0, ...[...targets.values()].map((t) => t.timeoutMs)));
  const lanes = new Map<string, Lane>();
  let closing = false;

  // ---- planning: the feed's unplanned changes become outbox entries ----

  let planning: Promise<void> | null = null;
  let planAgain = false;
  let planTimer: ReturnType<typeof setTimeout> | undefined;
  let planAt = Number.POSITIVE_INFINITY;

  /** Workspaces the last plans met: their noise views are read before the next plan. */
  const recent = new Set<string>();
  const planRound = async (): Promise<number> => {
    const views = options.views;
    if (!views) return outbox.plan(PLAN_BATCH, (changes, notified) => planner.plan(changes, notified));
    views.reset();
    await views.load(recent);
    for (let attempt = 0; ; attempt++) {
      let missing: string[] = [];
      try {
        return await outbox.plan(PLAN_BATCH, (changes, notified) => {
          missing = [...new Set(changes.map((c) => c.workspaceId))].filter((id) => !views.has(id));
          // nothing is written: the views are read, and the plan runs again
          if (missing.length > 0) throw new Error("noise views to read first");
          return planner.plan(changes, notified, views.quiet);
        });
      } catch (error) {
        if (missing.length === 0 || attempt >= 3) throw error;
        for (const id of missing) {
          if (recent.size >= 1000) recent.delete(recent.values().next().value!);
          recent.add(id);
        }
        await views.load(missing);
      }
    }
  };

  const planOnce = async (): Promise<void> => {
    for (;;) {
      let planned = 0;
      try {
        planned = await planRound();
      } catch {
        return; // the database is away: the next poll plans them
      }
      if (planned > 0) for (const lane of lanes.values()) lane.wake();
      if (planned < PLAN_BATCH) return;
    }
  };
  const plan = (): Promise<void> => {
    if (planning) {
      planAgain = true;
      return planning;
    }
    planning = planOnce().finally(() => {
      planning = null;
      if (planAgain && !closing) {
        planAgain = false;
        void plan();
      }
    });
    return planning;
  };
  /** Fires due timers beside planning, never in its way: one run at a time, a slow one skips polls. */
  let timersRunning = false;
  const fireTimers = (): void => {
    if (!options.runTimers || timersRunning) return;
    timersRunning = true;
    void options
      .runTimers()
      .catch(() => undefined)
      .finally(() => (timersRunning = false));
  };
  const schedulePlan = (ms: number): void => {
    if (closing) return;
    clearTimeout(planTimer);
    planAt = Date.now() + ms;
    planTimer = setTimeout(() => {
      planAt = Number.POSITIVE_INFINITY;
      fireTimers();
      void plan().finally(() => schedulePlan(options.pollMs));
    }, ms);
    planTimer.unref?.();
  };

  // ---- upkeep: pruning, heartbeats, notifiers no process has any more ----

  let upkeepTimer: ReturnType<typeof setTimeout> | undefined;
  const upkeep = async (): Promise<void> => {
    const now = Date.now();
    await outbox
      .prune({ settledBefore: new Date(now - options.retentionMs).toISOString(), changesBefore: new Date(now - 60 * 60 * 1000).toISOString() })
      .catch(() => undefined);
    if (!active) return;
    const beat = await outbox.heartbeat([...targets.keys()], new Date(now).toISOString()).then(
      () => true,
      () => false,
    );
    // after the store was away, other processes' heartbeats are stale too: judge only once ours
    // went through twice in a row, so theirs have had a turn since
    const judge = beat && beatBefore;
    beatBefore = beat;
    if (!judge) return;
    const before = new Date(now - options.strandedAfterMs).toISOString();
    const stranded = await outbox.stranded(before).catch(() => [] as string[]);
    for (const name of stranded) {
      if (targets.has(name) || closing) continue;
      const error = `no process has had a notifier named "${name}" for ${Math.round(options.strandedAfterMs / 1000)} s (renamed or removed?): re-send with incidents.deliveries.retry({ notifier: "${name}", to: "<its new name>" })`;
      const buried = await outbox.bury(name, error, new Date().toISOString(), before).catch(() => [] as DeliveryRecord[]);
      for (const entry of buried) options.failed(entry.notification, name, entry.attempts, error);
    }
  };
  let beatBefore = false;
  /** Heartbeats come several times within `strandedAfterMs`, so a live notifier never looks gone. */
  const upkeepEvery = Math.max(250, Math.min(MAINTENANCE_MS, Math.floor(options.strandedAfterMs / 4)));
  const scheduleUpkeep = (ms: number): void => {
    if (closing) return;
    upkeepTimer = setTimeout(() => void upkeep().finally(() => scheduleUpkeep(upkeepEvery)), ms);
    upkeepTimer.unref?.();
  };

  const digestOf = (entries: readonly ClaimedDelivery[]): Notification => {
    // the latest state of each incident, in the order they first appeared
    const latest = new Map<string, Incident>();
    for (const entry of entries) {
      const data = entry.notification.data;
      if ("incident" in data) latest.set(data.incident.id, data.incident);
    }
    return { id: `${entries[0]!.id}_digest`, type: "incident.digest", timestamp: new Date().toISOString(), data: { incidents: [...latest.values()] } };
  };

  if (active) {
    for (const target of targets.values()) {
      lanes.set(target.name, createLane(target, { outbox, worker, leaseMs, pollMs: options.pollMs, digestOf, failed: options.failed }));
    }
    schedulePlan(0);
  }
  // a short-lived process (a CLI command) never gets to upkeep
  scheduleUpkeep(active ? Math.min(1000, upkeepEvery) : 10_000);

  const deliveries: Deliveries = {
    async list(query = {}) {
      const q = parseArgument(ListSchema, query, "query");
      return outbox.deliveries({ status: q.status, notifier: q.notifier, limit: q.limit ?? 50 });
    },
    async retry(target, extra = {}) {
      const parsed = parseArgument(RetrySchema, target, "target");
      const second = parseArgument(z.object({ to: IdSchema.optional() }).strict(), extra, "options").to;
      const first = Array.isArray(parsed) ? undefined : parsed.to;
      if (first !== undefined && second !== undefined && first !== second) {
        throw new ValidationError("deliveries.retry", [{ path: ["options", "to"], message: "names another notifier than target.to: give it once", code: "custom" }]);
      }
      const to = first ?? second;
      if (!Array.isArray(parsed) && parsed.notifier === undefined && parsed.status === undefined) {
        throw new ValidationError("deliveries.retry", [{ path: ["target"], message: "name ids, or a filter with status or notifier: a filter without either would re-send everything", code: "custom" }]);
      }
      const query = Array.isArray(parsed) ? { ids: parsed } : { status: parsed.status, notifier: parsed.notifier };
      const count = await outbox.retry(query, { now: new Date().toISOString(), to });
      for (const lane of lanes.values()) lane.wake();
      return count;
    },
  };

  return {
    active,
    deliveries,
    async settle() {
      if (!active || closing) return;
      // a plan already running may have read the feed before the latest commit: wait it out, then plan
      while (planning) await planning;
      await plan();
      await Promise.all([...lanes.values()].map((lane) => lane.settled()));
    },
    poke() {
      // a few milliseconds' wait gathers a burst of reports into one plan; a steady stream of
      // commits never postpones a plan that is already due
      if (active && !closing && planAt > Date.now() + 5) schedulePlan(5);
    },
    async close() {
      if (closing) return;
      closing = true;
      clearTimeout(planTimer);
      clearTimeout(upkeepTimer);
      // a referenced timer: a script whose last work is `await close()` waits for it, not exits
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadlineAt = Date.now() + options.closeTimeoutMs;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.closeTimeoutMs)));
      // a store that stops answering must not hold close() past its deadline (and a little grace)
      const bounded = (work: Promise<unknown>) => {
        let grace: ReturnType<typeof setTimeout> | undefined;
        const until = new Promise<void>((resolve) => (grace = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()) + 250)));
        return Promise.race([work.catch(() => undefined), until]).finally(() => clearTimeout(grace));
      };
      try {
        if (active) {
          const drain = async () => {
            await plan();
            // an outbox that dies with the process sends what it holds now (digests too) or never
            if (!options.durable) await outbox.retry({ status: "pending" }, { now: new Date().toISOString(), keep: true }).catch(() => 0);
            await Promise.all([...lanes.values()].map((lane) => lane.drain()));
          };
          // what is due goes out before closing, within the deadline; what waits for a retry stays
          // in a durable outbox for the next start
          await Promise.race([drain(), deadline]);
        }
      } finally {
        clearTimeout(timer);
      }
      await bounded(Promise.all([...lanes.values()].map((lane) => lane.stop())));
      await bounded(outbox.release(worker));
      if (active && !options.durable) await bounded(reportLeftovers());
    },
  };

  /** An outbox that dies with the process: what it still holds is lost, and said so, once each. */
  async function reportLeftovers(): Promise<void> {
    const left = await outbox.deliveries({ status: "pending", limit: 1_000_000 }).catch(() => [] as DeliveryRecord[]);
    for (const entry of left.reverse().filter((e) => targets.has(e.notifier))) {
      options.failed(entry.notification, entry.notifier, entry.attempts, entry.lastError ? `${entry.lastError} (closed before the next try)` : "closed before delivery");
    }
  }
}
