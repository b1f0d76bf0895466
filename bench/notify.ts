/**
 * npm run bench:notify [-- --n 5000]
 *
 * What a route adds to report(): the same reports with no route, one route, and three routes
 * (a callback that does nothing, a webhook to a local receiver, a digest), on the memory store
 * and on SQLite (where deliveries go through the outbox, in the report's own transaction).
 * Configurations run in interleaved rounds in one process, so drift hits them alike.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createIncidents, memoryStore, type IncidentStore } from "agent-incidents";
import { callbackNotifier, webhookNotifier, type Route } from "agent-incidents/notifiers";
import { sqliteStore } from "agent-incidents/sqlite";

const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--n") + 1] ?? "") || 5000;
const ROUNDS = 5;

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(204).end());
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
const secret = `whsec_${Buffer.from("bench-secret-bench-secret").toString("base64")}`;

const routeSets: Record<string, () => Route[]> = {
  "no route": () => [],
  "1 route (callback)": () => [{ notifier: callbackNotifier(async () => undefined, { name: "noop" }) }],
  "3 routes (callback, webhook, digest)": () => [
    { notifier: callbackNotifier(async () => undefined, { name: "noop" }) },
    { notifier: webhookNotifier({ url, secret, name: "hook" }), minSeverity: "high" },
    { notifier: callbackNotifier(async () => undefined, { name: "digest" }), severities: ["low", "medium"], digest: { everyMs: 60_000 } },
  ],
};

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-bench-notify-"));
const stores: Record<string, (tag: string) => IncidentStore> = {
  memory: () => memoryStore(),
  "sqlite (normal sync)": (tag) => sqliteStore({ filename: join(dir, `${tag}.db`), synchronous: "normal" }),
};

const totals = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [storeName, makeStore] of Object.entries(stores)) {
    for (const [routeName, routes] of Object.entries(routeSets)) {
      const incidents = createIncidents({ store: makeStore(`${round}-${routeName.length}`), routes: routes() });
      const report = incidents.reporter({ workspaceId: "ws_bench", agentId: "agt_bench", environment: "production" });
      const perRound = Math.ceil(N / ROUNDS);
      const start = performance.now();
      for (let i = 0; i < perRound; i++) {
        await report.policyBlocked({
          runId: `run_${round}`,
          eventId: `evt_${i}`,
          action: { type: "refund.create", payload: { amount: 100 + (i % 900) } },
          policy: { id: `pol_${i}`, name: `Policy ${i}`, effect: "block" },
          impact: (["low", "medium", "high", "critical"] as const)[i % 4],
        });
      }
      const key = `${storeName}|${routeName}`;
      totals.set(key, [...(totals.get(key) ?? []), ((performance.now() - start) * 1000) / perRound]);
      await incidents.close();
    }
  }
}
server.close();
rmSync(dir, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`report() with routes: ${N} new incidents per configuration, median of ${ROUNDS} interleaved rounds\n`);
console.log("| store | routes | µs per report | added by the routes |");
console.log("|---|---|---|---|");
for (const storeName of Object.keys(stores)) {
  const base = median(totals.get(`${storeName}|no route`)!);
  for (const routeName of Object.keys(routeSets)) {
    const value = median(totals.get(`${storeName}|${routeName}`)!);
    console.log(`| ${storeName} | ${routeName} | ${value.toFixed(1)} | ${routeName === "no route" ? "" : `+${(value - base).toFixed(1)} µs (${((value / base - 1) * 100).toFixed(0)}%)`} |`);
  }
}
