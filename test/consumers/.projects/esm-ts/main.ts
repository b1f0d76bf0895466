// An ES module application in TypeScript (module nodenext) that uses every entry point.
import assert from "node:assert/strict";
import { createIncidents, IncidentError, isIncidentError, memoryStore, NotFoundError, ValidationError, type IncidentStore } from "agent-incidents";
import { aiSdkIncidents, type AiSdkAdapter } from "agent-incidents/ai-sdk";
import { createConsoleHandler, type ConsoleOptions } from "agent-incidents/console";
import { langChainIncidents } from "agent-incidents/langchain";
import { openAIAgentsIncidents } from "agent-incidents/openai-agents";
import { incidentSpanProcessor } from "agent-incidents/opentelemetry";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { createFixtures, describeStoreConformance, fakeClock, written, type FakeClock } from "agent-incidents/testing";

async function exercise(store: IncidentStore): Promise<void> {
  const clock: FakeClock = fakeClock("2026-01-01T00:00:00Z");
  const incidents = createIncidents({ store, clock });
  const signals = createFixtures({ workspaceId: "ws" });
  // a report the store did not take would be "spooled" (no incident yet): written() throws for it
  const { incident, outcome } = written(await incidents.report(signals.executionFailed()));
  assert.equal(outcome, "created");
  assert.equal(incident.createdAt, "2026-01-01T00:00:00.000Z");
  const ops = incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws" });
  assert.equal((await ops.acknowledge(incident.id)).status, "acknowledged");
  // Errors raised by the store's entry point are instances of the root entry point's classes.
  await assert.rejects(store.mutate("ws", "inc_missing", () => null), (e) => e instanceof NotFoundError && e instanceof IncidentError && isIncidentError(e));
  await assert.rejects(ops.get("inc_missing"), NotFoundError);
  await assert.rejects(incidents.report({} as never), ValidationError);
  // the console's handler: a viewer reads the incident through the Fetch API
  const authenticate: ConsoleOptions["authenticate"] = () => ({ id: "usr_vic", role: "viewer", workspaceId: "ws" });
  const page = await createConsoleHandler(incidents, { authenticate })(new Request("http://localhost/api/incidents"));
  assert.equal(((await page.json()) as { items: unknown[] }).items.length, 1);
  // the integrations' declarations, as a framework author meets them
  const reporter = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" });
  const ai: AiSdkAdapter = aiSdkIncidents(reporter, { onError: () => undefined });
  await Promise.all([ai.flush(), openAIAgentsIncidents(reporter).flush(), langChainIncidents(reporter).flush(), incidentSpanProcessor(reporter).forceFlush()]);
  await incidents.close();
}

await exercise(memoryStore());
await exercise(sqliteStore({ filename: ":memory:" }));
assert.equal(typeof postgresStore, "function");
assert.equal(typeof describeStoreConformance, "function");
console.log("esm-ts: ok");
