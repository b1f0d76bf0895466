import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import the package by its public name; resolve it to the sources for speed and
    // source maps. test/e2e/package.test.ts checks the built package itself.
    alias: [
      { find: /^agent-incidents$/, replacement: src("index.ts") },
      { find: /^agent-incidents\/testing$/, replacement: src("testing/index.ts") },
      { find: /^agent-incidents\/sqlite$/, replacement: src("stores/sqlite.ts") },
      { find: /^agent-incidents\/postgres$/, replacement: src("stores/postgres.ts") },
      { find: /^agent-incidents\/notifiers$/, replacement: src("notifiers/index.ts") },
      { find: /^agent-incidents\/console$/, replacement: src("console/index.ts") },
      { find: /^agent-incidents\/openai-agents$/, replacement: src("integrations/openai-agents.ts") },
      { find: /^agent-incidents\/ai-sdk$/, replacement: src("integrations/ai-sdk.ts") },
      { find: /^agent-incidents\/langchain$/, replacement: src("integrations/langchain.ts") },
      { find: /^agent-incidents\/opentelemetry$/, replacement: src("integrations/opentelemetry.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // test/consumers holds projects that `npm run test:consumers` runs against the packed package.
    exclude: [...configDefaults.exclude, "test/consumers/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
  },
});
