// A worker whose PostgreSQL backends get terminated while it reports (by the parent test).
// argv: url, schema, application_name, number of reports in the burst
// It reports as a host does, without retrying: reports the store cannot take are spooled and
// written when it answers. After the parent says "done" on stdin (the terminations stopped), it
// waits for the spool to drain, reports 20 more, and prints what settled.
import { createIncidents } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";

const [url, schema, applicationName, count] = process.argv.slice(2);
const incidents = createIncidents({ store: postgresStore({ connectionString: url, schema, applicationName, max: 4 }) });
const spool = { spooled: 0, written: 0, dropped: [] };
incidents.on("report.spooled", () => void (spool.spooled += 1));
incidents.on("report.written", () => void (spool.written += 1));
incidents.on("report.dropped", (e) => void spool.dropped.push(`${e.data.eventId}: ${e.data.reason}`));
const report = incidents.reporter({ workspaceId: "ws_kill", agentId: "agt_kill", environment: "production" });
const failure = (runId, eventId) => ({
  runId,
  eventId,
  action: { type: "refund.create" },
  connector: { id: "con_stripe", provider: "stripe" },
  error: { message: "Stripe API unavailable", code: "api_unavailable" },
});
const outcome = (promise) => promise.then((r) => r.outcome, (error) => `rejected:${error.code ?? error.message}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const done = new Promise((resolve) => process.stdin.on("data", (d) => String(d).includes("done") && resolve()));

// a steady load: batches of 8, a little apart, so reports keep coming while connections die
const burst = [];
for (let i = 0; i < Number(count); i += 8) {
  const batch = [];
  for (let j = i; j < Math.min(i + 8, Number(count)); j++) batch.push(outcome(report.executionFailed(failure("run_burst", `evt_${j}`))));
  burst.push(...(await Promise.all(batch)));
  process.stdout.write(`progress ${burst.length}\n`);
  await sleep(10);
}
await done;
// every spooled report written (or dropped, which the parent reports), within a generous bound
const deadline = Date.now() + 60_000;
while (spool.written + spool.dropped.length < spool.spooled && Date.now() < deadline) await sleep(20);
const after = [];
for (let i = 0; i < 20; i++) after.push(await outcome(report.executionFailed(failure("run_after", `evt_${i}`))));
await incidents.close();
process.stdout.write(`result ${JSON.stringify({ burst, after, spool })}\n`);
process.stdin.destroy();
