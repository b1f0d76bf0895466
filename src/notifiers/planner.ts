/**
 * The planner: turns committed changes from the store's feed into outbox entries, one per
 * notifier that should hear of each. It owns the routing decisions: filters, one entry per
 * notifier however many of its routes match, at most one `recurred` per route and incident per
 * interval, digests due at the end of their interval, and follow-ups: a notifier that was sent
 * anything about an incident hears of its acknowledge, severity change, update, resolve and
 * reopen whatever the incident's severity or fields are by then (its route's `events` still apply).
 * Pure but for the recurrence memory; the store runs it inside its planning transaction.
 */
import type { Change, Notification, NotificationEvent, OutboxEntry } from "../core/notification.js";
import type { QuietReason } from "../core/noise.js";
import type { Route } from "./contract.js";
import { eventPasses, routeMatches } from "./routing.js";

const DEFAULT_RECURRED_EVERY_MS = 60 * 60 * 1000;
/** Events that follow a trigger: they reach every notifier that heard of the incident before. */
const FOLLOW_UPS: ReadonlySet<NotificationEvent> = new Set([
  "acknowledged",
  "severity_changed",
  "updated",
  "resolved",
  "reopened",
  "snoozed",
  "unsnoozed",
  "unsilenced",
  "flapping_started",
  "flapping_stopped",
]);

/** Why a change's incident is quiet (noise control), or `null`. */
export type QuietCheck = (change: Change) => QuietReason | null;

export interface Planner {
  /**
   * The entries for these changes; `notified` says whether a notifier heard of an incident before,
   * and `quiet` whether noise control holds the change back.
   */
  plan(changes: readonly Change[], notified: (notifier: string, incidentId: string) => boolean, quiet?: QuietCheck): OutboxEntry[];
}

/**
 * The event a change notifies as, or `null` when noise control holds it back. A change that starts
 * or stops flapping is told as such (once each); anything else of a quiet incident is held.
 */
export function noticeOf(change: Change, quiet: QuietCheck | undefined): NotificationEvent | null {
  const before = change.previous?.noise.flapping;
  const after = change.incident.noise.flapping;
  const flap: NotificationEvent | null = before === false && after ? "flapping_started" : before === true && !after ? "flapping_stopped" : null;
  const reason = quiet?.(change) ?? null;
  if (reason && !(flap && reason.kind === "flapping")) return null;
  return flap ?? change.event;
}

export function createPlanner(routes: readonly Route[], newId: (prefix: string) => string): Planner {
  /** (route, incident) -> when its last `recurred` was planned: at most one per interval. LRU order. */
  const lastRecurred = new Map<string, number>();

  const recurredIsDue = (index: number, route: Route, change: Change): boolean => {
    const key = `${index}:${change.incidentId}`;
    const now = Date.parse(change.at);
    const last = lastRecurred.get(key);
    // a recurrence that raised the severity is news
    const raised = change.previous !== null && change.previous.severity !== change.incident.severity;
    if (!raised && last !== undefined && Math.abs(now - last) < (route.recurredEveryMs ?? DEFAULT_RECURRED_EVERY_MS)) return false;
    lastRecurred.delete(key);
    lastRecurred.set(key, now);
    if (lastRecurred.size > 10_000) lastRecurred.delete(lastRecurred.keys().next().value!);
    return true;
  };

  return {
    plan(changes, notified, quiet) {
      const entries: OutboxEntry[] = [];
      // a notifier planned for an incident in this very batch has heard of it too
      const planned = new Set<string>();
      const heard = (notifier: string, incidentId: string) => planned.has(JSON.stringify([notifier, incidentId])) || notified(notifier, incidentId);
      for (const change of changes) {
        const { incident } = change;
        const event = noticeOf(change, quiet);
        if (event === null) continue;
        const names = new Set<string>();
        for (const [index, route] of routes.entries()) {
          const name = route.notifier.name;
          // one notifier on two matching routes gets the change once
          if (names.has(name)) continue;
          const matches = routeMatches(route, event, incident);
          const followUp = !matches && FOLLOW_UPS.has(event) && eventPasses(route.events, event) && heard(name, incident.id);
          if (!matches && !followUp) continue;
          if (event === "recurred" && !recurredIsDue(index, route, change)) continue;
          if (event === "created" || event === "reopened") lastRecurred.set(`${index}:${incident.id}`, Date.parse(change.at));
          names.add(name);
          const id = newId("dlv");
          const notification: Notification = {
            id,
            type: `incident.${event}`,
            timestamp: change.at,
            data: change.previous ? { incident, previous: change.previous } : { incident },
          };
          const everyMs = route.digest?.everyMs;
          const dueAt = everyMs ? new Date((Math.floor(Date.now() / everyMs) + 1) * everyMs).toISOString() : new Date().toISOString();
          entries.push({ id, notifier: name, workspaceId: incident.workspaceId, incidentId: incident.id, notification, dueAt, digest: everyMs !== undefined });
          planned.add(JSON.stringify([name, incident.id]));
        }
      }
      return entries;
    },
  };
}
