// Reports in a loop into a SQLite file, printing each event id once its report has resolved,
// until the parent kills it with SIGKILL.
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";

const incidents = createIncidents({ store: sqliteStore({ filename: process.argv[2] }) });
const report = incidents.reporter({ workspaceId: "ws_crash", agentId: "agt_loop", environment: "production" });
for (let i = 0; ; i++) {
  await report.anomaly({ runId: "run_loop", eventId: `evt_${i}`, pattern: `pattern_${i % 7}`, detail: "x".repeat(i % 50) });
  process.stdout.write(`ok evt_${i}\n`);
}
