import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createIncidents, memoryStore, type IncidentEvent, type IncidentStore } from "agent-incidents";
import { webhookNotifier } from "agent-incidents/notifiers";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { startReceiver, until } from "../notifiers/receiver.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-outage-"));
const targets: Array<{ name: string; make: () => IncidentStore }> = [
  { name: "memory", make: () => memoryStore() },
  { name: "sqlite", make: () => sqliteStore({ filename: join(dir, `outage-${Date.now()}.db`) }) },
];
if (PG_URL) {
  const schema = schemas("outage");
  targets.push({ name: "postgres", make: () => postgresStore({ connectionString: PG_URL!, schema: schema(), max: 4 }) });
} else {
  reportSkipped("a receiver outage, on postgres");
}

const OUTAGE_MS = 30_000;
const scope = { workspaceId: "ws_out", agentId: "agt_out", environment: "production" as const };

/**
 * A 30 s receiver outage with the default retry policy: 200 notifications raised before, during
 * and after it (new incidents, and acknowledgements of some of them) are all delivered, none is
 * given up on, the down receiver is probed rather than flooded, and each incident's notifications
 * arrive in the order of its changes.
 */
describe.concurrent.each(targets)("a 30 s receiver outage ($name store)", { timeout: 240_000 }, ({ name, make }) => {
  it("loses nothing, probes the down receiver a handful of times, and drains the backlog in order", async () => {
    let down = false;
    let requestsWhileDown = 0;
    const delivered: Array<{ id: string; type: string; data: { incident: { id: string } } }> = [];
    const receiver = await startReceiver((request, _i, response) => {
      if (!down) {
        delivered.push(JSON.parse(request.body));
        return void response.writeHead(204).end();
      }
      requestsWhileDown += 1;
      // half of them as an overloaded server, half as one that drops the connection
      if (requestsWhileDown % 2 === 0) return void response.writeHead(503).end();
      response.socket?.destroy();
    });
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const incidents = createIncidents({ store: make(), routes: [{ notifier: webhookNotifier({ url: receiver.url, secret, timeoutMs: 2000 }) }], delivery: { pollMs: 200 } });
    const failed: Array<IncidentEvent<"notification.failed">> = [];
    incidents.on("notification.failed", (e) => void failed.push(e));
    const report = incidents.reporter(scope);
    const ops = incidents.as({ id: "usr_op", role: "operator", workspaceId: scope.workspaceId });

    let sent = 0;
    const raise = async (n: number) => {
      const { incident } = await report.anomaly({ runId: `run_${n}`, eventId: `evt_${n}`, pattern: `pattern ${n}` });
      sent += 1;
      // every fourth incident is acknowledged at once: its two notifications must keep their order
      if (n % 4 === 0) {
        await ops.acknowledge(incident!.id);
        sent += 1;
      }
    };
    let n = 0;
    for (; n < 10; n++) await raise(n);
    await until(() => delivered.length >= 10, 30_000);
    down = true;
    const outageEnds = Date.now() + OUTAGE_MS;
    // spread over the outage
    while (sent < 190 && Date.now() < outageEnds) {
      await raise(n++);
      await new Promise((r) => setTimeout(r, OUTAGE_MS / 150));
    }
    while (Date.now() < outageEnds) await new Promise((r) => setTimeout(r, 100));
    down = false;
    while (sent < 200) await raise(n++);

    const ids = () => new Set(delivered.map((b) => b.id));
    const upAt = Date.now();
    await until(() => ids().size >= sent, 180_000);
    if (process.env["REPORT_FIGURES"]) console.info(`${name}: ${sent} notifications, ${requestsWhileDown} requests while down, backlog drained ${Date.now() - upAt} ms after the receiver came back`);
    // the receiver has each one before its settle commits: nothing stays pending once those land
    await until(async () => (await incidents.deliveries.list({ status: "pending" })).length === 0, 30_000);
    expect(failed).toEqual([]);
    expect(await incidents.deliveries.list({ status: "dead" })).toEqual([]);
    expect(ids().size).toBe(sent);
    // a handful of probes per minute, not a flood
    expect(requestsWhileDown).toBeGreaterThan(0);
    expect(requestsWhileDown).toBeLessThan(60);
    // per incident: created before acknowledged, each once
    const byIncident = new Map<string, string[]>();
    for (const body of delivered) {
      const id = body.data.incident.id;
      const types = byIncident.get(id) ?? [];
      if (!types.includes(body.type)) types.push(body.type);
      byIncident.set(id, types);
    }
    expect(byIncident.size).toBe(n);
    for (const types of byIncident.values()) expect(types[0]).toBe("incident.created");
    expect([...byIncident.values()].filter((t) => t.length === 2).every((t) => t[1] === "incident.acknowledged")).toBe(true);
    await incidents.close();
    await receiver.close();
  });
});
