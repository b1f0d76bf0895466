import type { Incident } from "./incident.js";
import { KINDS, SEVERITIES, type Kind, type RootCause, type Severity } from "./schemas.js";

/** Mean and median of a duration, over the incidents that have one. */
export interface DurationStat {
  count: number;
  meanMs: number | null;
  medianMs: number | null;
}

/** What `stats()` answers for the incidents created since `since`. */
export interface IncidentStats {
  since: string | null;
  total: number;
  unresolved: number;
  /** Mean time to acknowledge, per episode: opened (or reopened) -> acknowledged (or investigating). */
  mtta: DurationStat;
  /** Mean time to resolve, per episode: opened (or reopened) -> resolved. */
  mttr: DurationStat;
  bySeverity: Record<Severity, number>;
  byKind: Record<Kind, number>;
  /** Incidents per agent id (`(none)` for manual escalations without one). A null-prototype object. */
  byAgent: Record<string, number>;
  /** Fingerprints with the most occurrences, most first (at most 10). */
  topRecurring: Array<{ fingerprint: string; title: string; incidents: number; occurrences: number }>;
  rootCauses: Partial<Record<RootCause, number>>;
  /** Resolved incidents flagged systemic, for the "review and improve" step. */
  systemic: { resolved: number; systemic: number; share: number | null };
}

/** Computes stats from incidents already filtered to the period. Pure. */
export function computeStats(incidents: readonly Incident[], since: string | null): IncidentStats {
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const byKind = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  // agent ids are data: `__proto__` or `constructor` must count like any other id
  const byAgent: Record<string, number> = Object.create(null) as Record<string, number>;
  const rootCauses: Partial<Record<RootCause, number>> = Object.create(null) as Partial<Record<RootCause, number>>;
  const ack: number[] = [];
  const res: number[] = [];
  const recurring = new Map<string, { fingerprint: string; title: string; incidents: number; occurrences: number }>();
  let unresolved = 0;
  let resolved = 0;
  let systemic = 0;

  for (const incident of incidents) {
    bySeverity[incident.severity] += 1;
    byKind[incident.kind] += 1;
    const agent = incident.agentId ?? "(none)";
    byAgent[agent] = (byAgent[agent] ?? 0) + 1;
    for (const episode of incident.episodes) {
      const opened = Date.parse(episode.openedAt);
      // a clock that went backwards must not make a negative duration
      if (episode.acknowledgedAt) ack.push(Math.max(0, Date.parse(episode.acknowledgedAt) - opened));
      if (episode.resolvedAt) res.push(Math.max(0, Date.parse(episode.resolvedAt) - opened));
    }
    if (incident.status === "resolved") {
      resolved += 1;
      if (incident.resolution) {
        rootCauses[incident.resolution.rootCause] = (rootCauses[incident.resolution.rootCause] ?? 0) + 1;
        if (incident.resolution.systemic) systemic += 1;
      }
    } else {
      unresolved += 1;
    }
    const entry = recurring.get(incident.fingerprint) ?? { fingerprint: incident.fingerprint, title: incident.title, incidents: 0, occurrences: 0 };
    entry.incidents += 1;
    entry.occurrences += incident.occurrences;
    recurring.set(incident.fingerprint, entry);
  }

  const topRecurring = [...recurring.values()]
    .filter((r) => r.occurrences > 1)
    .sort((a, b) => b.occurrences - a.occurrences || b.incidents - a.incidents || a.fingerprint.localeCompare(b.fingerprint))
    .slice(0, 10);
  return {
    since,
    total: incidents.length,
    unresolved,
    mtta: durationStat(ack),
    mttr: durationStat(res),
    bySeverity,
    byKind,
    byAgent,
    topRecurring,
    rootCauses,
    systemic: { resolved: resolved, systemic, share: resolved > 0 ? systemic / resolved : null },
  };
}

function durationStat(values: number[]): DurationStat {
  if (values.length === 0) return { count: 0, meanMs: null, medianMs: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { count: values.length, meanMs: Math.round(values.reduce((a, b) => a + b, 0) / values.length), medianMs: median };
}
