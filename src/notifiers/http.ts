import { z } from "zod";
import type { Incident } from "../core/incident.js";
import { DeliveryError, type RetryPolicy } from "./contract.js";

/** A notifier's retry policy as options take it: any of its three fields. */
export const RetryOptionsSchema = z
  .object({
    attempts: z.number().int().min(1).max(100),
    minDelayMs: z.number().int().min(0).max(86_400_000),
    maxDelayMs: z.number().int().min(0).max(86_400_000),
  })
  .partial()
  .strict();

/** What every HTTP notifier's options share besides the target. */
export interface HttpNotifierBaseOptions {
  /** Per-attempt timeout (default 10 000 ms). */
  timeoutMs?: number;
  /** Tries and backoff (default 5 tries, from 1 s up to 60 s). */
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
 * POSTs a JSON body. Resolves on 2xx; otherwise rejects with a `DeliveryError` that says whether
 * a retry can help (`retryable` decides per status; network failures always can).
 */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  retryable: (status: number) => boolean = isRetryableStatus,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers }, signal, redirect: "error" });
  } catch (error) {
    throw new DeliveryError(`POST ${describeUrl(url)} failed: ${reason(error)}`, { retryable: true, cause: error });
  }
  // only the start of the answer is read, however large it is; the rest is discarded
  const text = await head(response, 2048).catch(() => "");
  if (response.ok) return;
  throw new DeliveryError(`POST ${describeUrl(url)} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`, {
    retryable: retryable(response.status),
    status: response.status,
  });
}

/** The first `max` bytes of a response body as text; the rest of the stream is cancelled. */
async function head(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString("utf8");
}

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
