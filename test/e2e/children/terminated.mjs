// A worker whose PostgreSQL backends get terminated while it reports (by the parent test).
// argv: url, schema, application_name, number of reports in the burst
// It retries a report whose StorageError says retryable, as a host should, then prints what settled.
import { createIncidents, isIncidentError } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";

const [url, schema, applicationName, count] = process.argv.slice(2);
const incidents = createIncidents({ store: postgresStore({ connectionString: url, schema, applicationName, max: 4 }) });
const report = incidents.reporter({ workspaceId: "ws_kill", agentId: "agt_kill", environment: "production" });
const failure = (runId, eventId) => ({
  runId,
  eventId,
  action: { type: "refund.create" },
  connector: { id: "con_stripe", provider: "stripe" },
  error: { message: "Stripe API unavailable", code: "api_unavailable" },
});

let retries = 0;
async function reportWithRetry(runId, eventId) {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await report.executionFailed(failure(runId, eventId))).outcome;
    } catch (error) {
      if (!(isIncidentError(error) && error.code === "STORAGE" && error.retryable) || attempt >= 10) return `rejected:${error.code ?? error.message}`;
      retries += 1;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

const burst = [];
for (let i = 0; i < Number(count); i += 8) {
  const batch = [];
  for (let j = i; j < Math.min(i + 8, Number(count)); j++) batch.push(reportWithRetry("run_burst", `evt_${j}`));
  burst.push(...(await Promise.all(batch)));
  process.stdout.write(`progress ${burst.length}\n`);
}
const after = [];
for (let i = 0; i < 20; i++) after.push(await reportWithRetry("run_after", `evt_${i}`));
await incidents.close();
process.stdout.write(`result ${JSON.stringify({ burst, after, retries })}\n`);
