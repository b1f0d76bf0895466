import { MAX_EPISODES, type Episode } from "./incident.js";

/** The episodes with a new one opened at `at` (a creation or a reopen). Keeps the last 50. */
export function openEpisode(episodes: readonly Episode[], at: string): Episode[] {
  const next = [...episodes, { openedAt: at, acknowledgedAt: null, resolvedAt: null }];
  return next.length > MAX_EPISODES ? next.slice(next.length - MAX_EPISODES) : next;
}

/** The episodes with the current (last) one changed. */
export function updateEpisode(episodes: readonly Episode[], patch: Partial<Episode>): Episode[] {
  const last = episodes[episodes.length - 1];
  if (!last) return [];
  return [...episodes.slice(0, -1), { ...last, ...patch }];
}
