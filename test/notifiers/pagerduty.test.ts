import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterEach, describe, expect, it } from "vitest";
import { createIncidents, type IncidentEvent } from "agent-incidents";
import { pagerdutyNotifier } from "agent-incidents/notifiers";
import { ROOT } from "../e2e/spawn.js";
import { attempt, digest, hasLoneSurrogate, HOSTILE, incident, notification, strings } from "./hostile.js";
import { startReceiver, until } from "./receiver.js";
import { written } from "agent-incidents/testing";

// PagerDuty's own published description of the Events API v2, from ../shared/fixtures next to
// the project (a clone elsewhere on this machine finds the workplace's copy)
const FIXTURE = [join(ROOT, "../shared/fixtures"), "/work/shared/fixtures"].map((dir) => join(dir, "pagerduty-events-v2.openapi.json")).find((file) => existsSync(file));
if (!FIXTURE) throw new Error("pagerduty-events-v2.openapi.json not found in ../shared/fixtures next to the project");
const spec = JSON.parse(readFileSync(FIXTURE, "utf8"));
/** The spec's schemas, made strict: a field PagerDuty does not define is an error, not ignored. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "example" || key === "examples") continue;
    out[key] = strict(value);
  }
  if (out["type"] === "object" && out["properties"]) out["additionalProperties"] = false;
  return out;
}
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("url", (v: string) => /^https?:\/\/\S+$/.test(v));
ajv.addFormat("date-time", (v: string) => !Number.isNaN(Date.parse(v)) && /T.*(Z|[+-]\d\d:?\d\d)$/.test(v));
ajv.addSchema({ components: strict(spec.components) }, "pd");
const body = strict(spec.paths["/enqueue"].post.requestBody.content["application/json"].schema) as object;
const validate = ajv.compile(JSON.parse(JSON.stringify(body).replaceAll('"#/components/', '"pd#/components/')));

const scope = { workspaceId: "ws_pd", agentId: "agt_refunds", environment: "production" as const };
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

describe("pagerdutyNotifier", () => {
  it("triggers, acknowledges and resolves one alert per incident, every request valid against PagerDuty's schema", async () => {
    const receiver = await startReceiver((_r, _i, res) => void res.writeHead(202, { "content-type": "application/json" }).end('{"status":"success"}'));
    open.push(receiver);
    const notifier = pagerdutyNotifier({ routingKey: "R0UTINGKEY123", url: receiver.url, linkTo: (i) => `https://console.example.com/incidents/${i.number}` });
    const incidents = createIncidents({ routes: [{ notifier }] });
    open.push(incidents);
    const report = incidents.reporter(scope);
    const ops = incidents.as({ id: "usr_ana", role: "operator", workspaceId: scope.workspaceId });
    const { incident } = written(await report.executionFailed({ runId: "run_9", eventId: "evt_3", action: { type: "refund.create" }, connector: { id: "con_stripe", provider: "stripe" }, error: { message: "down" } }));
    await ops.acknowledge(incident.id);
    await ops.addNote(incident.id, "looking"); // no PagerDuty request for a note
    await ops.resolve(incident.id, { note: "fixed", rootCause: "external" });
    for (const [i, severity] of (["high", "medium", "low"] as const).entries()) {
      await ops.escalate({ title: `manual ${severity}`, severity, agentId: "agt_refunds", runId: `run_${i}` });
    }
    await until(() => receiver.requests.length === 6);
    const events = receiver.bodies() as unknown as Array<Record<string, any>>;
    for (const event of events) {
      const valid = validate(event);
      expect(validate.errors ?? [], JSON.stringify(event)).toEqual([]);
      expect(valid).toBe(true);
    }
    expect(events.map((e) => e["event_action"])).toEqual(["trigger", "acknowledge", "resolve", "trigger", "trigger", "trigger"]);
    expect(events.slice(0, 3).every((e) => e["dedup_key"] === incident.id)).toBe(true);
    expect(events[0]).toMatchObject({
      routing_key: "R0UTINGKEY123",
      payload: { severity: "critical", source: "agt_refunds", summary: `#1 ${incident.title}`, custom_details: { run: "run_9", event: "evt_3" } },
      links: [{ href: "https://console.example.com/incidents/1", text: "Incident #1" }],
    });
    expect(events.slice(3).map((e) => e["payload"]["severity"])).toEqual(["error", "warning", "info"]);
    // and the schema does refuse what PagerDuty would refuse
    expect(validate({ ...events[0], payload: { ...events[0]!["payload"], severity: "high" } })).toBe(false);
    expect(validate({ ...events[0], dedupKey: "x" })).toBe(false);
  });

  it("retries only 429 and 5xx", async () => {
    const statuses = [429, 500, 202, 408, 400];
    const receiver = await startReceiver((_r, i, res) => void res.writeHead(statuses[i] ?? 202).end());
    open.push(receiver);
    const failed: Array<IncidentEvent<"notification.failed">> = [];
    const incidents = createIncidents({ routes: [{ notifier: pagerdutyNotifier({ routingKey: "K", url: receiver.url, retry: { attempts: 5, minDelayMs: 5, maxDelayMs: 10 } }) }] });
    open.push(incidents);
    incidents.on("notification.failed", (e) => void failed.push(e));
    const report = incidents.reporter(scope);
    written(await report.anomaly({ runId: "r", eventId: "e1", pattern: "one" }));
    await until(() => receiver.requests.length === 3);
    written(await report.anomaly({ runId: "r", eventId: "e2", pattern: "two" }));
    await until(() => failed.length === 1);
    written(await report.anomaly({ runId: "r", eventId: "e3", pattern: "three" }));
    await until(() => failed.length === 2);
    expect(receiver.requests).toHaveLength(5);
    expect(failed.map((f) => f.data.attempts)).toEqual([1, 1]);
  });

  it("sends hostile incidents as requests PagerDuty accepts: valid, the summary within 1024 characters on one line, no broken text", async () => {
    const receiver = await startReceiver((_r, _i, res) => void res.writeHead(202).end('{"status":"success"}'));
    open.push(receiver);
    const notifier = pagerdutyNotifier({ routingKey: "R0UTINGKEY123", url: receiver.url, linkTo: (i) => (i.number === 1 ? "https://console.example.com/incidents/1" : "javascript:alert(1)") });
    const hostile = [
      incident({ number: 1, title: HOSTILE.huge, summary: HOSTILE.huge, severityReason: { rule: "r", explanation: HOSTILE.huge } }),
      // a surrogate pair where the 1024-character cut falls
      incident({ number: 2, title: `${"a".repeat(1020)}😀😀` }),
      incident({ number: 3, title: `${HOSTILE.controls} ${HOSTILE.nul} ${HOSTILE.loneSurrogates}`, agentId: HOSTILE.mention, summary: HOSTILE.loneSurrogates }),
      incident({ number: 4, title: "", agentId: null, workspaceId: `ws_${HOSTILE.link}` }),
    ];
    for (const subject of hostile) await notifier.send([notification(subject)], attempt());
    await notifier.send([digest([incident({ number: 5, status: "resolved", title: HOSTILE.nul }), ...hostile])], attempt());
    const events = receiver.bodies() as unknown as Array<Record<string, any>>;
    expect(events.map((e) => e["event_action"])).toEqual(["trigger", "trigger", "trigger", "trigger", "resolve", "trigger", "trigger", "trigger", "trigger"]);
    for (const [i, request] of receiver.requests.entries()) {
      const event = events[i]!;
      expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
      expect(request.body.length).toBeLessThan(512 * 1024); // PagerDuty's limit for one event
      for (const text of strings(event)) expect(hasLoneSurrogate(text)).toBe(false);
      if (event["event_action"] !== "trigger") continue;
      const summary = event["payload"]["summary"] as string;
      expect(summary.length).toBeLessThanOrEqual(1024);
      expect(summary).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
    }
    expect(events[0]!["payload"]["summary"]).toBe(`#1 ${"<".repeat(1020)}…`);
    expect(events[0]!["links"]).toEqual([{ href: "https://console.example.com/incidents/1", text: "Incident #1" }]);
    expect(events[1]!["payload"]["summary"]).toBe(`#2 ${"a".repeat(1020)}…`);
    expect(events[2]!["payload"]).toMatchObject({ source: "<!channel>", component: "<!channel>", custom_details: { summary: "high \uFFFD low \uFFFD end" } });
    expect(events[2]!["payload"]["summary"]).toContain("high \uFFFD low \uFFFD end");
    expect(events[2]).not.toHaveProperty("links");
    expect(events[3]!["payload"]).toMatchObject({ summary: "#4 ", source: `workspace ws_${HOSTILE.link}` });
    expect(events[3]!["payload"]).not.toHaveProperty("component");
  });

  it("does not name its routing key", () => {
    const notifier = pagerdutyNotifier({ routingKey: "SECRETKEY123" });
    expect(notifier.name).toMatch(/^pagerduty:[0-9a-f]{8}$/);
    expect(notifier.name).not.toContain("SECRETKEY");
  });
});
