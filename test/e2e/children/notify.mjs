// A process that reports incidents and delivers notifications through a store's outbox.
// argv: store spec (sqlite:<file> | postgres:<url>#<schema>), mode, JSON options
//   mode "report":  reports options.count incidents (options.prefix), resolves every options.lifecycleEvery-th
//                   (acknowledge, then resolve), prints "reported", then delivers until nothing is pending
//                   (untilDrained: false: until killed or options.exitAfterMs)
//   mode "deliver": reports nothing; delivers until the outbox has nothing pending, then prints "drained"
//   mode "stuck":   reports options.count incidents to a notifier that never answers; prints "claimed" once
//                   all are reported and its send was called, then waits to be killed
import { createIncidents } from "agent-incidents";
import { defineNotifier, webhookNotifier } from "agent-incidents/notifiers";
import { openStore } from "./store.mjs";

const [spec, mode, json] = process.argv.slice(2);
const options = JSON.parse(json);
const store = await openStore(spec);
let delivered = 0;
let sending = false;
const base = webhookNotifier({ url: options.url, secret: options.secret, name: "ops-webhook", retry: { attempts: 50, minDelayMs: 50, maxDelayMs: 200 }, timeoutMs: 1000 });
const notifier =
  mode === "stuck"
    ? defineNotifier({ name: "ops-webhook", timeoutMs: 1000, send: () => ((sending = true), new Promise(() => undefined)) })
    : defineNotifier({ name: base.name, retry: base.retry, timeoutMs: base.timeoutMs, send: async (batch, context) => { await base.send(batch, context); delivered += batch.length; } });
const incidents = createIncidents({ store, routes: [{ notifier }], delivery: { pollMs: 50, leaseMs: options.leaseMs ?? 2000, closeTimeoutMs: 1000 } });

if (mode === "report" || mode === "stuck") {
  const report = incidents.reporter({ workspaceId: "ws_outbox", agentId: `agt_${options.prefix}`, environment: "production" });
  const ops = incidents.as({ id: "usr", role: "operator", workspaceId: "ws_outbox" });
  for (let i = 0; i < options.count; i++) {
    const { incident } = await report.anomaly({ runId: `run_${options.prefix}`, eventId: `e${i}`, pattern: `${options.prefix}_${i}` });
    if (options.lifecycleEvery && i % options.lifecycleEvery === 0) {
      await ops.acknowledge(incident.id);
      await ops.resolve(incident.id, { note: "done", rootCause: "other" });
    }
  }
  process.stdout.write("reported\n");
}
if (mode === "stuck") {
  // it has claimed what it reported and is sending: now it can die holding its claims
  while (!sending) await new Promise((r) => setTimeout(r, 10));
  process.stdout.write("claimed\n");
  await new Promise(() => undefined);
}

// deliver until nothing is pending (and at least minRunMs passed: other workers may still report)
const started = Date.now();
const deadline = started + (options.exitAfterMs ?? 30_000);
while (Date.now() < deadline) {
  const pending = await store.outbox.deliveries({ status: "pending", limit: 1 });
  if (pending.length === 0 && options.untilDrained !== false && Date.now() - started >= (options.minRunMs ?? 0)) break;
  await new Promise((r) => setTimeout(r, 50));
}
await incidents.close();
process.stdout.write(`drained ${JSON.stringify({ delivered })}\n`);
