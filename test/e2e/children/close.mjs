// A script whose last work is `await incidents.close()` while a delivery waits for its next try
// (memory store: nothing else keeps Node alive). Prints what close() gave up on, then "after close".
import { createIncidents } from "agent-incidents";
import { defineNotifier, DeliveryError } from "agent-incidents/notifiers";

const incidents = createIncidents({
  routes: [{ notifier: defineNotifier({ name: "down", send: async () => Promise.reject(new DeliveryError("503 from receiver", { retryable: true })) }) }],
  delivery: { closeTimeoutMs: 1000 },
});
incidents.on("notification.failed", (e) => console.log(`failed ${e.data.notification.type} after ${e.data.attempts}: ${e.data.error}`));
await incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "p" });
// let the first try fail, so the delivery waits for a retry
await new Promise((resolve) => setTimeout(resolve, 100));
await incidents.close();
console.log("after close");
