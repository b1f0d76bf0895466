import { CallbackError, ClosedError, NotFoundError } from "../core/errors.js";
import type { Activity, Counts, Incident, Occurrence, Snapshot } from "../core/incident.js";
import { numbered } from "../core/ingest.js";
import { copyJson } from "../core/plain.js";
import { emptyCounts, matchesQuery, type ListQuery } from "../core/query.js";
import { SEVERITIES, STATUSES } from "../core/schemas.js";
import { changeOfReport } from "../core/notification.js";
import { defineStore, type IncidentStore, type IngestRequest, type IngestResult } from "./contract.js";
import { memorySilences, memoryTimers } from "./memory-noise.js";
import { memoryOutbox } from "./memory-outbox.js";
import { mergeBuckets, SortedBucket } from "./sorted-bucket.js";

interface Workspace {
  lastNumber: number;
  incidents: Map<string, Incident>;
  buckets: Map<string, SortedBucket>;
  counts: Counts;
  countsByAgent: Map<string, Counts>;
  /** Incident ids per fingerprint, oldest first. */
  byFingerprint: Map<string, string[]>;
  /** Occurrence times per fingerprint, ascending, for the repeat window. */
  seenByFingerprint: Map<string, string[]>;
  /** JSON of `[kind, runId, eventId]` (collision-free) -> incident id. */
  idempotency: Map<string, string>;
  activity: Map<string, Activity[]>;
  occurrences: Map<string, Occurrence[]>;
  /** One snapshot per episode that has one, oldest first. */
  snapshots: Map<string, Snapshot[]>;
}

/**
 * The default store: everything in this process's memory, gone when it exits. Indexed by
 * severity and status, so the console's default query and `counts()` never scan every incident.
 * Returned objects are copies: changing them does not change the store.
 */
