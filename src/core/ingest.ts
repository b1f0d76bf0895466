import { summaryOf, titleOf } from "./describe.js";
import { openEpisode } from "./episodes.js";
import type { Activity, ActivityActor, Incident } from "./incident.js";
import { maxSeverity } from "./schemas.js";
import { explainSeverity, formatDuration, isRaise, type RepeatPolicy, type SeverityRule } from "./severity.js";
import { triggerOf, type Signal } from "./signals.js";
import { groupOf, QUIET_NONE, sampleFlap, type FlappingOptions, type GroupRule, type NoiseState } from "./noise.js";

/** Outcome of one report: a new incident, an occurrence added, a resolved one reopened, or a retry. */
export type ReportOutcome = "created" | "recurred" | "reopened" | "duplicate";

/** A new incident before the store gives it its per-workspace `number`. */
export type NewIncident = Omit<Incident, "number">;

/** What to write for one report, decided purely from the signal and the matching incident. */
export type IngestDecision =
  | { outcome: "created"; incident: NewIncident; activity: Activity }
  | { outcome: "recurred" | "reopened"; incident: Incident; activity: Activity | null };

export interface IngestPlanInput {
  /** The validated, redacted signal. */
  signal: Signal;
  fingerprint: string;
  /** ISO time of the report. */
  now: string;
  /** Prefixed ids for the incident and the activity entry, used only if needed. */
  incidentId: string;
  activityId: string;
  actor: ActivityActor;
  rules: readonly SeverityRule[];
  repeat: RepeatPolicy;
  reopenWithinMs: number;
  /** Grouping rules: a new or reopened incident that matches one waits `windowMs` for its group before notifying. */
  groups?: readonly GroupRule[] | undefined;
  /** Flap detection thresholds, or `false` (default: off). */
  flapping?: FlappingOptions | false | undefined;
}

/**
 * Decides what one report does, given the latest incident with its fingerprint (unresolved first,
 * else the most recently resolved; `null` when none or when the kind never merges) and how often
 * the fingerprint was seen within the repeat window, this report included. Pure.
 */
export function decideIngest(input: IngestPlanInput, existing: Incident | null, recentOccurrences: number): IngestDecision {
  const explained = explainSeverity(input.signal, {
    rules: input.rules,
    repeat: input.repeat,
    history: { recentOccurrences },
  });
  const reason = { rule: explained.rule, explanation: explained.explanation };
  if (existing === null) return create(input, explained.severity, reason);

  const lastSeenAt = existing.lastSeenAt > input.now ? existing.lastSeenAt : input.now;
  const flapping = input.flapping ?? false;
  const seen = { occurrences: existing.occurrences + 1, lastSeenAt, noise: sampleFlap(existing.noise, existing.status === "resolved", flapping) };

  if (existing.status !== "resolved") {
    if (existing.severityPinned || !isRaise(existing.severity, explained.severity)) {
      return { outcome: "recurred", incident: { ...existing, ...seen }, activity: null };
    }
    const incident: Incident = {
      ...existing,
      ...seen,
      severity: explained.severity,
      severityReason: reason,
      version: existing.version + 1,
      updatedAt: input.now,
    };
    return {
      outcome: "recurred",
      incident,
      activity: entry(input, incident, "recurred", { severity: existing.severity }, { severity: incident.severity, occurrences: incident.occurrences }, explained.explanation),
    };
  }

  const resolvedAt = existing.resolvedAt ?? existing.updatedAt;
  if (Date.parse(input.now) - Date.parse(resolvedAt) > input.reopenWithinMs) {
    return create(input, explained.severity, reason);
  }
  const severity = maxSeverity(existing.severity, explained.severity);
  const incident: Incident = {
    ...existing,
    ...seen,
    status: "open",
    severity,
    severityReason: severity === existing.severity ? existing.severityReason : reason,
    severityPinned: false,
    resolution: null,
    resolvedAt: null,
    acknowledgedAt: null,
    version: existing.version + 1,
    updatedAt: input.now,
    episodes: openEpisode(existing.episodes, input.now),
    // a member that fails again leaves its group, and rejoins one under the same rules
    groupId: null,
  };
  incident.noise = held(input, incident, seen.noise);
  return {
    outcome: "reopened",
    incident,
    activity: entry(
      input,
      incident,
      "reopened",
      { status: existing.status, severity: existing.severity, resolution: existing.resolution },
      { status: "open", severity, occurrences: incident.occurrences },
      `Recurred within ${formatDuration(input.reopenWithinMs)} of being resolved`,
    ),
  };
}

