import { z } from "zod";
import type { Incident } from "../core/incident.js";
import { DeliveryError, type RetryPolicy } from "./contract.js";

/** A notifier's retry policy as options take it: any of its fields. */
export const RetryOptionsSchema = z
  .object({
    attempts: z.number().int().min(1).max(100_000),
    minDelayMs: z.number().int().min(0).max(86_400_000),
    maxDelayMs: z.number().int().min(0).max(86_400_000),
    maxAgeMs: z.number().int().min(0).max(30 * 86_400_000),
  })
  .partial()
  .strict();

/** What every HTTP notifier's options share besides the target. */
export interface HttpNotifierBaseOptions {
  /** Per-attempt timeout (default 10 000 ms). */
  timeoutMs?: number;
  /**
   * Tries and backoff. The default keeps trying for 24 h (`maxAgeMs: 86_400_000`) with backoff
   * from 1 s up to 5 min and no attempt limit; a receiver that is down is probed one delivery at
   * a time.
   */
  retry?: Partial<RetryPolicy>;
  /** Unique among the routes; a default is made from the kind and the target. */
  name?: string;
}

/** Options every HTTP notifier takes besides its target. */
export const HttpNotifierOptions = {
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
  retry: RetryOptionsSchema.optional(),
  name: z.string().min(1).max(200).optional(),
};

/** A `linkTo(incident)` option. */
export const LinkToSchema = z.custom<(incident: Incident) => string>((f) => typeof f === "function", { message: "must be a function" });

/** Statuses worth another try: a timeout, rate limiting, and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * POSTs a JSON body. The status decides: 2xx resolves at once, anything else rejects with a
 * `DeliveryError` that says whether a retry can help (`retryable` decides per status; network
 * failures always can) and carries the receiver's `Retry-After`. The response body is never
 * read: a slow body must not hold up an accepted delivery, and a body that echoes the request
 * could carry the URL's secret into stored errors. `label` names the target in messages
 * (default: {@link describeUrl}).
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  retryable: (status: number) => boolean = isRetryableStatus,
  label: string = describeUrl(url),
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers }, signal, redirect: "error" });
  } catch (error) {
    const raw = reason(error);
    const said = scrubUrl(raw, url, label);
    // a cause that quoted the URL would hand it on to whoever logs the error
    throw new DeliveryError(`POST ${label} failed: ${said.slice(0, 300)}`, { retryable: true, cause: said === raw ? error : undefined });
  }
  response.body?.cancel().catch(() => undefined);
  if (response.ok) return;
  const status = response.status;
  const again = retryable(status);
  const retryAfterMs = again ? parseRetryAfter(response.headers.get("retry-after"), Date.now()) : undefined;
  throw new DeliveryError(`POST ${label} answered ${status}`, { retryable: again, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
}

/** The longest wait a receiver's `Retry-After` can impose: 1 hour. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

const IMF_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * A `Retry-After` header in ms from `nowMs`: delta-seconds or an HTTP-date, at most
 * {@link MAX_RETRY_AFTER_MS}. Undefined for no header, garbage, negative values and past dates.
 * Pure.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.length > 64) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  let date = Number.NaN;
  if (IMF_DATE.test(text) || RFC850_DATE.test(text)) date = Date.parse(text);
  // asctime carries no zone; HTTP says it is GMT
  else if (ASCTIME_DATE.test(text)) date = Date.parse(`${text} GMT`);
  if (!Number.isFinite(date) || !Number.isFinite(nowMs) || date <= nowMs) return undefined;
  return Math.min(date - nowMs, MAX_RETRY_AFTER_MS);
}

/** Whether a URL names a user or password (`https://user:pass@host/`). */
export function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== "" || parsed.password !== "";
  } catch {
    return false;
  }
}

/** The refusal every notifier URL option shares; the message never repeats the URL. */
export const NO_CREDENTIALS = "must not contain credentials (user@ or user:password@): they would be sent with every request and could end up in logs; put a secret in a header or the path instead";

/** A URL as it may appear in names and messages: origin and path, never its query or credentials. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.slice(0, 150);
  } catch {
    return "(invalid URL)";
  }
}

function reason(error: unknown): string {
  // fetch says only "fetch failed": the network's own code is in its cause (or in the causes of
  // an AggregateError, one per address tried)
  const cause = (error as { cause?: { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown }> } } | null)?.cause;
  if (cause && typeof cause.code === "string") return cause.code;
  const first = cause?.errors?.find((e) => typeof e?.code === "string");
  if (first) return String(first.code);
  if (cause && typeof cause.message === "string" && cause.message) return cause.message;
  if (error instanceof Error && error.name === "AbortError") return "aborted (timeout)";
  return error instanceof Error ? error.message : String(error);
}

/** `text` without the URL: any URL in it becomes `label`; its query and path never show alone. */
function scrubUrl(text: string, url: string, label: string): string {
  let search = "";
  let pathname = "";
  try {
    ({ search, pathname } = new URL(url));
  } catch {
    // not a URL: only the string itself can be quoted
  }
  const pieces = text.split(url).flatMap((piece) => piece.split(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/i));
  const scrubbed = pieces.map((piece) => {
    let out = piece;
    if (search.length > 1) out = out.split(search).join("");
    if (pathname.length > 1) out = out.split(pathname).join("/…");
    return out;
  });
  return scrubbed.join(label);
}
