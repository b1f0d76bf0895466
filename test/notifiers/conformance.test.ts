import { randomBytes } from "node:crypto";
import { callbackNotifier, loggerNotifier, pagerdutyNotifier, slackNotifier, webhookNotifier } from "agent-incidents/notifiers";
import { describeNotifierConformance } from "agent-incidents/testing";
import { startReceiver } from "./receiver.js";

const secret = `whsec_${randomBytes(24).toString("base64")}`;

/** A receiver that can be told to answer 503, and the ids of what it got. */
async function receiving(idOf: (body: Record<string, any>) => string | undefined) {
  let failing = false;
  const receiver = await startReceiver((_r, _i, res) => void res.writeHead(failing ? 503 : 202).end());
  return {
    url: receiver.url,
    received: () => receiver.bodies().map((b) => idOf(b as Record<string, any>) ?? ""),
    failing: (on: boolean) => void (failing = on),
    close: () => receiver.close(),
  };
}

describeNotifierConformance("webhookNotifier", async () => {
  const r = await receiving((b) => b["id"]);
  return { notifier: webhookNotifier({ url: r.url, secret, name: "webhook:conformance" }), ...r };
});

describeNotifierConformance("slackNotifier", async () => {
  const r = await receiving(() => undefined);
  return { notifier: slackNotifier({ webhookUrl: r.url, name: "slack:conformance" }), failing: r.failing, close: r.close };
});

describeNotifierConformance("pagerdutyNotifier", async () => {
  const r = await receiving(() => undefined);
  return { notifier: pagerdutyNotifier({ routingKey: "KEY", url: r.url }), failing: r.failing, close: r.close };
});

describeNotifierConformance("callbackNotifier", () => {
  const ids: string[] = [];
  let failing = false;
  async function record(batch: readonly { id: string }[]) {
    if (failing) throw new Error("the callback's target is down");
    ids.push(...batch.map((n) => n.id));
  }
  return { notifier: callbackNotifier(record), received: () => ids, failing: (on) => void (failing = on) };
});

describeNotifierConformance("loggerNotifier", () => {
  const ids: string[] = [];
  const log = (o: object) => void ids.push((o as { notification: string }).notification);
  return { notifier: loggerNotifier({ info: log, warn: log, error: log }), received: () => ids };
});
