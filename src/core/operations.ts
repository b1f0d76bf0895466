import { ConflictError, InvalidTransitionError } from "./errors.js";
import type { Activity, ActivityActor, Incident } from "./incident.js";
import { openEpisode, updateEpisode } from "./episodes.js";
import { assertTransition } from "./lifecycle.js";
import { OPERATION_EVENT, type NotificationEvent } from "./notification.js";
import type { Resolution, Severity } from "./schemas.js";
import { sampleFlap, type FlappingOptions, type NoiseState } from "./noise.js";

/** An operator's change to one incident. */
export type Operation =
  | { type: "acknowledge" }
  | { type: "startInvestigating" }
  | { type: "assign"; assignee: string | null }
  | { type: "addNote"; note: string }
  | { type: "setSeverity"; severity: Severity; reason: string }
  | { type: "resolve"; resolution: Resolution }
  | { type: "reopen"; reason: string | null }
  | { type: "snooze"; until: string; reason: string }
  | SystemOperation;

/**
 * Changes the library makes by itself when a durable timer fires or a group forms. Each is a no-op
 * (`null`) when the incident is no longer in the state the timer was set for, so a timer that
 * fires twice changes nothing the second time.
 */
export type SystemOperation =
  /** A snooze ran out: back to open, and notified again. */
  | { type: "unsnooze"; until: string }
  /** The group window ran out without a group: the held notification goes out. No audit entry. */
  | { type: "release"; until: string }
  /** Joins a group incident: the group notifies from now on. */
  | { type: "group"; groupId: string; groupNumber: number }
  /** A silence ended: the incident's current state is sent once. No audit entry, no version. */
  | { type: "unsilence" };

export interface OperationContext {
  actor: ActivityActor;
  /** The operator's clock; an earlier time than the incident's latest is moved up to it. */
  now: string;
  activityId: string;
  expectedVersion?: number | undefined;
  /** Flap detection thresholds: a resolve and a reopen are state changes. */
  flapping?: FlappingOptions | false | undefined;
}

/** The incident after an operation and the one activity entry recording it. */
export interface OperationResult {
  incident: Incident;
  /** `null` for a system change that the audit does not record (a held notification released). */
  activity: Activity | null;
  /** The change as the feed and notifications name it. */
  event: NotificationEvent;
  /** When the change happened, for the feed; by default the activity entry's time (or `updatedAt` without one). */
  at?: string;
}

/**
 * Applies one operator operation to the current incident. Pure. Returns `null` when the operation
 * changes nothing (assigning the current assignee, setting the current severity). Throws
 * `ConflictError` when `expectedVersion` is stale and `InvalidTransitionError` for a status change
 * outside the lifecycle. Every change bumps `version` by one and yields one activity entry.
 *
 * The change's time is never before the incident's latest (`updatedAt`, `lastSeenAt`): an
 * operator whose clock lags the reporter's (skew between machines) would otherwise acknowledge
 * before the incident opened and make MTTA and MTTR negative. Such a time is clamped to the
 * incident's latest rather than refused: the operator did act, and the audit stays in order.
 */
