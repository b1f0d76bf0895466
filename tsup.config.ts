import { defineConfig, type Options } from "tsup";

const shared: Options = {
  dts: true,
  sourcemap: true,
  target: "node20",
  splitting: true,
  treeshake: true,
  external: ["vitest", "better-sqlite3", "pg"],
};

export default defineConfig([
  {
    ...shared,
    entry: { index: "src/index.ts", sqlite: "src/stores/sqlite.ts", postgres: "src/stores/postgres.ts" },
    format: ["esm", "cjs"],
  },
  // vitest is ESM-only: the conformance suite ships in the ESM build of ./testing, and the
  // CommonJS build keeps the clock and fixtures
  { ...shared, entry: { testing: "src/testing/index.ts" }, format: ["esm"] },
  { ...shared, entry: { testing: "src/testing/commonjs.ts" }, format: ["cjs"] },
]);
