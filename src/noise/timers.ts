/**
 * Fires durable timers. A timer is a row in the store (core/noise.ts `Timer`); `runDue` claims
 * the due ones with a lease, so one process fires each, and does what its kind says:
 * - `group`: an incident's group window ended: it joins (or forms, with its siblings) a group
 *   incident, or, with too few siblings, its held notification goes out (grouping.ts);
 * - `snooze`: a snooze ran out: the incident returns to open and notifies again;
 * - `silence`: a silence ended: each unresolved incident it covered is sent its current state once.
 * Each effect checks the state the timer was set for inside the store's transaction, so a timer
 * fired twice (its lease ran out mid-fire) changes nothing the second time. A timer that fails
 * stays, and is tried again when its lease runs out.
 */
import type { ActivityActor } from "../core/incident.js";
import { matches } from "../core/matcher.js";
import type { Timer } from "../core/noise.js";
import { STATUSES } from "../core/schemas.js";
import type { Engine } from "../engine.js";
import { formGroup } from "./grouping.js";

/** The actor of changes a timer makes. */
export const TIMER_ACTOR: ActivityActor = Object.freeze({ type: "system", id: "timer", role: null }) as ActivityActor;

const UNRESOLVED = STATUSES.filter((s) => s !== "resolved");
const BATCH = 100;
/** Most rounds of one `runDue`: a timer set by a timer (none today) would otherwise loop. */
const MAX_ROUNDS = 1000;
const LEASE_MS = 60_000;

export interface TimerRunner {
  /** Fires every timer due at the clock's now; resolves to how many fired, once their changes are committed. */
  runDue(): Promise<number>;
}

export function createTimerRunner(engine: Engine, worker: string): TimerRunner {
  let running: Promise<number> | null = null;

  const fire = async (t: Timer): Promise<void> => {
    switch (t.kind) {
      case "snooze":
        await engine.apply(t.workspaceId, t.subject, { type: "unsnooze", until: t.dueAt }, TIMER_ACTOR).catch(ignoreMissing);
        return;
      case "group":
        await formGroup(engine, t.workspaceId, t.subject, t.dueAt).catch(ignoreMissing);
        return;
      case "silence":
        await endSilence(t.workspaceId, t.subject);
        return;
    }
  };

  /** Sends each unresolved incident the silence covered its current state, once. */
  const endSilence = async (workspaceId: string, silenceId: string): Promise<void> => {
    const silence = await engine.silences.get(workspaceId, silenceId);
    if (!silence) return;
    const open = await engine.store.list(workspaceId, { status: UNRESOLVED, sort: "recency", limit: 500 });
    for (const incident of open) {
      // only what changed while the silence held: anything older was notified before it
      if (incident.lastSeenAt < silence.startsAt && incident.updatedAt < silence.startsAt) continue;
      if (!matches(silence.match, incident)) continue;
      await engine.apply(workspaceId, incident.id, { type: "unsilence" }, TIMER_ACTOR).catch(ignoreMissing);
    }
  };

  const round = async (): Promise<number> => {
    const now = engine.now();
    const leaseUntil = new Date(Date.parse(now) + LEASE_MS).toISOString();
    const due = await engine.timers.claim({ worker, now, leaseUntil, limit: BATCH });
    for (const t of due) {
      await fire(t);
      await engine.timers.done(t.id, worker, t.dueAt);
    }
    return due.length;
  };

  const runDue = async (): Promise<number> => {
    let fired = 0;
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const count = await round();
      fired += count;
      if (count < BATCH) break;
    }
    return fired;
  };

  return {
    runDue() {
      // one run at a time in a process: a second caller waits for the first, then runs what is left
      const previous = running ?? Promise.resolve(0);
      const next = previous.catch(() => 0).then(() => engine.idle()).then(runDue);
      running = next;
      const clear = () => {
        if (running === next) running = null;
      };
      next.then(clear, clear);
      return next;
    },
  };
}

/** An incident deleted or never written (a timer set before a failed write) is nothing to fire. */
function ignoreMissing(error: unknown): void {
  if ((error as { code?: unknown } | null)?.code === "NOT_FOUND") return;
  throw error;
}
