/**
 * What every framework adapter shares: reports run in the background, so a hook returns at once
 * and the framework's run never waits for, or fails because of, a report.
 */
import type { Reporter } from "../reporter.js";

/** Options every framework adapter takes. */
export interface AdapterOptions {
  /**
   * Called when a report fails (invalid input, a store error the spool does not keep, a full
   * spool). Default: `console.error`. A report kept in the spool while the store is away is no
   * failure: it resolves `"spooled"` and is written later. The run goes on either way; an
   * `onError` that throws is ignored.
   */
  onError?: (error: unknown) => void;
}

/** The part of every adapter a host uses after wiring it in. */
export interface Adapter {
  /**
   * Resolves when every report started so far has settled: written, kept in the spool, or failed
   * (for tests and shutdown). Never rejects. Spooled reports are written when the store answers;
   * `incidents.close()` waits for them, within its deadline.
   */
  flush(): Promise<void>;
}

export class Background {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    readonly reporter: Reporter,
    private readonly onError: (error: unknown) => void = (error) => console.error("agent-incidents: a framework report failed:", error),
  ) {}

  /** Hands a failure to `onError`; an `onError` that throws is ignored. */
  fail(error: unknown): void {
    try {
      this.onError(error);
    } catch {
      // an onError that throws must not become an unhandled rejection in the host
    }
  }

  /**
   * Starts `report` after the current microtask: building it (reading the framework's objects,
   * parsing arguments, calling the host's callbacks) happens there too, so a hook returns at once
   * and whatever throws reaches `onError`.
   */
  run(report: (reporter: Reporter) => Promise<unknown>): void {
    const done = Promise.resolve()
      .then(() => report(this.reporter))
      .catch((error: unknown) => this.fail(error));
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

/** The error as a signal carries it: a name and a message, whatever was thrown. */
export function errorInfo(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name || "Error", message: error.message || String(error) };
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return { name: "Error", message: (error as { message: string }).message || "unknown error" };
  }
  return { name: "Error", message: String(error) || "unknown error" };
}

/** A failed tool call's error as a connector error: name, message, and the error's string `code` if it has one. */
export function failureOf(error: unknown): { name: string; message: string; code?: string } {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return { ...errorInfo(error), ...(typeof code === "string" ? { code } : {}) };
}

/** The host's own cancellation (an AbortError), which is no failure of the run. */
export function isAbort(error: unknown): boolean {
  return ["AbortError", "Abort"].includes(String((error as { name?: unknown } | null | undefined)?.name));
}

/** Tool arguments as an action payload: a JSON object, or the raw text under `input`. */
export function payloadOf(args: unknown): Record<string, unknown> | undefined {
  let value = args;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return value === "" ? undefined : { input: value };
    }
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { input: value };
}

const W3C_TRACE = /^[0-9a-f]{32}$/;
const W3C_SPAN = /^[0-9a-f]{16}$/;
/** Trace and span ids that are W3C ids; anything else (a "no-op" placeholder, all zeros) is left out. */
export function traceIds(traceId: string | undefined, spanId?: string | undefined): { traceId?: string; spanId?: string } {
  const ids: { traceId?: string; spanId?: string } = {};
  if (traceId && W3C_TRACE.test(traceId) && !/^0+$/.test(traceId)) ids.traceId = traceId;
  if (ids.traceId && spanId && W3C_SPAN.test(spanId) && !/^0+$/.test(spanId)) ids.spanId = spanId;
  return ids;
}

const OTEL_API = Symbol.for("opentelemetry.js.api.1");
const OTEL_SPAN = Symbol.for("OpenTelemetry Context Key SPAN");
/**
 * The active OpenTelemetry span's ids, read from the API's global registration (no dependency on
 * @opentelemetry/api): undefined when OpenTelemetry is not set up or no span is active.
 */
export function activeOtelSpan(): { traceId?: string; spanId?: string } | undefined {
  try {
    const api = (globalThis as Record<symbol, { context?: { active(): { getValue(key: symbol): unknown } } } | undefined>)[OTEL_API];
    const span = api?.context?.active().getValue(OTEL_SPAN) as { spanContext?: () => { traceId: string; spanId: string } } | undefined;
    const ids = span?.spanContext?.();
    return ids ? { traceId: ids.traceId, spanId: ids.spanId } : undefined;
  } catch {
    return undefined;
  }
}

/** The W3C ids a report links to: from the host's `trace` option, else the active OpenTelemetry span. */
export function currentTrace(trace: (() => { traceId?: string; spanId?: string } | undefined) | undefined): { traceId?: string; spanId?: string } {
  const t = trace ? trace() : activeOtelSpan();
  return traceIds(t?.traceId, t?.spanId);
}
