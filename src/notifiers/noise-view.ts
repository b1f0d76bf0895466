/**
 * What the planner needs to know of noise control beyond the change itself: the silences in force
 * and, per workspace, the open incidents that inhibit others. The planner runs synchronously in
 * the store's planning transaction, so these are read before it: a plan that meets a workspace
 * not read yet stops (nothing is written), the view is read, and the plan runs again.
 */
import type { Incident } from "../core/incident.js";
import { isInhibitSource, quietReason, withResolvedEnd, type InhibitRule, type NoiseView, type QuietReason, type Silence } from "../core/noise.js";
import { STATUSES } from "../core/schemas.js";
import type { Change, IncidentStore, SilenceStore } from "../stores/contract.js";


const UNRESOLVED = STATUSES.filter((s) => s !== "resolved");
/** How long after its end a silence still decides about changes made before it ended. */
const RECENT_MS = 86_400_000;
/** Most open incidents read per workspace as inhibition sources. */
const MAX_SOURCES = 500;

export interface NoiseViews {
  /** Forgets what was read: call before each planning round. */
  reset(): void;
  /** Whether the view of a workspace was read since the last reset. */
  has(workspaceId: string): boolean;
  /** Reads the views of these workspaces. */
  load(workspaceIds: Iterable<string>): Promise<void>;
  /** The planner's quiet check, for a workspace whose view was read. */
  quiet(change: Change): QuietReason | null;
  /** The view of one workspace, read now (for badges on reads). */
  read(workspaceId: string): Promise<NoiseView>;
}

export function createNoiseViews(options: { store: IncidentStore; silences: SilenceStore; inhibit: readonly InhibitRule[]; now(): string }): NoiseViews {
  const { store, silences, inhibit } = options;
  let views = new Map<string, NoiseView>();

  /**
   * Silences are judged at each change's own time, not when it is planned: a change made under a
   * silence stays held even when the plan runs after the silence ended (its end re-sends it). So
   * the view keeps every silence that ended within the last day, and one that lasts until an
   * incident resolves reads as ending at that resolve.
   */
  const read = async (workspaceId: string): Promise<NoiseView> => {
    const recent = new Date(Date.parse(options.now()) - RECENT_MS).toISOString();
    const all = await silences.list({ workspaceId, limit: 1000 });
    const inForce: Silence[] = [];
    for (const silence of all) {
      if ((silence.expiredAt ?? silence.endsAt ?? "9999") < recent) continue;
      const needsIncident = silence.untilResolved !== null && silence.expiredAt === null;
      inForce.push(needsIncident ? withResolvedEnd(silence, await store.get(workspaceId, silence.untilResolved!)) : silence);
    }
    let sources: Incident[] = [];
    if (inhibit.length > 0) {
      const open = await store.list(workspaceId, { status: UNRESOLVED, members: true, sort: "recency", limit: MAX_SOURCES });
      sources = open.filter((incident) => isInhibitSource(inhibit, incident));
    }
    return { silences: inForce, sources };
  };

  return {
    reset() {
      views = new Map();
    },
    has: (workspaceId) => views.has(workspaceId),
    async load(workspaceIds) {
      for (const id of workspaceIds) if (!views.has(id)) views.set(id, await read(id));
    },
    quiet(change) {
      const view = views.get(change.workspaceId);
      // the planner asks only about workspaces it was given views of (see has())
      if (!view) return null;
      return quietReason(change.incident, change.at, view, inhibit);
    },
    read,
  };
}
