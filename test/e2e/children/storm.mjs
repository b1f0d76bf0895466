// One of two processes in a failure storm: an LLM provider outage hits every agent at once.
// argv: store spec (sqlite:<file> | postgres:<url>#<schema>), JSON options
//   { process, processes, agents, failures, inFlight, t0, windowMs, fireAtMs }
// The parent steers it through stdin lines, so both processes pass each phase together:
//   (start)   reports its share of agents x failures, inFlight at a time, and waits for any it had to
//             spool (the other process held the lock too long) to be written; prints "reported"
//   "fire":   sets its clock to t0 + fireAtMs and fires the due timers (runDue); prints "fired"
//   "settle": plans and sends what both processes committed, closes; prints the result as JSON
// The clock is a fake one, fixed at t0 while reporting: every failure falls in one group window.
import { createInterface } from "node:readline";
import { createIncidents } from "agent-incidents";
import { callbackNotifier } from "agent-incidents/notifiers";
import { fakeClock } from "agent-incidents/testing";
import { openStore } from "./store.mjs";

const [spec, json] = process.argv.slice(2);
const options = JSON.parse(json);
const clock = fakeClock(options.t0);
const sent = [];
const incidents = createIncidents({
  store: await openStore(spec),
  clock,
  noise: { groups: [{ name: "provider-outage", by: ["connector.id", "error.code"], windowMs: options.windowMs }] },
  routes: [{ notifier: callbackNotifier((batch) => void sent.push(...batch), { name: "pager" }) }],
  delivery: { pollMs: 100, closeTimeoutMs: 30_000 },
});

const lines = createInterface({ input: process.stdin });
const waiting = [];
lines.on("line", (line) => waiting.shift()?.(line.trim()));
const next = (expected) =>
  new Promise((resolve, reject) => waiting.push((line) => (line === expected ? resolve() : reject(new Error(`expected "${expected}", got "${line}"`)))));

// this process's share: failure f of agent a is its own when (a + f) % processes === process, so
// both processes report for every agent, and every agent's first failure races between them
const mine = [];
for (let f = 0; f < options.failures; f++) {
  for (let a = 0; a < options.agents; a++) if ((a + f) % options.processes === options.process) mine.push([a, f]);
}
const reporters = Array.from({ length: options.agents }, (_, a) =>
  incidents.reporter({ workspaceId: "ws_storm", agentId: `agt_${String(a).padStart(2, "0")}`, environment: "production" }),
);
// what each report came to: a report that met a locked store is spooled, and counts when written
const outcomes = {};
const count = (outcome) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
let spooled = 0;
let landed = 0;
incidents.on("report.spooled", () => void spooled++);
incidents.on("report.written", ({ data }) => void (landed++, count(data.outcome)));
incidents.on("report.dropped", () => void (landed++, count("dropped")));
let cursor = 0;
await Promise.all(
  Array.from({ length: options.inFlight }, async () => {
    while (cursor < mine.length) {
      const [a, f] = mine[cursor++];
      const { outcome } = await reporters[a].executionFailed({
        runId: `run_${a}_${f}`,
        eventId: `evt_${f}`,
        action: { type: "llm.complete" },
        connector: { id: "con_openai", provider: "openai" },
        error: { name: "ProviderError", message: "429 Too Many Requests", code: "rate_limited", retryable: true },
      });
      if (outcome !== "spooled") count(outcome);
    }
  }),
);
while (landed < spooled) await new Promise((resolve) => setTimeout(resolve, 20));
process.stdout.write("reported\n");

await next("fire");
clock.set(new Date(Date.parse(options.t0) + options.fireAtMs));
const fired = await incidents.runDue();
process.stdout.write("fired\n");

await next("settle");
await incidents.settle();
await incidents.close();
lines.close();
const notifications = sent.map((n) => ({ type: n.type, id: n.data.incident?.id ?? null, kind: n.data.incident?.kind ?? null }));
process.stdout.write(`${JSON.stringify({ outcomes, spooled, fired, notifications })}\n`);
