import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { parseOrThrow } from "../core/schemas.js";
import { defineNotifier, type Notification, type Notifier } from "./contract.js";
import { describeUrl, hasCredentials, HttpNotifierOptions, NO_CREDENTIALS, postJson, type HttpNotifierBaseOptions } from "./http.js";

/** Options of {@link webhookNotifier}: where to POST, the signing secret, and the HTTP settings every notifier shares. */
export interface WebhookNotifierOptions extends HttpNotifierBaseOptions {
  /** Where to POST each notification (http or https). */
  url: string;
  /** A Standard Webhooks secret: `whsec_` and base64 bytes. */
  secret: string;
  /** Default: `webhook:<origin><path>`. */
  name?: string;
}

const OptionsSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:/.test(u), "must be an http or https URL")
      .refine((u) => !hasCredentials(u), NO_CREDENTIALS),
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{22,}={0,2}$/, "must be a Standard Webhooks secret: whsec_ followed by base64 (at least 16 bytes)")
      .refine((secret) => secretBytes(secret).length >= 16, "must hold at least 16 bytes"),
    ...HttpNotifierOptions,
  })
  .strict();

/**
 * Sends each notification as a Standard Webhooks request: the JSON body, `webhook-id` (the
 * delivery id, the same on every retry), `webhook-timestamp` (seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`). 408, 429 and 5xx are retried; other 4xx are
 * not. Receivers check requests with {@link verifyWebhook}.
 */
export function webhookNotifier(options: WebhookNotifierOptions): Notifier {
  const o = parseOrThrow(OptionsSchema, options, "webhookNotifier options");
  const key = secretBytes(o.secret);
  return defineNotifier({
    name: o.name ?? `webhook:${describeUrl(o.url)}`,
    timeoutMs: o.timeoutMs,
    retry: o.retry,
    async send(batch, { signal }) {
      for (const notification of batch) {
        const body = JSON.stringify(notification);
        const timestamp = String(Math.floor(Date.now() / 1000));
        await postJson(o.url, body, {
          "webhook-id": notification.id,
          "webhook-timestamp": timestamp,
          "webhook-signature": `v1,${sign(key, notification.id, timestamp, body)}`,
          "user-agent": "agent-incidents",
        }, signal);
      }
    },
  });
}

/** Why a webhook request was refused by {@link verifyWebhook}. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/**
 * Checks a Standard Webhooks request and returns its notification. Throws a
 * `WebhookVerificationError` when a header is missing, the timestamp is more than `toleranceS`
 * (default 300) seconds away from now, or no `v1` signature matches the raw body.
 *
 * @example
 * ```ts
 * const notification = verifyWebhook(process.env["WEBHOOK_SECRET"] ?? "", rawBody, request.headers);
 * if (seen.has(notification.id)) return; // at-least-once: dedupe on the delivery id
 * ```
 */
export function verifyWebhook(
  secret: string,
  body: string,
  headers: Headers | Record<string, string | string[] | undefined>,
  options: { toleranceS?: number; now?: Date } = {},
): Notification {
  if (typeof secret !== "string" || !secret.startsWith("whsec_") || secretBytes(secret).length < 16) {
    throw new WebhookVerificationError("the secret must be the whsec_… string the webhookNotifier was given (at least 16 bytes)");
  }
  if (typeof body !== "string") throw new WebhookVerificationError("the body must be the raw request body, as a string");
  const tolerance = options.toleranceS ?? 300;
  const nowMs = (options.now ?? new Date()).getTime();
  if (!Number.isFinite(tolerance) || tolerance < 0 || !Number.isFinite(nowMs)) throw new WebhookVerificationError("toleranceS and now must be finite");
  // header names are case-insensitive, whatever the framework hands over
  const lower = headers instanceof Headers ? null : new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const header = (name: string): string => {
    const value = headers instanceof Headers ? headers.get(name) : lower!.get(name);
    const text = Array.isArray(value) ? value[0] : value;
    if (!text) throw new WebhookVerificationError(`missing ${name} header`);
    return text;
  };
  const id = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  const sent = Number(timestamp);
  const now = Math.floor(nowMs / 1000);
  if (!/^\d{1,15}$/.test(timestamp) || Math.abs(now - sent) > tolerance) {
    throw new WebhookVerificationError("webhook-timestamp is too old or too new: a replay, or a clock out of step");
  }
  const expected = Buffer.from(sign(secretBytes(secret), id, timestamp, body), "base64");
  const matches = signatures.split(" ").some((candidate) => {
    const [version, signature] = candidate.split(",");
    if (version !== "v1" || !signature || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError("no webhook-signature matches the body");
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError("the body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new WebhookVerificationError("the body is not a notification object");
  return parsed as Notification;
}

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

function sign(key: Buffer, id: string, timestamp: string, body: string): string {
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
}
