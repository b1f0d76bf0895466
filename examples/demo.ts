/**
 * npm run demo [-- --memory | --db FILE]
 *
 * A scripted agent runtime reports what goes wrong; then an operator triages through the same
 * library. By default incidents go to a SQLite file, so a second run shows the first run's
 * incidents (and its reports recur into them).
 */
import { relative, resolve } from "node:path";
import { createIncidents, memoryStore, type IncidentStore } from "agent-incidents";
import { callbackNotifier, webhookNotifier } from "agent-incidents/notifiers";
import { sqliteStore } from "agent-incidents/sqlite";
import { bold, dim, elapsed, heading, printActivity, printDetail, printStats, printTable, severity } from "./demo/print.js";
import { startReceiver } from "./demo/receiver.js";
import { DemoRuntime, runScenario, STORY_MS, storyClock } from "./demo/runtime.js";

const args = process.argv.slice(2);
const dbFlag = args.indexOf("--db");
const file = resolve(dbFlag >= 0 && args[dbFlag + 1] ? args[dbFlag + 1]! : "agent-incidents-demo.db");
const store: IncidentStore = args.includes("--memory") ? memoryStore() : sqliteStore({ filename: file });

const clock = storyClock();
const runtime = new DemoRuntime(clock);
// where on-call hears about it: a webhook receiver started here, and a callback that would page
const receiver = await startReceiver();
const pages: string[] = [];
const page = callbackNotifier(async ([n]) => {
  if (n && "incident" in n.data) pages.push(`${n.type.replace("incident.", "").padEnd(9)} #${n.data.incident.number} ${n.data.incident.title}`);
}, { name: "pager" });
const incidents = createIncidents({
  store,
  clock,
  runs: runtime,
  routes: [
    { notifier: webhookNotifier({ url: receiver.url, secret: receiver.secret, name: "on-call-webhook" }), minSeverity: "high" },
    { notifier: page, minSeverity: "high", events: ["created", "reopened"] },
  ],
});

console.log(bold("agent-incidents demo"));
console.log(
  store.durable
    ? `store: SQLite file ${file}\n       run the demo again to see these incidents carried over; --memory keeps nothing`
    : "store: in memory (nothing is kept after this run)",
);
const before = await incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_acme" }).counts();
const known = Object.values(before).reduce((n, row) => n + Object.values(row).reduce((a, b) => a + b, 0), 0);
if (known > 0) {
  console.log(`       ${known} incidents from earlier runs are already in it`);
  const { items } = await incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_acme" }).list({ sort: "recency", limit: 500 });
  const latest = items.map((i) => (i.updatedAt > i.lastSeenAt ? i.updatedAt : i.lastSeenAt)).reduce((a, b) => (b > a ? b : a));
  const kept = clock.startAfter(latest);
  // the story ends at the wall clock: a run soon after the last one squeezes its hour into the gap
  if (kept < 1) console.log(dim(`       this run's ${STORY_MS / 60_000} minutes are squeezed into the ${elapsed(Date.now() - Date.parse(latest))} since the last one's`));
}

heading("1. The runtime reports through its hooks");
await runScenario(incidents, runtime, clock, (agent, runId, what, result) => {
  const outcome = !result ? "no incident" : result.incident ? `${result.outcome.padEnd(9)} #${result.incident.number} ${result.incident.severity}` : "spooled: written when the store answers";
  console.log(`  ${agent.padEnd(12)} ${dim(runId.slice(-6))}  ${what.padEnd(44)} → ${outcome}`);
});

const ana = incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_acme" });

heading("2. Open incidents, by severity then recency");
const open = await ana.list({ status: ["open", "acknowledged", "investigating"] });
printTable(open.items, clock.now());

const top = open.items[0];
if (top) {
  heading(`3. Incident #${top.number}: what happened`);
  printDetail(await ana.context(top.id));

  heading("4. Triage");
  clock.advance(4 * 60_000);
  const acked = await ana.acknowledge(top.id);
  console.log(`  usr_ana acknowledged #${acked.number} (version ${acked.version})`);
  await ana.addNote(top.id, "Customer is gold tier; checking whether the limit should differ per tier.", { expectedVersion: acked.version });
  clock.advance(31 * 60_000);
  const resolved = await ana.resolve(top.id, {
    note: "Refund was legitimate; raised the limit for gold-tier customers to $1000.",
    rootCause: "policy_issue",
    actions: ["policy_updated", "customer_contacted"],
    systemic: true,
  });
  console.log(`  usr_ana resolved #${resolved.number}: ${resolved.resolution?.rootCause}, actions ${resolved.resolution?.actions.join(", ")}`);
  console.log(dim("  audit trail:"));
  printActivity((await ana.get(top.id)).activity);
}

heading("5. Stats");
printStats(await ana.stats());

await incidents.close(); // delivers what is still in flight first

heading("6. Notifications (critical and high: a signed webhook, and a pager callback)");
for (const { notification: n, duplicate } of receiver.received) {
  if (!("incident" in n.data)) continue;
  const i = n.data.incident;
  console.log(`  webhook  ${n.type.padEnd(26)} ${severity(i.severity)} #${String(i.number).padEnd(3)} ${dim(`${n.id}, signature ok${duplicate ? ", duplicate ignored" : ""}`)}`);
}
for (const line of pages) console.log(`  pager    ${line}`);
if (receiver.received.length === 0) console.log(dim("  (none)"));
await receiver.close();
heading("7. Open these incidents in the console");
if (store.durable) {
  const shown = relative(process.cwd(), file) || file;
  console.log(`  npx agent-incidents serve --db ${shown} --workspace ws_acme`);
  console.log(dim(`  (or from the command line: npx agent-incidents list --db ${shown} --workspace ws_acme)`));
} else {
  console.log(dim("  the memory store keeps nothing: run the demo without --memory, then"));
  console.log("  npx agent-incidents serve --db agent-incidents-demo.db --workspace ws_acme");
}
console.log(`\n${dim("Next: npm test · the API in README.md")}`);
