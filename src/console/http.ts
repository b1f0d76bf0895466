/**
 * The console's HTTP plumbing: which POSTs are let in (same origin, JSON), reading a bounded JSON
 * body, typed errors as statuses, and the headers every response carries.
 */
import { IncidentError, ValidationError } from "../core/errors.js";

/** A body larger than this is refused before it is read whole. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A state-changing request must come from the console's own origin: a cross-site form or fetch
 * is refused before anything is read. Browsers send `Sec-Fetch-Site`; older ones send `Origin`.
 */
export function crossSite(request: Request, url: URL): string | null {
  // Sec-Fetch-Site, which pages cannot set, decides when the browser sends it: behind a proxy
  // that terminates TLS, Origin (https://...) differs from the URL the handler sees (http://...)
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  if (site !== null) {
    if (site !== "same-origin") return `Cross-site request refused (Sec-Fetch-Site: ${site})`;
  } else if (origin === null) {
    return "Refused: a state-changing request must say where it comes from (Origin)";
  } else if (origin !== url.origin) {
    return "Cross-site request refused (Origin does not match)";
  }
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) return "Refused: a state-changing request must send JSON (Content-Type: application/json)";
  return null;
}

export async function body(request: Request): Promise<unknown> {
  const tooBig = () => new ValidationError("request body", [{ path: [], message: `must be at most ${MAX_BODY_BYTES} bytes`, code: "too_big" }]);
  if (Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES) throw tooBig();
  // read in pieces and stop at the limit: a chunked body has no length to check first
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw tooBig();
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError("request body", [{ path: [], message: "must be JSON", code: "invalid_type" }]);
  }
}

/** A path segment as text; bad percent-encoding names nothing, so it is not found. */
export function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return "\u0000"; // refused by every id check: a 400, never a lookup
  }
}

/** Only http(s) links reach the page: a `javascript:` URL from a host callback would run on click. */
export function safeLink(link: string | null | undefined): string | null {
  if (typeof link !== "string") return null;
  try {
    const url = new URL(link, "http://relative.invalid");
    return url.protocol === "http:" || url.protocol === "https:" ? link : null;
  } catch {
    return null;
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_TRANSITION: 409,
  STORAGE: 503,
  CLOSED: 503,
  CALLBACK: 500,
};

export function errorResponse(error: unknown): Response {
  if (error instanceof IncidentError) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    // storage and callback failures keep their details in the host's logs, not in the page
    const message = status >= 500 ? "The incident store is unavailable; try again" : error.message;
    return json(status, { error: { code: error.code, message } });
  }
  return json(500, { error: { code: "INTERNAL", message: "Something went wrong" } });
}

export function securityHeaders(): Record<string, string> {
  return { "x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY", "cache-control": "no-store" };
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json; charset=utf-8", ...securityHeaders(), ...headers } });
}
