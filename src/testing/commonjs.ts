/**
 * `agent-incidents/testing` for `require()`. Vitest is ESM-only, so the conformance suite is
 * only available to ES modules; the clock and fixtures work everywhere.
 * @internal
 */
import type { IncidentStore } from "../stores/contract.js";
import type { ConformanceOptions } from "./conformance.js";

export { fakeClock } from "./fake-clock.js";
export type { FakeClock } from "./fake-clock.js";
export { createFixtures } from "./fixtures.js";
export { written } from "./written.js";
export type { FixtureScope, SignalFixtures } from "./fixtures.js";
export type { ConformanceOptions } from "./conformance.js";
export type { NotifierConformanceOptions, NotifierHarness } from "./notifier-conformance.js";

export function describeStoreConformance(
  _name: string,
  _factory: () => IncidentStore | Promise<IncidentStore>,
  _options?: ConformanceOptions,
): void {
  throw new Error(
    "describeStoreConformance needs vitest, which cannot be loaded with require(): import agent-incidents/testing from an ES module test file (vitest test files are ES modules by default)",
  );
}

export function describeNotifierConformance(_name: string, _factory: () => unknown, _options?: unknown): void {
  throw new Error(
    "describeNotifierConformance needs vitest, which cannot be loaded with require(): import agent-incidents/testing from an ES module test file",
  );
}
