import type { ReportResult, WrittenReport } from "../engine.js";

/**
 * The report as the store wrote it, for tests that expect the store to take it: throws when the
 * report was spooled (the store was away). `null` (a `runEnded` without an error) passes through.
 *
 * @example
 * ```ts
 * const { incident, outcome } = written(await report.executionFailed(input));
 * ```
 */
export function written(result: ReportResult): WrittenReport;
export function written(result: ReportResult | null): WrittenReport | null;
export function written(result: ReportResult | null): WrittenReport | null {
  if (result?.outcome === "spooled") throw new Error("expected a written report, but it was spooled: the store did not take it");
  return result;
}
