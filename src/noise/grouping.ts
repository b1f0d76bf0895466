/**
 * Forms groups when an incident's group window ends. The incident's siblings are the unresolved
 * incidents with its group key seen within the window. With an open group incident, or at least
 * `minIncidents` siblings, each sibling joins: its join is written to the group through the
 * store's `ingest` (the group's fingerprint makes one group however many processes form it; the
 * member's id makes each join count once), then the member points to the group. Too few: the
 * incident's held notification goes out as it would have without grouping.
 */
import type { ActivityActor, Incident } from "../core/incident.js";
import { decideGroup } from "../core/grouping.js";
import { changeOfReport } from "../core/notification.js";
import { groupFingerprint, groupOf, timer } from "../core/noise.js";
import type { Snapshot } from "../core/incident.js";
import { STATUSES } from "../core/schemas.js";
import type { Engine } from "../engine.js";

const UNRESOLVED = STATUSES.filter((s) => s !== "resolved");
const ACTOR: ActivityActor = Object.freeze({ type: "system", id: "grouping", role: null }) as ActivityActor;
const EMPTY_SNAPSHOT: Snapshot = Object.freeze({ events: [], action: null, policy: null, data: null, truncated: false, droppedEvents: 0 }) as Snapshot;
/** Most siblings one window gathers at once; later ones join on their own window's end. */
const MAX_SIBLINGS = 500;

/** Ends the group window of incident `id`, set to end at `dueAt`. */
export async function formGroup(engine: Engine, workspaceId: string, id: string, dueAt: string): Promise<void> {
  const incident = await engine.store.get(workspaceId, id);
  if (!incident || incident.noise.heldUntil !== dueAt || incident.groupId !== null || incident.status === "resolved") return;
  const found = groupOf(engine.noise.groups, incident);
  // the rule was removed or changed since: nothing to wait for
  if (!found) return release(engine, incident, dueAt);
  const { rule, key, values } = found;
  const since = new Date(Date.parse(dueAt) - rule.windowMs).toISOString();
  const candidates = await engine.store.list(workspaceId, { status: UNRESOLVED, members: true, groupKey: incident.groupKey ?? key, sort: "recency", limit: MAX_SIBLINGS });
  const open = candidates.find((c) => c.kind === "group");
  const siblings = candidates.filter((c) => c.kind !== "group" && c.groupId === null && (c.id === incident.id || c.lastSeenAt >= since));
  if (!siblings.some((c) => c.id === incident.id)) siblings.push(incident);
  if (!open && siblings.length < rule.minIncidents) return release(engine, incident, dueAt);

  const fingerprint = groupFingerprint(workspaceId, key);
  // oldest first: the group's story starts with its first member
  siblings.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.number - b.number));
  let formed: Incident | null = null;
  for (const member of siblings) {
    const { group, created } = await join(engine, { rule, key, values, fingerprint, member });
    if (created) formed = group;
    await engine.apply(workspaceId, member.id, { type: "group", groupId: group.id, groupNumber: group.number }, ACTOR);
  }
  // a group made here was held while its first members joined: it pages now, counting them all
  if (formed) {
    await release(engine, formed, formed.noise.heldUntil!);
    await engine.timers.cancel(timer("group", workspaceId, formed.id, formed.noise.heldUntil!).id);
  }
}

async function release(engine: Engine, incident: Incident, dueAt: string): Promise<void> {
  await engine.apply(incident.workspaceId, incident.id, { type: "release", until: dueAt }, ACTOR);
}

/** Writes one member's join to its group; resolves to the group incident. */
async function join(
  engine: Engine,
  join: { rule: NonNullable<ReturnType<typeof groupOf>>["rule"]; key: string; values: Record<string, string>; fingerprint: string; member: Incident },
): Promise<{ group: Incident; created: boolean }> {
  const now = engine.now();
  const eventId = engine.newId("evt");
  const plan = { ...join, now, incidentId: engine.newId("inc"), activityId: engine.newId("act"), actor: ACTOR };
  let existing: Incident | null = null;
  const result = await engine.store.ingest({
    workspaceId: join.member.workspaceId,
    fingerprint: join.fingerprint,
    merge: true,
    kind: "group",
    // the member's join, once per episode of the member: a second process forming the same group is a duplicate
    runId: join.member.id,
    eventId: `member:${join.member.episodes.length}`,
    traceId: null,
    at: now,
    windowStart: now,
    snapshot: () => EMPTY_SNAPSHOT,
    decide: (found) => {
      existing = found;
      return decideGroup(plan, found);
    },
  });
  const created = result.outcome === "created";
  // should this process stop before the group is released, the timer releases it
  if (created) await engine.timers.schedule([timer("group", result.incident.workspaceId, result.incident.id, result.incident.noise.heldUntil!)]);
  const change = changeOfReport(result.outcome, result.incident, existing, now);
  if (change) {
    engine.committed(change);
    engine.emit(created ? "incident.created" : result.outcome === "reopened" ? "incident.reopened" : "incident.recurred", eventId, result.incident);
  }
  return { group: result.incident, created };
}
