export { describeStoreConformance } from "./conformance.js";
export type { ConformanceOptions } from "./conformance.js";
export { fakeClock } from "./fake-clock.js";
export type { FakeClock } from "./fake-clock.js";
export { createFixtures } from "./fixtures.js";
export type { FixtureScope, SignalFixtures } from "./fixtures.js";
