import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createIncidents, ValidationError } from "agent-incidents";
import { callbackNotifier, DeliveryError, pagerdutyNotifier, slackNotifier, webhookNotifier } from "agent-incidents/notifiers";
// not public API: the HTTP helpers every built-in notifier shares
import { parseRetryAfter, postJson } from "../../src/notifiers/http.js";
import { attempt, incident, notification } from "./hostile.js";
import { refusedUrl, startReceiver } from "./receiver.js";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

/** What `promise` rejected with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(error)}`);
  return error;
}

/** Rejects when `promise` has not settled after `ms`: a send must not wait on a receiver's body. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);
}

const sent = notification(incident());

describe("notifier URLs with credentials", () => {
  const urls = ["https://user:hunter2@hooks.example.com/in", "https://user@hooks.example.com/in", "https://:hunter2@hooks.example.com/in"];

  it("are refused at setup with a ValidationError that says why and never repeats the password", () => {
    const setups = [
      (url: string) => webhookNotifier({ url, secret }),
      (url: string) => slackNotifier({ webhookUrl: url }),
      (url: string) => pagerdutyNotifier({ routingKey: "KEY", url }),
    ];
    for (const setup of setups) {
      for (const url of urls) {
        let error: unknown;
        try {
          setup(url);
        } catch (e) {
          error = e;
        }
        expect(error, url).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toMatch(/must not contain credentials \(user@ or user:password@\)/);
        expect((error as Error).message).not.toContain("hunter2");
        expect((error as Error).message).not.toContain("user@hooks");
      }
    }
    expect(() => webhookNotifier({ url: "https://hooks.example.com/in?user=a@b", secret })).not.toThrow();
  });
});

describe("delivery errors", () => {
  it("say the method, the URL, the status and a fixed reason, never the receiver's body", async () => {
    // a receiver that echoes the request path, as Slack's error pages can
    const receiver = await startReceiver((request, _i, res) => void res.writeHead(400, { "content-type": "text/plain" }).end(`invalid_token for ${JSON.stringify(request)}`));
    open.push(receiver);
    const webhook = await rejection(webhookNotifier({ url: receiver.url, secret }).send([sent], attempt()));
    expect(webhook.message).toBe(`POST ${receiver.url} answered 400`);
    expect(webhook).toMatchObject({ status: 400, retryable: false });

    const slackUrl = receiver.url.replace("/hooks", "/services/T0001/B0001/S3CRETPATH");
    const slack = slackNotifier({ webhookUrl: slackUrl });
    const error = await rejection(slack.send([sent], attempt()));
    expect(error.message).toBe(`POST ${slack.name} answered 400`);
    expect(error.message).not.toMatch(/S3CRETPATH|invalid_token/);
  });

  it("from a failed connection carry no query string and no credentials", async () => {
    const refused = await refusedUrl();
    const webhook = await rejection(webhookNotifier({ url: `${refused}?token=S3CRET`, secret }).send([sent], attempt()));
    expect(webhook.message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/hooks failed: ECONNREFUSED$/);
    expect(webhook.retryable).toBe(true);

    // fetch itself quotes a URL with credentials in full: the message must not
    const quoted = await rejection(postJson("http://admin:hunter2@127.0.0.1:9/in/S3CRETPATH?token=S3CRET", "{}", {}, new AbortController().signal, undefined, "target"));
    expect(quoted.message).toMatch(/^POST target failed: /);
    expect(quoted.message).not.toMatch(/hunter2|admin|S3CRET|token/);
    expect(String((quoted as { cause?: unknown }).cause ?? "")).not.toContain("hunter2");
  });
});

describe("the status decides", () => {
  it("a 2xx whose body never ends has been accepted: send resolves at once", async () => {
    const receiver = await startReceiver((_r, _i, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("accepted, and more is coming");
    });
    open.push(receiver);
    await expect(within(webhookNotifier({ url: receiver.url, secret }).send([sent, sent], attempt()), 2000)).resolves.toBeUndefined();
    expect(receiver.requests).toHaveLength(2);
  });

  it("a non-2xx is decided without reading its body", async () => {
    const receiver = await startReceiver((_r, _i, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.write("<html>".padEnd(100, "x"));
    });
    open.push(receiver);
    const error = await rejection(within(webhookNotifier({ url: receiver.url, secret }).send([sent], attempt()), 2000));
    expect(error).toMatchObject({ message: `POST ${receiver.url} answered 502`, status: 502, retryable: true });
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-01-02T03:04:05.000Z");

  it("parseRetryAfter reads delta-seconds and HTTP-dates, capped at 1 hour, and ignores the rest", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 5 ", now)).toBe(5000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("3601", now)).toBe(3_600_000);
    expect(parseRetryAfter("99999999999999999999999", now)).toBe(3_600_000);
    expect(parseRetryAfter("Fri, 02 Jan 2026 03:04:35 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Friday, 02-Jan-26 03:05:05 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Fri Jan  2 03:04:15 2026", now)).toBe(10_000);
    expect(parseRetryAfter("Sat, 03 Jan 2026 03:04:05 GMT", now)).toBe(3_600_000);
    for (const ignored of [null, "", "-5", "1.5", "1e3", "soon", "<!channel>", "5\u0000", "Thu, 01 Jan 2026 00:00:00 GMT", "Fri, 02 Jan 2026 03:04:05 GMT", "2026-01-02T04:00:00Z", "9".repeat(100_000)]) {
      expect(parseRetryAfter(ignored, now), String(ignored).slice(0, 40)).toBeUndefined();
    }
  });

  it("a retryable answer's Retry-After reaches the DeliveryError; a final one's does not", async () => {
    const answers: Array<[number, Record<string, string>]> = [
      [429, { "retry-after": "7" }],
      [503, { "retry-after": new Date(Date.now() + 120_000).toUTCString() }],
      [503, { "retry-after": "later" }],
      [503, { "retry-after": "86400" }],
      [400, { "retry-after": "7" }],
    ];
    const receiver = await startReceiver((_r, i, res) => void res.writeHead(answers[i]![0], answers[i]![1]).end());
    open.push(receiver);
    const notifier = webhookNotifier({ url: receiver.url, secret });
    const errors = [];
    for (let i = 0; i < answers.length; i++) errors.push(await rejection(notifier.send([sent], attempt())));
    expect(errors.map((e) => [e.status, e.retryable])).toEqual([[429, true], [503, true], [503, true], [503, true], [400, false]]);
    expect(errors[0]!.retryAfterMs).toBe(7000);
    expect(errors[1]!.retryAfterMs).toBeGreaterThan(115_000);
    expect(errors[1]!.retryAfterMs).toBeLessThanOrEqual(120_000);
    expect(errors[2]!.retryAfterMs).toBeUndefined();
    expect(errors[3]!.retryAfterMs).toBe(3_600_000);
    expect(errors[4]!.retryAfterMs).toBeUndefined();
  });
});

describe("retry options", () => {
  it("take maxAgeMs up to 30 days and any number of attempts up to 100000", async () => {
    expect(() => webhookNotifier({ url: "https://hooks.example.com/in", secret, retry: { attempts: 100_000, maxAgeMs: 86_400_000 } })).not.toThrow();
    expect(() => webhookNotifier({ url: "https://hooks.example.com/in", secret, retry: { maxAgeMs: 30 * 86_400_000 } })).not.toThrow();
    expect(() => webhookNotifier({ url: "https://hooks.example.com/in", secret, retry: { maxAgeMs: 30 * 86_400_000 + 1 } })).toThrow(ValidationError);
    expect(() => slackNotifier({ webhookUrl: "https://hooks.example.com/in", retry: { maxAgeMs: 1.5 } })).toThrow(/retry\.maxAgeMs/);
    expect(() => webhookNotifier({ url: "https://hooks.example.com/in", secret, retry: { attempts: 100_001 } })).toThrow(/retry\.attempts/);
    const route = (retry: object) => ({ notifier: callbackNotifier(async () => undefined, { name: "cb", retry }) });
    expect(() => createIncidents({ routes: [route({ maxAgeMs: -1 })] })).toThrow(/routes\.0\.notifier\.retry\.maxAgeMs: .*maxAgeMs up to 30 days/);
    const incidents = createIncidents({ routes: [route({ attempts: 100_000, maxAgeMs: 86_400_000 })] });
    await incidents.close();
  });
});
