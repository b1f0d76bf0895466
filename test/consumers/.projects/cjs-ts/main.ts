// A CommonJS application in TypeScript with "module": "commonjs", so moduleResolution node10:
// TypeScript ignores "exports" there and finds the subpaths' types through "typesVersions".
import assert from "node:assert/strict";
import { createIncidents, IncidentError, memoryStore, NotFoundError, type IncidentStore } from "agent-incidents";
import { postgresStore, type PostgresStoreOptions } from "agent-incidents/postgres";
import { sqliteStore, type SqliteStoreOptions } from "agent-incidents/sqlite";
import { createFixtures, describeStoreConformance, fakeClock, written, type ConformanceOptions } from "agent-incidents/testing";

async function exercise(store: IncidentStore): Promise<void> {
  const incidents = createIncidents({ store, clock: fakeClock("2026-01-01T00:00:00Z") });
  const signals = createFixtures({ workspaceId: "ws" });
  // a report the store did not take would be "spooled" (no incident yet): written() throws for it
  const { incident, outcome } = written(await incidents.report(signals.policyBlocked()));
  assert.equal(outcome, "created");
  assert.equal(incident.createdAt, "2026-01-01T00:00:00.000Z");
  await assert.rejects(store.mutate("ws", "inc_missing", () => null), (e) => e instanceof NotFoundError && e instanceof IncidentError);
  await incidents.close();
}

async function main(): Promise<void> {
  const sqliteOptions: SqliteStoreOptions = { filename: ":memory:" };
  const pgOptions: PostgresStoreOptions = { connectionString: "postgres://127.0.0.1:1/none", schema: "consumer" };
  const conformance: ConformanceOptions = { skipConcurrency: true };
  await exercise(memoryStore());
  await exercise(sqliteStore(sqliteOptions));
  assert.equal(typeof postgresStore, "function");
  assert.deepEqual([pgOptions.schema, conformance.skipConcurrency], ["consumer", true]);
  // The require() build of ./testing has no conformance suite (vitest cannot be required) and
  // does not load vitest at all.
  assert.throws(() => describeStoreConformance("x", () => memoryStore()), /import agent-incidents\/testing from an ES module/);
  assert.ok(!Object.keys(require.cache).some((file) => /[\\/]vitest[\\/]/.test(file)));
  console.log("cjs-ts: ok");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
