import { describe, expect, it } from "vitest";
import { createIncidents, type IncidentEvent } from "agent-incidents";
import { callbackNotifier, defineNotifier, DeliveryError, loggerNotifier, slackNotifier, slackMessage, webhookNotifier, type Notification } from "agent-incidents/notifiers";
import { sqliteStore } from "agent-incidents/sqlite";
import { startReceiver, until } from "./receiver.js";

const scope = { workspaceId: "ws_d", agentId: "agt_d", environment: "production" as const };

describe("the delivery engine", () => {
  it("isolates notifiers: one that hangs or throws delays no other", async () => {
    const fastOnes: string[] = [];
    const hanging = defineNotifier({ name: "hangs", timeoutMs: 60_000, send: () => new Promise<void>(() => undefined) });
    const throwing = defineNotifier({ name: "throws", retry: { attempts: 2, minDelayMs: 1, maxDelayMs: 2 }, send: () => { throw new Error("sync throw"); } });
    const failed: Array<IncidentEvent<"notification.failed">> = [];
    const incidents = createIncidents({
      routes: [{ notifier: hanging }, { notifier: throwing }, { notifier: callbackNotifier(async ([n]) => void fastOnes.push(n!.type), { name: "fast" }) }],
      delivery: { closeTimeoutMs: 50 },
    });
    incidents.on("notification.failed", (e) => void failed.push(e));
    const report = incidents.reporter(scope);
    for (let i = 0; i < 5; i++) await report.anomaly({ runId: "r", eventId: `e${i}`, pattern: `p${i}` });
    await until(() => fastOnes.length === 5 && failed.length === 5);
    expect(failed.every((f) => f.data.notifier === "throws" && f.data.attempts === 2 && f.data.error === "sync throw")).toBe(true);
    await incidents.close(); // the hanging one is aborted at the deadline; it and its queue are reported
    const hung = failed.filter((f) => f.data.notifier === "hangs");
    expect(hung).toHaveLength(5);
    expect(hung.map((f) => f.data.error)).toEqual([expect.stringContaining("closing"), ...Array(4).fill("closed before delivery")]);
  });

  it("keeps the delivery id across retries and gives each try its own copy", async () => {
    const seen: Array<{ id: string; attempt: number }> = [];
    const notifier = defineNotifier({
      name: "flaky",
      retry: { attempts: 4, minDelayMs: 1, maxDelayMs: 5 },
      async send([notification], { attempt }) {
        seen.push({ id: notification!.id, attempt });
        (notification as { type: string }).type = "tampered";
        if (attempt < 3) throw new DeliveryError("not yet", { retryable: true });
      },
    });
    const incidents = createIncidents({ routes: [{ notifier }] });
    await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" });
    await until(() => seen.length === 3);
    await incidents.close();
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1);
    expect(seen[0]!.id).toMatch(/^dlv_/);
  });

  it("close() waits for what is in flight, within its deadline", async () => {
    const delivered: string[] = [];
    const slow = defineNotifier({ name: "slow", send: async ([n]) => void (await new Promise((r) => setTimeout(r, 200)), delivered.push(n!.id)) });
    const incidents = createIncidents({ routes: [{ notifier: slow }] });
    await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" });
    await incidents.close();
    expect(delivered).toHaveLength(1);
  });

  it("a notifier failing never fails or slows the report that triggered it", async () => {
    const incidents = createIncidents({ routes: [{ notifier: defineNotifier({ name: "broken", retry: { attempts: 1 }, send: async () => Promise.reject(new Error("down")) }) }], onError: () => undefined });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => incidents.reporter(scope).anomaly({ runId: "r", eventId: `e${i}`, pattern: `p${i}` })));
    expect(results.map((r) => r.outcome)).toEqual(Array(10).fill("created"));
    await incidents.close();
  });
});

