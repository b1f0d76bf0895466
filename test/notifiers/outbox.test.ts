import { describe, expect, it } from "vitest";
import { createIncidents, type IncidentStore } from "agent-incidents";
import { callbackNotifier, DeliveryError } from "agent-incidents/notifiers";
import { storeTargets } from "../hardening/stores.js";
import { until } from "./receiver.js";

const scope = { workspaceId: "ws_o", agentId: "agt_o", environment: "production" as const };
const durable = storeTargets("outbox").filter((t) => t.name !== "memory");

describe.each(durable)("the $name outbox", { timeout: 30_000 }, ({ make }) => {
  it("keeps delivered and dead entries for inspection, and prunes them by age", async () => {
    const store: IncidentStore = make();
    let fail = false;
    const notifier = callbackNotifier(async () => {
      if (fail) throw new DeliveryError("receiver says no", { retryable: false });
    }, { name: "cb" });
    const incidents = createIncidents({ store, routes: [{ notifier }], delivery: { pollMs: 20 } });
    const report = incidents.reporter(scope);
    await report.anomaly({ runId: "r", eventId: "e1", pattern: "ok" });
    const outbox = store.outbox!;
    await until(async () => (await outbox.deliveries({ status: "delivered", limit: 10 })).length === 1);
    fail = true;
    await report.anomaly({ runId: "r", eventId: "e2", pattern: "refused" });
    await until(async () => (await outbox.deliveries({ status: "dead", limit: 10 })).length === 1);
    const [dead] = await outbox.deliveries({ status: "dead", limit: 10 });
    expect(dead).toMatchObject({ notifier: "cb", attempts: 1, lastError: "receiver says no", notification: { type: "incident.created" } });
    expect(await outbox.deliveries({ status: "pending", limit: 10 })).toEqual([]);
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    expect(await outbox.prune({ settledBefore: at(-60_000), changesBefore: at(-60_000) })).toBe(0);
    expect(await outbox.prune({ settledBefore: at(60_000), changesBefore: at(60_000) })).toBe(2);
    expect(await outbox.deliveries({ limit: 10 })).toEqual([]);
    await incidents.close();
  });

  it("writes no outbox entry for a report that fails", async () => {
    const store: IncidentStore = make();
    const incidents = createIncidents({
      store,
      routes: [{ notifier: callbackNotifier(async () => undefined, { name: "cb" }) }],
      severityRules: [{ name: "broken", explanation: "x", match: () => { throw new Error("rule broke"); } }],
    });
    await expect(incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" })).rejects.toMatchObject({ code: "CALLBACK" });
    expect(await store.outbox!.deliveries({ limit: 10 })).toEqual([]);
    await incidents.close();
  });
});
