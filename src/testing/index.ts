/**
 * For tests: the store and notifier conformance suites (vitest), a fake clock, signal fixtures.
 *
 * @packageDocumentation
 * @module agent-incidents/testing
 */
export { describeStoreConformance } from "./conformance.js";
export type { ConformanceOptions } from "./conformance.js";
export { describeNotifierConformance } from "./notifier-conformance.js";
export type { NotifierConformanceOptions, NotifierHarness } from "./notifier-conformance.js";
export { fakeClock } from "./fake-clock.js";
export type { FakeClock } from "./fake-clock.js";
export { createFixtures } from "./fixtures.js";
export type { FixtureScope, SignalFixtures } from "./fixtures.js";
export { written } from "./written.js";
