/**
 * Group incidents, the pure part: what a group incident looks like when its first members join,
 * and how it changes as more join. The engine writes a group through the store's `ingest` with
 * the group's fingerprint, so two processes forming one group at once make one group incident,
 * and each member counts once (its join is an occurrence keyed by the member's id and episode).
 */
import { openEpisode } from "./episodes.js";
import type { Activity, ActivityActor, Incident } from "./incident.js";
import type { IngestDecision } from "./ingest.js";
import { groupTitle, QUIET_NONE, type GroupRule } from "./noise.js";
import { maxSeverity } from "./schemas.js";
import { isRaise } from "./severity.js";

/** Most agents a group lists by name; the count goes on. */
const MAX_AGENTS = 100;

export interface GroupJoin {
  rule: GroupRule;
  /** The group key (rule name and the `by` values). */
  key: string;
  /** The `by` fields' values. */
  values: Record<string, string>;
  fingerprint: string;
  member: Incident;
  now: string;
  incidentId: string;
  activityId: string;
  actor: ActivityActor;
}

/**
 * What one member's join writes to its group: a new group incident (no open one), or the open
 * group with one more member, its agents and its severity raised to the member's. Pure.
 */
export function decideGroup(join: GroupJoin, existing: Incident | null): IngestDecision {
  const { member, now } = join;
  if (existing === null || existing.status === "resolved") {
    const agents = member.agentId === null ? [] : [member.agentId];
    const incident: Omit<Incident, "number"> = {
      id: join.incidentId,
      workspaceId: member.workspaceId,
      agentId: null,
      runId: null,
      eventId: null,
      traceId: null,
      spanId: null,
      environment: member.environment,
      kind: "group",
      trigger: { rule: join.rule.name, key: { ...join.values } },
      title: groupTitle(join.values, agents.length, 1),
      summary: summaryOf(join, 1, agents.length),
      severity: member.severity,
      severityReason: { rule: "group", explanation: `The most severe of its members (grouped by ${join.rule.by.join(", ")})` },
      severityPinned: false,
      status: "open",
      fingerprint: join.fingerprint,
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
      tags: [],
      episodes: openEpisode([], now),
      groupId: null,
      groupKey: join.key,
      group: { rule: join.rule.name, key: { ...join.values }, agents },
      // the group pages once its first members have all joined, with them counted (see formGroup)
      noise: { ...QUIET_NONE, samples: [], heldUntil: new Date(Date.parse(now) + join.rule.windowMs).toISOString() },
    };
    const activity: Activity = {
      id: join.activityId,
      incidentId: incident.id,
      type: "created",
      actor: join.actor,
      at: now,
      version: 1,
      before: null,
      after: { status: "open", severity: incident.severity },
      message: `${join.rule.minIncidents} or more incidents failed alike within ${Math.round(join.rule.windowMs / 1000)} s`,
    };
    return { outcome: "created", incident, activity };
  }

  const group = existing.group ?? { rule: join.rule.name, key: { ...join.values }, agents: [] };
  const agents = member.agentId === null || group.agents.includes(member.agentId) || group.agents.length >= MAX_AGENTS ? group.agents : [...group.agents, member.agentId];
  const members = existing.occurrences + 1;
  const updated: Incident = {
    ...existing,
    occurrences: members,
    lastSeenAt: existing.lastSeenAt > now ? existing.lastSeenAt : now,
    title: groupTitle(join.values, agents.length, members),
    summary: summaryOf(join, members, agents.length),
    group: { ...group, agents },
  };
  const severity = maxSeverity(existing.severity, member.severity);
  if (existing.severityPinned || !isRaise(existing.severity, severity)) return { outcome: "recurred", incident: updated, activity: null };
  const incident: Incident = { ...updated, severity, version: existing.version + 1, updatedAt: now };
  const activity: Activity = {
    id: join.activityId,
    incidentId: existing.id,
    type: "recurred",
    actor: join.actor,
    at: now,
    version: incident.version,
    before: { severity: existing.severity },
    after: { severity, occurrences: members },
    message: `Member #${member.number} is ${severity}`,
  };
  return { outcome: "recurred", incident, activity };
}

function summaryOf(join: GroupJoin, members: number, agents: number): string {
  const fields = Object.entries(join.values)
    .map(([path, value]) => `${path} ${value}`)
    .join(", ");
  return `${members} incident${members === 1 ? "" : "s"} of ${agents} agent${agents === 1 ? "" : "s"} with ${fields} (group ${join.rule.name}).`;
}
