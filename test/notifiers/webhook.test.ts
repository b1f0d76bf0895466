import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { createIncidents, type IncidentEvent, type IncidentsOptions } from "agent-incidents";
import { verifyWebhook, webhookNotifier } from "agent-incidents/notifiers";
import { refusedUrl, startReceiver, until } from "./receiver.js";
import { written } from "agent-incidents/testing";

const scope = { workspaceId: "ws_n", agentId: "agt_n", environment: "production" as const };
const secret = `whsec_${randomBytes(24).toString("base64")}`;
const fast = { attempts: 3, minDelayMs: 5, maxDelayMs: 20 };
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

/** An instance routing everything to `url`, collecting `notification.failed` events. */
function setup(url: string, notifier: Partial<Parameters<typeof webhookNotifier>[0]> = {}, options: IncidentsOptions = {}) {
  const failed: Array<IncidentEvent<"notification.failed">> = [];
  const incidents = createIncidents({ routes: [{ notifier: webhookNotifier({ url, secret, retry: fast, ...notifier }) }], ...options });
  incidents.on("notification.failed", (e) => void failed.push(e));
  open.push(incidents);
  return { incidents, report: incidents.reporter(scope), failed };
}

describe("webhookNotifier against a real HTTP server", () => {
  it("retries a 503 with the same delivery id, then delivers", async () => {
    const receiver = await startReceiver((_r, i, res) => void res.writeHead(i === 0 ? 503 : 204).end());
    open.push(receiver);
    const { report, failed } = setup(receiver.url);
    written(await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    await until(() => receiver.requests.length === 2);
    expect(receiver.requests.map((r) => r.headers["webhook-id"])).toEqual([receiver.requests[0]!.headers["webhook-id"], receiver.requests[0]!.headers["webhook-id"]]);
    expect(receiver.bodies()[1]).toMatchObject({ type: "incident.created", data: { incident: { title: "Anomaly: p" } } });
    expect(failed).toEqual([]);
  });

  it("retries 408 and 429, and gives up on a 400 at once", async () => {
    const statuses = [408, 429, 204, 400];
    const receiver = await startReceiver((_r, i, res) => void res.writeHead(statuses[i] ?? 204).end());
    open.push(receiver);
    const { report, failed } = setup(receiver.url, { retry: { attempts: 5, minDelayMs: 5, maxDelayMs: 10 } });
    written(await report.anomaly({ runId: "r", eventId: "e1", pattern: "one" }));
    await until(() => receiver.requests.length === 3);
    written(await report.anomaly({ runId: "r", eventId: "e2", pattern: "two" }));
    await until(() => failed.length === 1);
    expect(receiver.requests).toHaveLength(4);
    expect(failed[0]!.data).toMatchObject({ attempts: 1, notifier: expect.stringMatching(/^webhook:http:\/\/127\.0\.0\.1:\d+\/hooks$/), error: expect.stringContaining("answered 400") });
    expect(failed[0]!.data.notification).toMatchObject({ type: "incident.created", data: { incident: { title: "Anomaly: two" } } });
  });

  it("times out a receiver that does not answer, and tries again", async () => {
    const receiver = await startReceiver((_r, i, res) => {
      if (i > 0) res.writeHead(204).end(); // the first request is left hanging
    });
    open.push(receiver);
    const { report, failed } = setup(receiver.url, { timeoutMs: 100 });
    written(await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    await until(() => receiver.requests.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(failed).toEqual([]);
  });

  it("ends in notification.failed with the attempt count when the connection is refused every time", async () => {
    const { report, failed } = setup(await refusedUrl());
    const { incident } = written(await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    await until(() => failed.length === 1);
    expect(failed[0]!.data).toMatchObject({ attempts: 3, error: expect.stringContaining("ECONNREFUSED") });
    expect(failed[0]!.data.notification).toMatchObject({ data: { incident: { id: incident.id } } });
  });

  it("never slows a report: 20 reports complete while the receiver has not answered once", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const receiver = await startReceiver(async (_r, _i, res) => {
      await gate;
      res.writeHead(204).end();
    });
    open.push(receiver);
    const { report } = setup(receiver.url, { timeoutMs: 30_000 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => report.anomaly({ runId: "r", eventId: `e${i}`, pattern: `p${i}` })));
    expect(results.every((r) => r.outcome === "created")).toBe(true);
    expect(receiver.requests.length).toBeLessThanOrEqual(1); // one in flight, unanswered
    release();
    await until(() => receiver.requests.length === 20);
    expect(receiver.bodies().map((b) => (b.data as { incident: { number: number } }).incident.number)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("signs every request so that the reference standardwebhooks package verifies it, and a tampered body fails", async () => {
    const receiver = await startReceiver();
    open.push(receiver);
    const { report, incidents } = setup(receiver.url);
    const { incident } = written(await report.policyBlocked({ runId: "r", eventId: "e", action: { type: "refund.create" }, policy: { id: "pol", name: "Limit", effect: "block" }, impact: "high" }));
    await incidents.as({ id: "usr", role: "operator", workspaceId: scope.workspaceId }).acknowledge(incident.id);
    await until(() => receiver.requests.length === 2);
    const reference = new Webhook(secret);
    for (const request of receiver.requests) {
      expect(request.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(reference.verify(request.body, request.headers)).toMatchObject({ id: request.headers["webhook-id"] });
      expect(verifyWebhook(secret, request.body, request.headers).id).toBe(request.headers["webhook-id"]);
      const tampered = request.body.replace("Limit", "Limlt");
      expect(() => reference.verify(tampered, request.headers)).toThrow();
      expect(() => verifyWebhook(secret, tampered, request.headers)).toThrow(/no webhook-signature matches/);
    }
    expect(receiver.bodies().map((b) => b.type)).toEqual(["incident.created", "incident.acknowledged"]);
    const [first] = receiver.requests;
    const later = new Date((Number(first!.headers["webhook-timestamp"]) + 600) * 1000);
    expect(() => verifyWebhook(secret, first!.body, first!.headers, { now: later })).toThrow(/too old/);
    expect(() => verifyWebhook(secret, first!.body, { ...first!.headers, "webhook-id": undefined as never })).toThrow(/missing webhook-id/);
    expect(() => verifyWebhook(`whsec_${randomBytes(24).toString("base64")}`, first!.body, first!.headers)).toThrow(/no webhook-signature/);
  });

  it("verifyWebhook takes headers in any case, and refuses empty secrets, an unbounded tolerance and bodies that are not notifications", async () => {
    const receiver = await startReceiver();
    open.push(receiver);
    const { report } = setup(receiver.url);
    written(await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    await until(() => receiver.requests.length === 1);
    const [request] = receiver.requests;
    const upper = Object.fromEntries(Object.entries(request!.headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(secret, request!.body, upper).id).toBe(request!.headers["webhook-id"]);
    expect(verifyWebhook(secret, request!.body, new Headers(request!.headers)).id).toBe(request!.headers["webhook-id"]);
    for (const empty of ["", "whsec_", "whsec_===="]) expect(() => verifyWebhook(empty, request!.body, request!.headers)).toThrow(/at least 16 bytes/);
    expect(() => verifyWebhook(secret, request!.body, request!.headers, { toleranceS: Number.NaN })).toThrow(/finite/);
    const { createHmac } = await import("node:crypto");
    const signed = (body: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = createHmac("sha256", Buffer.from(secret.slice(6), "base64")).update(`m1.${ts}.${body}`).digest("base64");
      return { "webhook-id": "m1", "webhook-timestamp": ts, "webhook-signature": `v1,${sig}` };
    };
    expect(() => verifyWebhook(secret, "42", signed("42"))).toThrow(/not a notification object/);
    expect(() => webhookNotifier({ url: receiver.url, secret: "whsec_================" })).toThrow(/at least 16 bytes/);
  });

  it("validates its options", () => {
    expect(() => webhookNotifier({ url: "ftp://x", secret })).toThrow(/url: must be an http or https URL/);
    expect(() => webhookNotifier({ url: "http://x", secret: "hunter2" })).toThrow(/secret: must be a Standard Webhooks secret/);
  });
});