export function applyOperation(current: Incident, op: Operation, context: OperationContext): OperationResult | null {
  if (context.expectedVersion !== undefined && context.expectedVersion !== current.version) {
    throw new ConflictError(current.id, context.expectedVersion, current.version);
  }
  const ctx = { ...context, now: latest(context.now, current.updatedAt, current.lastSeenAt) };
  const change = (
    type: Activity["type"],
    patch: Partial<Incident>,
    before: Activity["before"],
    after: Activity["after"],
    message: string | null = null,
  ): OperationResult => {
    const incident: Incident = { ...current, ...patch, version: current.version + 1, updatedAt: ctx.now };
    const activity: Activity = {
      id: ctx.activityId,
      incidentId: current.id,
      type,
      actor: ctx.actor,
      at: ctx.now,
      version: incident.version,
      before,
      after,
      message,
    };
    return { incident, activity, event: OPERATION_EVENT[op.type] };
  };
  const noise = (patch: Partial<NoiseState>): NoiseState => ({ ...current.noise, ...patch });
  const unsnoozed = { snoozedUntil: null, snoozeReason: null };
  const quiet = (): Pick<OperationResult, "activity"> & { incident: Incident } => ({ incident: current, activity: null });
  const status = (to: Incident["status"]) => {
    assertTransition(current.status, to);
    return { before: { status: current.status }, after: { status: to } };
  };

  switch (op.type) {
    case "acknowledge": {
      const s = status("acknowledged");
      return change("acknowledged", { status: "acknowledged", acknowledgedAt: ctx.now, episodes: acknowledged(current, ctx.now) }, s.before, s.after);
    }
    case "startInvestigating": {
      const s = status("investigating");
      return change(
        "status_changed",
        { status: "investigating", acknowledgedAt: current.acknowledgedAt ?? ctx.now, episodes: acknowledged(current, ctx.now) },
        s.before,
        s.after,
      );
    }
    case "resolve": {
      const s = status("resolved");
      return change(
        "resolved",
        {
          status: "resolved",
          resolvedAt: ctx.now,
          resolution: op.resolution,
          episodes: updateEpisode(current.episodes, { resolvedAt: ctx.now }),
          noise: sampleFlap(noise({ ...unsnoozed, heldUntil: null }), true, ctx.flapping ?? false),
        },
        s.before,
        { ...s.after, resolution: op.resolution },
        op.resolution.note,
      );
    }
    case "reopen": {
      const s = status("open");
      return change(
        "reopened",
        {
          status: "open",
          resolution: null,
          resolvedAt: null,
          acknowledgedAt: null,
          severityPinned: false,
          episodes: openEpisode(current.episodes, ctx.now),
          groupId: null,
          noise: sampleFlap(noise(unsnoozed), true, ctx.flapping ?? false),
        },
        { ...s.before, resolution: current.resolution },
        s.after,
        op.reason,
      );
    }
    case "assign":
      if (op.assignee === current.assignee) return null;
      // a reassignment hands the incident to someone else: their snooze is not the new owner's
      return change("assigned", { assignee: op.assignee, noise: noise(unsnoozed) }, { assignee: current.assignee }, { assignee: op.assignee });
    case "addNote":
      return change("note_added", {}, null, null, op.note);
    case "setSeverity": {
      if (op.severity === current.severity) return null;
      const severityReason = { rule: "operator", explanation: op.reason };
      return change(
        "severity_changed",
        { severity: op.severity, severityReason, severityPinned: true },
        { severity: current.severity },
        { severity: op.severity },
        op.reason,
      );
    }
    case "snooze": {
      if (current.status !== "acknowledged" && current.status !== "investigating") {
        const error = new InvalidTransitionError(current.status, "snoozed", ["acknowledged", "investigating"]);
        error.message = `Cannot snooze an incident that is ${current.status}: only an acknowledged or investigating one can be snoozed`;
        throw error;
      }
      return change(
        "snoozed",
        { noise: noise({ snoozedUntil: op.until, snoozeReason: op.reason }) },
        { snoozedUntil: current.noise.snoozedUntil },
        { snoozedUntil: op.until },
        op.reason,
      );
    }
    case "unsnooze": {
      if (current.noise.snoozedUntil !== op.until || (current.status !== "acknowledged" && current.status !== "investigating")) return null;
      return change("unsnoozed", { status: "open", noise: noise(unsnoozed) }, { status: current.status, snoozedUntil: op.until }, { status: "open" }, "The snooze ran out");
    }
    case "release": {
      if (current.noise.heldUntil !== op.until) return null;
      const incident: Incident = { ...current, noise: noise({ heldUntil: null }) };
      return { incident, activity: null, event: current.episodes.length > 1 ? "reopened" : "created", at: ctx.now };
    }
    case "group": {
      if (current.groupId !== null || current.status === "resolved" || current.kind === "group") return null;
      return change("grouped", { groupId: op.groupId, noise: noise({ heldUntil: null }) }, { groupId: null }, { groupId: op.groupId }, `Joined group #${op.groupNumber}`);
    }
    case "unsilence":
      if (current.status === "resolved") return null;
      return { ...quiet(), event: "unsilenced", at: ctx.now };
  }
}

/** The latest of ISO-8601 UTC times (they sort as strings). */
function latest(...times: string[]): string {
  return times.reduce((a, b) => (b > a ? b : a));
}

/** The episodes with the current one acknowledged now, unless it already was. */
function acknowledged(current: Incident, now: string): Incident["episodes"] {
  const episode = current.episodes[current.episodes.length - 1];
  return episode?.acknowledgedAt ? current.episodes : updateEpisode(current.episodes, { acknowledgedAt: now });
}
