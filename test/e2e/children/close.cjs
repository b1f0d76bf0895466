// The CommonJS twin of close.mjs.
const { createIncidents } = require("agent-incidents");
const { defineNotifier, DeliveryError } = require("agent-incidents/notifiers");

(async () => {
  const incidents = createIncidents({
    routes: [{ notifier: defineNotifier({ name: "down", send: async () => Promise.reject(new DeliveryError("503 from receiver", { retryable: true })) }) }],
    delivery: { closeTimeoutMs: 1000 },
  });
  incidents.on("notification.failed", (e) => console.log(`failed ${e.data.notification.type} after ${e.data.attempts}: ${e.data.error}`));
  await incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "p" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await incidents.close();
  console.log("after close");
})();
