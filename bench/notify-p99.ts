/**
 * What a slow receiver costs the reporting agent: report() latency with a route to a webhook that
 * takes a second to answer, against report() with no route, on the SQLite store (where the
 * delivery goes through the outbox). Rounds alternate, so drift hits both alike.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createIncidents } from "agent-incidents";
import { webhookNotifier, type Route } from "agent-incidents/notifiers";
import { sqliteStore } from "agent-incidents/sqlite";
import { comparisons, latencies, log, percentile, results } from "./lib.js";
import { reporters, signal } from "./workload.js";

export async function notifyBench(options: { n: number; rounds: number; dir: string }): Promise<void> {
  log(`notify: report p99 with a route to a 1-second webhook, ${options.n} reports x ${options.rounds} rounds`);
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => setTimeout(() => res.writeHead(204).end(), 1000));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const secret = `whsec_${Buffer.from("bench-secret-bench-secret").toString("base64")}`;
  const samples = { none: [] as number[], slow: [] as number[] };
  let round = 0;
  const run = async (routes: Route[]) => {
    const incidents = createIncidents({ store: sqliteStore({ filename: join(options.dir, `notify-${round++}.db`), synchronous: "normal" }), routes });
    const [report] = reporters(incidents);
    const times = await latencies(options.n, (i) => report!.policyBlocked(signal(i, `run_${round}`)));
    await incidents.close();
    return times;
  };
  for (let r = 0; r < options.rounds; r++) {
    samples.none.push(...(await run([])));
    samples.slow.push(...(await run([{ notifier: webhookNotifier({ url, secret, name: "slow", timeoutMs: 5000 }) }])));
  }
  server.closeAllConnections();
  server.close();
  results["notify.report_p99_no_route.ms"] = percentile(samples.none, 0.99);
  results["notify.report_p99_slow_receiver.ms"] = percentile(samples.slow, 0.99);
  results["notify.p99_ratio_slow_receiver"] = results["notify.report_p99_slow_receiver.ms"] / results["notify.report_p99_no_route.ms"];
  results["notify.p99_ratio_floor"] = 1;
  comparisons.push({
    section: "notify",
    path: "report p99 with a route to a 1 s webhook",
    key: "notify.report_p99_slow_receiver.ms",
    floorKey: "notify.report_p99_no_route.ms",
    floor: "report p99 with no route",
    better: "lower",
    target: "<= 1.2x",
    met: (library, floor) => library <= 1.2 * floor,
  });
}
