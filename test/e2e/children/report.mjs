// A worker process: waits for the barrier time, then reports one connector failure many times at once.
// argv: store spec (sqlite:<file> | postgres:<url>#<schema>), worker index, events, barrier epoch ms
import { createIncidents } from "agent-incidents";
import { openStore } from "./store.mjs";

const [spec, worker, events, barrier] = process.argv.slice(2);
const incidents = createIncidents({ store: await openStore(spec) });
const report = incidents.reporter({ workspaceId: "ws_mp", agentId: "agt_refunds", environment: "production" });
const signal = (runId, eventId) => ({
  runId,
  eventId,
  action: { type: "refund.create" },
  connector: { id: "con_stripe", provider: "stripe" },
  error: { message: "Stripe API unavailable", code: "api_unavailable" },
});
const keys = [];
for (let i = 0; i < Number(events); i++) keys.push([`run_w${worker}`, `evt_${i}`]);
// every worker also reports the same shared events: retried hooks from another process
for (let i = 0; i < 5; i++) keys.push(["run_shared", `evt_${i}`]);
await new Promise((r) => setTimeout(r, Math.max(0, Number(barrier) - Date.now())));
const results = await Promise.all(keys.map(([runId, eventId]) => report.executionFailed(signal(runId, eventId))));
await incidents.close();
process.stdout.write(JSON.stringify({ outcomes: results.map((r) => r.outcome), ids: [...new Set(results.map((r) => r.incident.id))] }));
