/**
 * `agent-incidents/opentelemetry`: a SpanProcessor that reads spans following the OpenTelemetry
 * GenAI semantic conventions, so any framework that emits them is covered without an adapter of
 * its own. An `execute_tool` span that ends in error is `executionFailed`; an `invoke_agent` span
 * that ends in error is `runEnded({ status: "errored" })`.
 *
 * @packageDocumentation
 * @module agent-incidents/opentelemetry
 */
import type { Reporter } from "../reporter.js";
import { Background, payloadOf, traceIds, type Adapter, type AdapterOptions } from "./background.js";

/** The members of an ended span (`ReadableSpan` of @opentelemetry/sdk-trace-base 1.x and 2.x) this reads. */
export interface EndedSpan {
  name: string;
  /** The parent (sdk-trace-base 2.x). */
  parentSpanContext?: { spanId: string } | undefined;
  /** The parent (sdk-trace-base 1.x). */
  parentSpanId?: string | undefined;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string | undefined };
  /** The span's trace and span ids. */
  spanContext(): { traceId: string; spanId: string };
  events?: ReadonlyArray<{ name: string; attributes?: Record<string, unknown> | undefined }>;
}

/** Options of {@link incidentSpanProcessor}: how a span's run id is chosen, and where report failures go. */
export interface IncidentSpanProcessorOptions extends AdapterOptions {
  /** The run id of a span: default `gen_ai.conversation.id`, else the trace id. */
  runId?: (span: EndedSpan) => string | undefined;
}

/** A `SpanProcessor`: add it to your tracer provider (`spanProcessors: [processor]`). */
export interface IncidentSpanProcessor extends Adapter {
  /** Called by the tracer when a span starts: notes its conversation id, if any, for the tool spans under it. */
  onStart(span: unknown, parentContext: unknown): void;
  /** Called by the tracer when a span ends: a failed `execute_tool` or `invoke_agent` span is reported in the background. */
  onEnd(span: EndedSpan): void;
  /** Resolves when every report started so far has settled. */
  forceFlush(): Promise<void>;
  /** Resolves when every report started so far has settled; the processor keeps no other resources. */
  shutdown(): Promise<void>;
}

const ERROR = 2; // SpanStatusCode.ERROR

/**
 * A span processor that reports failed tool calls and failed agent invocations, read from spans that
 * follow the OpenTelemetry GenAI semantic conventions, through `reporter`.
 */
export function incidentSpanProcessor(reporter: Reporter, options: IncidentSpanProcessorOptions = {}): IncidentSpanProcessor {
  const background = new Background(reporter, options.onError);
  // a tool span seldom carries the conversation id; an agent span above it does. Each span's
  // conversation (its own, else its parent's) is noted when it starts, by span id, so concurrent
  // and nested agents in one trace keep theirs; the last 10,000 spans are remembered.
  const conversations = new Map<string, string>();
  const parentOf = (span: EndedSpan) => span.parentSpanContext?.spanId ?? span.parentSpanId;
  const conversationOf = (span: EndedSpan) => {
    const own = stringAttr(span, "gen_ai.conversation.id");
    if (own) return own;
    const parent = parentOf(span);
    return parent ? conversations.get(parent) : undefined;
  };
  const runOf = (span: EndedSpan) => options.runId?.(span) ?? conversationOf(span) ?? span.spanContext().traceId;

  return {
    onStart(span) {
      try {
        const started = span as EndedSpan;
        const conversation = started.attributes ? conversationOf(started) : undefined;
        if (!conversation) return;
        if (conversations.size >= 10_000) conversations.delete(conversations.keys().next().value!);
        conversations.set(started.spanContext().spanId, conversation);
      } catch (error) {
        background.fail(error);
      }
    },
    onEnd(span) {
      if (span.status.code !== ERROR) return;
      const operation = stringAttr(span, "gen_ai.operation.name");
      if (operation !== "execute_tool" && operation !== "invoke_agent") return;
      const { traceId, spanId } = span.spanContext();
      const ids = traceIds(traceId, spanId);
      const exception = span.events?.find((e) => e.name === "exception")?.attributes ?? {};
      const error = {
        name: stringAttr(span, "error.type") ?? (typeof exception["exception.type"] === "string" ? exception["exception.type"] : "Error"),
        message: span.status.message || (typeof exception["exception.message"] === "string" ? exception["exception.message"] : "") || "failed",
      };
      if (operation === "execute_tool") {
        const tool = stringAttr(span, "gen_ai.tool.name") ?? span.name;
        const callId = stringAttr(span, "gen_ai.tool.call.id");
        background.run((r) => {
          const payload = payloadOf(span.attributes["gen_ai.tool.call.arguments"]);
          return r.executionFailed({
            runId: runOf(span),
            // the tool call's id within its trace: the same call ended twice (a retried export) is
            // one occurrence, a call id a framework reuses in a later turn is another
            eventId: callId ? `${traceId}:${callId}` : spanId,
            action: { type: tool, ...(payload ? { payload } : {}) },
            connector: { id: tool, provider: stringAttr(span, "gen_ai.provider.name") ?? stringAttr(span, "gen_ai.system") ?? "tool" },
            error: { name: error.name, message: error.message },
            ...ids,
          });
        });
      } else {
        background.run((r) => r.runEnded({ runId: runOf(span), status: "errored", error, eventId: `run.ended:${spanId}`, ...ids }));
      }
    },
    forceFlush: () => background.flush(),
    shutdown: () => background.flush(),
    flush: () => background.flush(),
  };
}

function stringAttr(span: EndedSpan, key: string): string | undefined {
  const value = span.attributes[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

export type { Adapter, AdapterOptions } from "./background.js";