export function memoryStore(): IncidentStore {
  const workspaces = new Map<string, Workspace>();
  /** Every incident id of every workspace: ids are unique store-wide, as in the SQL stores. */
  const ids = new Set<string>();
  const changes = memoryOutbox();
  let closed = false;
  const notClosed = (): void => {
    if (closed) throw new ClosedError("memory store");
  };
  const timers = memoryTimers(notClosed);
  const silences = memorySilences(notClosed);

  const emptyWorkspace = (): Workspace => ({
    lastNumber: 0,
    incidents: new Map(),
    buckets: new Map(),
    counts: emptyCounts(),
    countsByAgent: new Map(),
    byFingerprint: new Map(),
    seenByFingerprint: new Map(),
    idempotency: new Map(),
    activity: new Map(),
    occurrences: new Map(),
    snapshots: new Map(),
  });
  // reads of a workspace that has never been written see this one, so reading allocates nothing
  const nothing = emptyWorkspace();

  const read = (workspaceId: string): Workspace => {
    if (closed) throw new ClosedError("memory store");
    return workspaces.get(workspaceId) ?? nothing;
  };

  const open = (workspaceId: string): Workspace => {
    let ws = read(workspaceId);
    if (ws === nothing) workspaces.set(workspaceId, (ws = emptyWorkspace()));
    return ws;
  };

  // members of groups have buckets of their own: the default list, which leaves them out, never walks them
  const bucketKey = (severity: string, status: string, member: boolean): string => `${member ? "member/" : ""}${severity}/${status}`;
  const bucket = (ws: Workspace, incident: Pick<Incident, "severity" | "status" | "groupId">): SortedBucket => {
    const key = bucketKey(incident.severity, incident.status, incident.groupId !== null);
    let b = ws.buckets.get(key);
    if (!b) ws.buckets.set(key, (b = new SortedBucket()));
    return b;
  };

  const count = (ws: Workspace, incident: Incident, delta: number): void => {
    ws.counts[incident.severity][incident.status] += delta;
    if (incident.agentId === null) return;
    let agentCounts = ws.countsByAgent.get(incident.agentId);
    if (!agentCounts) ws.countsByAgent.set(incident.agentId, (agentCounts = emptyCounts()));
    agentCounts[incident.severity][incident.status] += delta;
  };

  const put = (ws: Workspace, next: Incident): void => {
    const previous = ws.incidents.get(next.id);
    if (previous) {
      bucket(ws, previous).remove(previous);
      count(ws, previous, -1);
    }
    ws.incidents.set(next.id, next);
    bucket(ws, next).insert(next);
    count(ws, next, +1);
  };

  const append = <T>(map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };

  const latestFor = (ws: Workspace, fingerprint: string): Incident | null => {
    const ids = ws.byFingerprint.get(fingerprint) ?? [];
    let latestResolved: Incident | null = null;
    for (let i = ids.length - 1; i >= 0; i--) {
      const incident = ws.incidents.get(ids[i]!)!;
      if (incident.status !== "resolved") return incident;
      if (!latestResolved || (incident.resolvedAt ?? "") > (latestResolved.resolvedAt ?? "")) latestResolved = incident;
    }
    return latestResolved;
  };

  const seenSince = (ws: Workspace, fingerprint: string, since: string): number => {
    const times = ws.seenByFingerprint.get(fingerprint) ?? [];
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! < since) lo = mid + 1;
      else hi = mid;
    }
    return times.length - lo;
  };

  const recordSeen = (ws: Workspace, fingerprint: string, at: string): void => {
    const times = ws.seenByFingerprint.get(fingerprint);
    if (!times) return void ws.seenByFingerprint.set(fingerprint, [at]);
    let i = times.length;
    while (i > 0 && times[i - 1]! > at) i--;
    times.splice(i, 0, at);
  };

  return defineStore({
    name: "memory",
    durable: false,
    outbox: changes.outbox,
    feed: changes.feed,
    timers,
    silences,

    async ingest(request: IngestRequest): Promise<IngestResult> {
      // everything that can throw (decide, snapshot, a repeated id) runs before the first write
      const found = read(request.workspaceId);
      const key = request.runId !== null && request.eventId !== null ? JSON.stringify([request.kind, request.runId, request.eventId]) : null;
      const seenIn = key === null ? undefined : found.idempotency.get(key);
      if (seenIn !== undefined) return { outcome: "duplicate", incident: copyJson(found.incidents.get(seenIn)!) };

      const existing = request.merge ? latestFor(found, request.fingerprint) : null;
      const recent = request.merge ? seenSince(found, request.fingerprint, request.windowStart) + 1 : 1;
      const decision = request.decide(existing, recent);
      // what decide and snapshot return is built fresh from the engine's own copy of the signal:
      // it is stored as it is, and only what leaves the store is cloned
      const incident = decision.outcome === "created" ? numbered(decision.incident, found.lastNumber + 1) : decision.incident;
      if (decision.outcome === "created" && ids.has(incident.id)) {
        throw new CallbackError("ids", `ids() returned an id that is already taken (${incident.id}): ids must be unique`);
      }
      const snapshot = decision.outcome === "recurred" ? null : request.snapshot();
      const activity = decision.activity;

      const ws = open(request.workspaceId);
      if (decision.outcome === "created") {
        ws.lastNumber = incident.number;
        ids.add(incident.id);
        append(ws.byFingerprint, request.fingerprint, incident.id);
      }
      if (snapshot) append(ws.snapshots, incident.id, snapshot);
      put(ws, incident);
      if (activity) append(ws.activity, incident.id, activity);
      append(ws.occurrences, incident.id, {
        incidentId: incident.id,
        runId: request.runId,
        eventId: request.eventId,
        traceId: request.traceId,
        at: request.at,
      });
      if (request.merge) recordSeen(ws, request.fingerprint, request.at);
      if (key !== null) ws.idempotency.set(key, incident.id);
      const change = changeOfReport(decision.outcome, incident, existing, request.at);
      if (change) changes.append(change);
      return { outcome: decision.outcome, incident: copyJson(incident) };
    },

    async mutate(workspaceId, id, apply) {
      const ws = read(workspaceId);
      const current = ws.incidents.get(id);
      if (!current) throw new NotFoundError(id);
      const result = apply(copyJson(current));
      if (result === null) return copyJson(current);
      // apply worked on a copy and built its result fresh: stored as it is, handed out as a copy
      put(ws, result.incident);
      if (result.activity) append(ws.activity, id, result.activity);
      changes.append({ workspaceId, incidentId: id, event: result.event, at: result.at ?? result.activity?.at ?? result.incident.updatedAt, incident: result.incident, previous: current });
      return copyJson(result.incident);
    },

    async get(workspaceId, id) {
      const incident = read(workspaceId).incidents.get(id);
      return incident ? copyJson(incident) : null;
    },

    async activity(workspaceId, id) {
      return copyJson(read(workspaceId).activity.get(id) ?? []);
    },

    async occurrences(workspaceId, id) {
      return copyJson(read(workspaceId).occurrences.get(id) ?? []);
    },

    async snapshot(workspaceId, id) {
      const snapshot = read(workspaceId).snapshots.get(id)?.at(-1);
      return snapshot ? copyJson(snapshot) : null;
    },

    async list(workspaceId, query: ListQuery) {
      const ws = read(workspaceId);
      const buckets: SortedBucket[] = [];
      const members = query.groupId !== undefined ? [true] : query.members === true ? [false, true] : [false];
      for (const severity of query.severity ?? SEVERITIES) {
        for (const status of query.status ?? STATUSES) {
          for (const member of members) {
            const b = ws.buckets.get(bucketKey(severity, status, member));
            if (b && b.size > 0) buckets.push(b);
          }
        }
      }
      const items: Incident[] = [];
      for (const incident of mergeBuckets(buckets, query.sort, query.after)) {
        if (!matchesQuery(incident, query)) continue;
        items.push(copyJson(incident));
        if (items.length > query.limit) break;
      }
      return items;
    },

    async counts(workspaceId, filter) {
      const ws = read(workspaceId);
      const counts = filter.agentId === undefined ? ws.counts : ws.countsByAgent.get(filter.agentId);
      return counts ? copyJson(counts) : {};
    },

    async scan(workspaceId, query) {
      const all = [...read(workspaceId).incidents.values()];
      const since = query.createdSince;
      return copyJson(since === null ? all : all.filter((i) => i.createdAt >= since));
    },

    async close() {
      closed = true;
      workspaces.clear();
      ids.clear();
    },
  });
}
