// Plain CommonJS: require() of every entry point, and one copy of each class across them.
const assert = require("node:assert/strict");
const root = require("agent-incidents");
const { sqliteStore } = require("agent-incidents/sqlite");
const { postgresStore } = require("agent-incidents/postgres");
const testing = require("agent-incidents/testing");
const notifiers = require("agent-incidents/notifiers");
const { createConsoleHandler } = require("agent-incidents/console");
const { openAIAgentsIncidents } = require("agent-incidents/openai-agents");
const { aiSdkIncidents } = require("agent-incidents/ai-sdk");
const { langChainIncidents } = require("agent-incidents/langchain");
const { incidentSpanProcessor } = require("agent-incidents/opentelemetry");
const { version } = require("agent-incidents/package.json");

async function main() {
  assert.match(version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof postgresStore, "function");
  for (const store of [root.memoryStore(), sqliteStore({ filename: ":memory:" })]) {
    const delivered = [];
    const route = { notifier: notifiers.callbackNotifier(async (batch) => void delivered.push(...batch.map((n) => n.type)), { name: "cb" }) };
    const incidents = root.createIncidents({ store, clock: testing.fakeClock("2026-01-01T00:00:00Z"), routes: [route] });
    const signals = testing.createFixtures({ workspaceId: "ws" });
    const first = await incidents.report(signals.agentError());
    const again = await incidents.report(signals.agentError());
    assert.deepEqual([first.outcome, again.outcome], ["created", "recurred"]);
    await assert.rejects(store.mutate("ws", "inc_missing", () => null), (e) => e instanceof root.NotFoundError && root.isIncidentError(e));
    await assert.rejects(incidents.report({}), root.ValidationError);
    await incidents.close();
    assert.deepEqual(delivered, ["incident.created"]); // a recurrence right after is throttled
  }
  assert.throws(() => notifiers.webhookNotifier({ url: "x", secret: "y" }), root.ValidationError);
  // the console's handler from CommonJS: a Fetch Response, errors of the one shared class
  const incidents = root.createIncidents({ store: root.memoryStore() });
  const handler = createConsoleHandler(incidents, { authenticate: () => ({ id: "u", role: "viewer", workspaceId: "ws" }) });
  const response = await handler(new Request("http://localhost/api/incidents"));
  assert.equal(response.status, 200);
  assert.deepEqual((await response.json()).items, []);
  assert.throws(() => createConsoleHandler(incidents, {}), root.ValidationError);
  // each integration from CommonJS: a failed tool call becomes an incident
  const reporter = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" });
  const ai = aiSdkIncidents(reporter);
  ai.integration.onToolCallFinish({ toolCall: { toolCallId: "call_1", toolName: "t", input: {} }, success: false, error: new Error("down"), experimental_context: { runId: "r" } });
  await ai.flush();
  assert.equal(typeof openAIAgentsIncidents(reporter).processor.onSpanEnd, "function");
  assert.equal(typeof langChainIncidents(reporter).handler.handleToolError, "function");
  assert.equal(typeof incidentSpanProcessor(reporter).onEnd, "function");
  const viewer = incidents.as({ id: "u", role: "viewer", workspaceId: "ws" });
  assert.equal((await viewer.list()).items[0].kind, "execution_failed");
  await incidents.close();
  assert.throws(() => testing.describeStoreConformance("x", () => root.memoryStore()), /ES module/);
  console.log("cjs-require: ok");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