describe("the other notifiers", () => {
  it("slackNotifier posts Block Kit with severity, title, agent, run and the host's link, and keeps its URL out of names and errors", async () => {
    const receiver = await startReceiver((_r, i, res) => void res.writeHead(i === 0 ? 200 : 404).end("no_service"));
    const url = `${receiver.url}/T000/B000/secretpart`;
    const failed: Array<IncidentEvent<"notification.failed">> = [];
    const notifier = slackNotifier({ webhookUrl: url, linkTo: (i) => `https://console.example.com/i/${i.number}` });
    const incidents = createIncidents({ routes: [{ notifier }] });
    incidents.on("notification.failed", (e) => void failed.push(e));
    const report = incidents.reporter(scope);
    await report.executionFailed({ runId: "run_7", eventId: "e", action: { type: "refund.create" }, connector: { id: "c", provider: "stripe" }, error: { message: "<b>down</b>" } });
    await until(() => receiver.requests.length === 1);
    const message = JSON.parse(receiver.requests[0]!.body) as { text: string; blocks: Array<Record<string, any>> };
    expect(message.text).toMatch(/^New incident: #1 stripe failed/);
    const text = JSON.stringify(message.blocks);
    for (const part of ["critical", "agt_d", "run_7", "https://console.example.com/i/1", "&lt;b&gt;down&lt;/b&gt;"]) expect(text).toContain(part);
    expect(message.blocks.map((b) => b["type"])).toEqual(["header", "section", "section", "context", "actions"]);
    await report.anomaly({ runId: "r", eventId: "e2", pattern: "p" });
    await until(() => failed.length === 1);
    expect(notifier.name).not.toContain("secretpart");
    expect(failed[0]!.data.error).not.toContain("secretpart");
    await incidents.close();
    await receiver.close();
  });

  it("slackMessage lists a digest's incidents", () => {
    const incident = { number: 3, title: "t", severity: "low", agentId: "a", status: "open" } as never;
    const digest: Notification = { id: "d", type: "incident.digest", timestamp: "2026-01-01T00:00:00.000Z", data: { incidents: [incident, incident] } };
    expect(JSON.stringify(slackMessage(digest))).toContain("2 incident update(s) for review");
  });

  it("loggerNotifier logs at a level that follows severity, pino style", async () => {
    const lines: Array<[string, object, string | undefined]> = [];
    const logger = { info: (o: object, m?: string) => lines.push(["info", o, m]), warn: (o: object, m?: string) => lines.push(["warn", o, m]), error: (o: object, m?: string) => lines.push(["error", o, m]) };
    const incidents = createIncidents({ routes: [{ notifier: loggerNotifier(logger) }] });
    const report = incidents.reporter(scope);
    await report.executionFailed({ runId: "r", eventId: "e", action: { type: "t" }, connector: { id: "c", provider: "p" }, error: { message: "x" } });
    await report.anomaly({ runId: "r", eventId: "e2", pattern: "p" });
    await incidents.close();
    expect(lines.map(([level, , message]) => `${level} ${message}`)).toEqual(["error incident.created: #1 p failed to execute t: x", "info incident.created: #2 Anomaly: p"]);
    expect(() => loggerNotifier({} as never)).toThrow(/must have info, warn and error/);
  });
});

describe("the delivery engine on a bad day", () => {
  it("reads only the start of a receiver's answer, however long it goes on", async () => {
    const receiver = await startReceiver((_r, _i, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = "x".repeat(64 * 1024);
      const write = () => {
        if (!res.destroyed) res.write(chunk, () => setImmediate(write));
      };
      write(); // an answer that never ends
    });
    const failed: Array<IncidentEvent<"notification.failed">> = [];
    const incidents = createIncidents({ routes: [{ notifier: webhookNotifier({ url: receiver.url, secret: `whsec_${"A".repeat(32)}`, timeoutMs: 5000 }) }] });
    incidents.on("notification.failed", (e) => void failed.push(e));
    await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" });
    await until(() => receiver.requests.length === 1);
    await incidents.close();
    expect(failed).toEqual([]);
    expect(receiver.requests).toHaveLength(1);
    await receiver.close();
  });

  it.each(["memory", "sqlite"])("close() keeps its deadline with a notifier that never answers (%s store)", async (kind) => {
    const store = kind === "memory" ? undefined : sqliteStore({ filename: ":memory:" });
    const notifier = defineNotifier({ name: "never", timeoutMs: 60_000, send: () => new Promise<void>(() => undefined) });
    const incidents = createIncidents({ store, routes: [{ notifier }], delivery: { closeTimeoutMs: 300 }, onError: () => undefined });
    for (let i = 0; i < 5; i++) await incidents.reporter(scope).anomaly({ runId: "r", eventId: `e${i}`, pattern: `p${i}` });
    const started = Date.now();
    await incidents.close();
    // a hang guard, not a speed goal: before, this waited for the notifier's 60 s timeout
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("delivers nothing after close() resolves, and reports each undelivered notification once", async () => {
    const delivered: string[] = [];
    let first = true;
    const notifier = defineNotifier({
      name: "late",
      retry: { attempts: 3, minDelayMs: 600, maxDelayMs: 600 },
      async send([n]) {
        if (first) {
          first = false;
          throw new Error("not now");
        }
        delivered.push(n!.id);
      },
    });
    const failed: string[] = [];
    const incidents = createIncidents({ routes: [{ notifier }], delivery: { closeTimeoutMs: 100 } });
    incidents.on("notification.failed", (e) => void failed.push(e.data.notification.id));
    for (let i = 0; i < 3; i++) await incidents.reporter(scope).anomaly({ runId: "r", eventId: `e${i}`, pattern: `p${i}` });
    await until(() => !first);
    await incidents.close();
    const atClose = [...delivered];
    await new Promise((r) => setTimeout(r, 900));
    expect(delivered).toEqual(atClose);
    expect(failed.length + delivered.length).toBe(3);
    expect(new Set(failed).size).toBe(failed.length);
  });

  it("survives a notifier whose errors cannot be read, and refuses names no store can keep", async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const weird = [proxy, Object.defineProperty(new Error("x"), "retryable", { get: () => { throw new Error("getter"); } })];
    let i = 0;
    const failed: string[] = [];
    const incidents = createIncidents({ routes: [{ notifier: defineNotifier({ name: "weird", retry: { attempts: 1 }, send: async () => Promise.reject(weird[i++ % 2]) }) }] });
    incidents.on("notification.failed", (e) => void failed.push(e.data.error));
    for (let n = 0; n < 2; n++) await incidents.reporter(scope).anomaly({ runId: "r", eventId: `e${n}`, pattern: `p${n}` });
    await until(() => failed.length === 2);
    await incidents.close();
    for (const name of ["ops\u0000", "ops\uD800", "x".repeat(201), " padded "]) {
      expect(() => createIncidents({ routes: [{ notifier: callbackNotifier(async () => undefined, { name }) }] })).toThrow(/notifier\.name: must be 1 to 200 characters/);
    }
  });
});

describe("slackMessage", () => {
  it("escapes agent text in the notification text too, so <!channel> and links stay text", () => {
    const incident = { number: 1, title: "<!channel> <https://evil.example/login|Re-authenticate>", severity: "high", status: "open", agentId: "a", runId: "r", environment: "production", occurrences: 1, severityReason: { explanation: "x" } } as never;
    const message = slackMessage({ id: "d", type: "incident.created", timestamp: "2026-01-01T00:00:00.000Z", data: { incident } });
    expect(message.text).not.toContain("<!channel>");
    expect(message.text).toContain("&lt;!channel&gt;");
  });
});
