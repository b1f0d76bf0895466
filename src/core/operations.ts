import { ConflictError } from "./errors.js";
import type { Activity, ActivityActor, Incident } from "./incident.js";
import { openEpisode, updateEpisode } from "./episodes.js";
import { assertTransition } from "./lifecycle.js";
import { OPERATION_EVENT, type NotificationEvent } from "./notification.js";
import type { Resolution, Severity } from "./schemas.js";

/** An operator's change to one incident. */
export type Operation =
  | { type: "acknowledge" }
  | { type: "startInvestigating" }
  | { type: "assign"; assignee: string | null }
  | { type: "addNote"; note: string }
  | { type: "setSeverity"; severity: Severity; reason: string }
  | { type: "resolve"; resolution: Resolution }
  | { type: "reopen"; reason: string | null };

export interface OperationContext {
  actor: ActivityActor;
  /** The operator's clock; an earlier time than the incident's latest is moved up to it. */
  now: string;
  activityId: string;
  expectedVersion?: number | undefined;
}

/** The incident after an operation and the one activity entry recording it. */
export interface OperationResult {
  incident: Incident;
  activity: Activity;
  /** The change as the feed and notifications name it. */
  event: NotificationEvent;
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
        { status: "resolved", resolvedAt: ctx.now, resolution: op.resolution, episodes: updateEpisode(current.episodes, { resolvedAt: ctx.now }) },
        s.before,
        { ...s.after, resolution: op.resolution },
        op.resolution.note,
      );
    }
    case "reopen": {
      const s = status("open");
      return change(
        "reopened",
        { status: "open", resolution: null, resolvedAt: null, acknowledgedAt: null, severityPinned: false, episodes: openEpisode(current.episodes, ctx.now) },
        { ...s.before, resolution: current.resolution },
        s.after,
        op.reason,
      );
    }
    case "assign":
      if (op.assignee === current.assignee) return null;
      return change("assigned", { assignee: op.assignee }, { assignee: current.assignee }, { assignee: op.assignee });
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