function create(input: IngestPlanInput, severity: Incident["severity"], severityReason: Incident["severityReason"]): IngestDecision {
  const { signal, now } = input;
  const incident: NewIncident = {
    id: input.incidentId,
    workspaceId: signal.workspaceId,
    agentId: signal.agentId ?? null,
    runId: signal.runId ?? null,
    eventId: signal.eventId ?? null,
    traceId: signal.traceId ?? null,
    spanId: signal.spanId ?? null,
    environment: signal.environment,
    kind: signal.kind,
    trigger: triggerOf(signal),
    title: titleOf(signal),
    summary: summaryOf(signal),
    severity,
    severityReason,
    severityPinned: false,
    status: "open",
    fingerprint: input.fingerprint,
    occurrences: 1,
    firstSeenAt: now,
    lastSeenAt: now,
    assignee: null,
    resolution: null,
    createdAt: now,
    updatedAt: now,
    acknowledgedAt: null,
    resolvedAt: null,
    version: 1,
    tags: signal.tags ?? [],
    episodes: openEpisode([], now),
    groupId: null,
    groupKey: null,
    group: null,
    noise: QUIET_NONE,
  };
  const group = input.groups?.length ? groupOf(input.groups, incident as Incident) : null;
  if (group) {
    incident.groupKey = group.key;
    incident.noise = { ...QUIET_NONE, samples: [], heldUntil: new Date(Date.parse(now) + group.rule.windowMs).toISOString() };
  }
  const activity = entry(input, incident, "created", null, { status: "open", severity }, severityReason.explanation);
  return { outcome: "created", incident, activity };
}

/** The noise state of a reopened incident: held for its group window again when it has a group rule. */
function held(input: IngestPlanInput, incident: Incident, noise: NoiseState): NoiseState {
  const group = input.groups?.length ? groupOf(input.groups, incident) : null;
  if (!group) return { ...noise, heldUntil: null };
  return { ...noise, heldUntil: new Date(Date.parse(input.now) + group.rule.windowMs).toISOString() };
}

function entry(
  input: IngestPlanInput,
  incident: Pick<Incident, "id" | "version">,
  type: Activity["type"],
  before: Activity["before"],
  after: Activity["after"],
  message: string | null,
): Activity {
  return { id: input.activityId, incidentId: incident.id, type, actor: input.actor, at: input.now, version: incident.version, before, after, message };
}

/** The new incident with the `number` its store assigned, `number` right after `id`. */
export function numbered(incident: NewIncident, number: number): Incident {
  // one literal in the schema's order: a rest-and-spread copy of 30 fields cost several times more
  const i = incident;
  return {
    id: i.id,
    number,
    workspaceId: i.workspaceId,
    agentId: i.agentId,
    runId: i.runId,
    eventId: i.eventId,
    traceId: i.traceId,
    spanId: i.spanId,
    environment: i.environment,
    kind: i.kind,
    trigger: i.trigger,
    title: i.title,
    summary: i.summary,
    severity: i.severity,
    severityReason: i.severityReason,
    severityPinned: i.severityPinned,
    status: i.status,
    fingerprint: i.fingerprint,
    occurrences: i.occurrences,
    firstSeenAt: i.firstSeenAt,
    lastSeenAt: i.lastSeenAt,
    assignee: i.assignee,
    resolution: i.resolution,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    acknowledgedAt: i.acknowledgedAt,
    resolvedAt: i.resolvedAt,
    version: i.version,
    tags: i.tags,
    episodes: i.episodes,
    groupId: i.groupId,
    groupKey: i.groupKey,
    group: i.group,
    noise: i.noise,
  };
}
