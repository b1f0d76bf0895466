import type { RunEvent } from "./core/signals.js";

/** A run's full timeline, as a `RunSource` loads it. */
export interface RunTimeline {
  runId: string;
  agentId?: string | undefined;
  /** `running`, or how the run ended: `completed`, `errored`, `escalated`. */
  status?: "running" | "completed" | "errored" | "escalated" | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  events: RunEvent[];
}

/**
 * Where the host keeps its runs. Plug one in as `createIncidents({ runs })` and `context(id)`
 * returns the incident's full run timeline next to the stored snapshot.
 *
 * @example
 * ```ts
 * const runs: RunSource = {
 *   async loadRun(runId, { workspaceId }) {
 *     const row = await db.runs.find({ id: runId, workspaceId });
 *     return row ? { runId, status: row.status, events: row.events } : null;
 *   },
 * };
 * ```
 */
export interface RunSource {
  /**
   * Loads one run, or `null` when it is unknown. A rejection does not fail `context()`: the run
   * is then `null` and `runError` says why.
   */
  loadRun(runId: string, scope: { workspaceId: string; agentId: string | null }): Promise<RunTimeline | null>;
}
