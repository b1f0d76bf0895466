import { defineConfig } from "tsup";

const entry = {
  index: "src/index.ts",
  sqlite: "src/stores/sqlite.ts",
  postgres: "src/stores/postgres.ts",
  notifiers: "src/notifiers/index.ts",
  testing: "src/testing/index.ts",
  console: "src/console/index.ts",
  "openai-agents": "src/integrations/openai-agents.ts",
  "ai-sdk": "src/integrations/ai-sdk.ts",
  langchain: "src/integrations/langchain.ts",
  opentelemetry: "src/integrations/opentelemetry.ts",
};

export default defineConfig([
  // One build of every entry point in both formats. With splitting (tsup 8 supports it for
  // CommonJS too) a module that several entry points use goes into one shared chunk per format, so
  // `agent-incidents`, `./sqlite`, `./postgres` and `./testing` share one copy of the error classes,
  // `createIncidents` and `memoryStore`, and `instanceof` holds across them.
  {
    entry,
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    target: "node20",
    splitting: true,
    treeshake: true,
    external: ["vitest", "better-sqlite3", "pg", "@hono/node-server"],
    esbuildOptions(options, { format }) {
      // vitest is ESM-only (`require("vitest")` throws), so the CommonJS build of ./testing comes
      // from src/testing/commonjs.ts: the clock and fixtures, and a describeStoreConformance that
      // says to import it from an ES module. Its types are the same, so both .d.ts and .d.cts come
      // from src/testing/index.ts.
      if (format === "cjs") options.entryPoints = { ...entry, testing: "src/testing/commonjs.ts" };
    },
  },
  // the `agent-incidents` command: an ES module of its own (it awaits at the top level) that uses
  // the package through its public entry points, so it shares their one copy of the library
  {
    entry: { cli: "src/cli/bin.ts" },
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    external: [/^agent-incidents(\/|$)/, "better-sqlite3", "pg", "@hono/node-server"],
  },
]);
