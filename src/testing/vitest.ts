import type * as Vitest from "vitest";

// vitest is an optional peer: loaded here, once, so that importing agent-incidents/testing for
// fakeClock or createFixtures works without it, and the suites say what is missing
const loaded: typeof Vitest | null = await import("vitest").catch(() => null);

/** vitest's API, or an error that says how to get it. */
export function vitest(suite: string): typeof Vitest {
  if (!loaded) throw new Error(`${suite} runs in vitest: install vitest (npm install -D vitest) and call it from a test file`);
  return loaded;
}
