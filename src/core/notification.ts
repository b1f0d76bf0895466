/**
 * What stores share with delivery: the change feed's entries, notifications and the outbox's
 * rows. Types and pure helpers only, so a store needs nothing from `src/notifiers`.
 */
import type { Incident } from "./incident.js";
import type { ReportOutcome } from "./ingest.js";
import type { Operation } from "./operations.js";

/** What a route can listen for. `updated` covers assignments, notes and investigating. */
export const NOTIFICATION_EVENTS = [
  "created",
  "recurred",
  "acknowledged",
  "severity_changed",
  "updated",
  "resolved",
  "reopened",
  "grouped",
  "snoozed",
  "unsnoozed",
  "unsilenced",
  "flapping_started",
  "flapping_stopped",
] as const;
/** A change a notification route can listen for: one of {@link NOTIFICATION_EVENTS}. */
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** The `type` of a notification: `incident.<event>`, or `incident.digest` for a digest. */
export type NotificationType = `incident.${NotificationEvent}` | "incident.digest";

/**
 * What a notifier sends and a receiver gets: the same shape as `incidents.on` events. `id` is
 * the delivery id: stable across retries and restarts, so a receiver can dedupe on it.
 */
export interface Notification {
  id: string;
  type: NotificationType;
  /** ISO time of the change. */
  timestamp: string;
  data: { incident: Incident; previous?: Incident } | { incidents: Incident[] };
}

/**
 * One committed change of an incident, as the store's change feed keeps it, in commit order.
 * Delivery plans notifications from it in whichever process delivers, and live views tail it,
 * so a change made anywhere (the CLI, the console, another runtime) is delivered and shown.
 */
export interface Change {
  /** Position in the feed: increasing in commit order within one incident. */
  seq: number;
  workspaceId: string;
  incidentId: string;
  event: NotificationEvent;
  /** ISO time of the change. */
  at: string;
  /** The incident as the change left it. */
  incident: Incident;
  /** The incident before the change: `null` for a creation and for a recurrence that raised nothing. */
  previous: Incident | null;
}

/** A change as a store writes it (the store assigns `seq`). */
export type ChangeInput = Omit<Change, "seq">;

/** The feed entry of a report's outcome; `null` for a duplicate, which changes nothing. */
export function changeOfReport(outcome: ReportOutcome, incident: Incident, existing: Incident | null, at: string): ChangeInput | null {
  if (outcome === "duplicate") return null;
  const event: NotificationEvent = outcome === "created" ? "created" : outcome === "reopened" ? "reopened" : "recurred";
  // a plain recurrence's previous state says nothing a receiver needs: leave it out of the row
  const keep = existing !== null && (event !== "recurred" || existing.severity !== incident.severity || existing.noise.flapping !== incident.noise.flapping);
  return { workspaceId: incident.workspaceId, incidentId: incident.id, event, at, incident, previous: keep ? existing : null };
}

/** Which notification an operator operation sends. */
export const OPERATION_EVENT: Record<Operation["type"], NotificationEvent> = {
  acknowledge: "acknowledged",
  startInvestigating: "updated",
  assign: "updated",
  addNote: "updated",
  setSeverity: "severity_changed",
  resolve: "resolved",
  reopen: "reopened",
  snooze: "snoozed",
  unsnooze: "unsnoozed",
  release: "created",
  group: "grouped",
  unsilence: "unsilenced",
};

/**
 * A notification waiting to be delivered to one notifier, as the planner makes it from a
 * change. `id` is the delivery id receivers dedupe on.
 */
export interface OutboxEntry {
  id: string;
  /** The notifier's name: after a restart it goes to the notifier of the same name. */
  notifier: string;
  workspaceId: string;
  incidentId: string;
  notification: Notification;
  /** Not before this ISO time (a digest's is the end of its interval). */
  dueAt: string;
  /** Part of a digest: sent in one batch with the notifier's other digest entries that are due. */
  digest: boolean;
}

/** An entry a worker claimed, with the tries made so far. */
export interface ClaimedDelivery extends OutboxEntry {
  attempts: number;
  /** ISO time the entry was planned: retries stop `maxAgeMs` after it. */
  createdAt: string;
}

/** Where a delivery stands: waiting (or being tried), delivered, or given up on. */
export type DeliveryStatus = "pending" | "delivered" | "dead";

/** One delivery as kept for inspection. */
export interface DeliveryRecord extends ClaimedDelivery {
  status: DeliveryStatus;
  lastError: string | null;
  settledAt: string | null;
}
