/**
 * `agent-incidents/openai-agents`: the OpenAI Agents SDK's runs as incidents, through its tracing.
 * Add `adapter.processor` with `addTraceProcessor` (tracing must be on: the SDK turns it off when
 * NODE_ENV is `test`; `setTracingDisabled(false)` turns it back on). Then:
 *
 * - a tool span that ends in error is `executionFailed` (the tool, its arguments, the error);
 * - a guardrail span that tripped is `policyBlocked` (the guardrail's name);
 * - a tool call an approver rejected is `approvalRejected`: call `adapter.reject(state, item,
 *   { decidedBy, reason })` instead of `state.reject(item)` to record who decided;
 * - the run's root span ending in error (max turns, a model error, a thrown exception) is
 *   `runEnded({ status: "errored" })`.
 *
 * The run id is the trace id; event ids are span or tool call ids, so a span reported twice is one
 * occurrence. The incident's `traceId` is the trace's W3C id.
 *
 * @packageDocumentation
 * @module agent-incidents/openai-agents
 */
import type { Reporter } from "../reporter.js";
import { Background, payloadOf, traceIds, type Adapter, type AdapterOptions } from "./background.js";

/** The members of an Agents SDK span this reads. */
export interface AgentsSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentId: string | null;
  readonly spanData: { type: string; name?: string; input?: unknown; triggered?: boolean };
  readonly error: { message: string; data?: Record<string, unknown> } | null;
}

/** A `TracingProcessor` of the Agents SDK. */
export interface AgentsTraceProcessor {
  /** Called by the SDK when a trace starts; the adapter's processor ignores it. */
  onTraceStart(trace: unknown): Promise<void>;
  /** Called by the SDK when a trace ends; the adapter's processor ignores it. */
  onTraceEnd(trace: unknown): Promise<void>;
  /** Called by the SDK when a span starts; the adapter's processor ignores it (a span is judged when it ends). */
  onSpanStart(span: unknown): Promise<void>;
  /**
   * Called by the SDK when a span ends: the adapter's processor reports a failed tool call, a tripped
   * guardrail, a rejected approval or an errored run in the background, and never rejects.
   */
  onSpanEnd(span: AgentsSpan): Promise<void>;
  /** Called by the SDK on shutdown; resolves when every report started so far has settled. */
  shutdown(timeout?: number): Promise<void>;
  /** Called by the SDK to flush; resolves when every report started so far has settled. */
  forceFlush(): Promise<void>;
}

/** A tool approval the run is waiting on (`result.interruptions[i]`). */
export interface AgentsApprovalItem {
  name?: string | undefined;
  arguments?: string | undefined;
  rawItem?: { callId?: string; name?: string; arguments?: string } | unknown;
}

/** What {@link openAIAgentsIncidents} returns: a trace processor to add, and `reject` to record who rejected an approval. */
export interface OpenAIAgentsAdapter extends Adapter {
  /** The processor to add with `addTraceProcessor`. */
  readonly processor: AgentsTraceProcessor;
  /**
   * Rejects a pending approval (`state.reject(item, { message: reason })`) and reports who did.
   * `runId` is the run's trace id (`result.state` keeps it; pass it when you set `traceId`).
   */
  reject(
    state: { reject(item: never, options?: { message?: string }): void },
    item: AgentsApprovalItem,
    decision: { decidedBy: string; reason?: string; runId?: string },
  ): void;
}

const REJECTED = /Tool execution for (\S+) was manually rejected/;
const GUARDRAIL = /GuardrailTripwireTriggered/;

/**
 * Reports an OpenAI Agents SDK app's failed tool calls, tripped guardrails, rejected approvals and
 * errored runs through `reporter`. See the module's header for the wiring.
 */
export function openAIAgentsIncidents(reporter: Reporter, options: AdapterOptions = {}): OpenAIAgentsAdapter {
  const background = new Background(reporter, options.onError);
  const w3c = (traceId: string) => traceIds(traceId.startsWith("trace_") ? traceId.slice(6) : undefined);

  const onSpanEnd = async (span: AgentsSpan): Promise<void> => {
    const data = span.spanData;
    const runId = span.traceId;
    if (!runId || runId === "no-op") return; // tracing is off: nothing to link to
    const ids = w3c(runId);
    if (data.type === "guardrail" && data.triggered) {
      const name = data.name ?? "guardrail";
      background.run((r) =>
        r.policyBlocked({
          runId,
          eventId: span.spanId,
          action: { type: "agent.run" },
          policy: { id: name, name, effect: "block", reason: `guardrail ${name} tripped` },
          ...ids,
        }),
      );
      return;
    }
    const error = span.error;
    if (!error) return;
    if (data.type === "function") {
      const tool = data.name ?? "tool";
      const input = data.input;
      const actionOf = () => {
        const payload = payloadOf(input);
        return { type: tool, ...(payload ? { payload } : {}) };
      };
      const detail = spanErrorText(error);
      const rejected = REJECTED.exec(detail);
      if (rejected) {
        // the same call id as reject(): one incident, whichever reports first
        background.run((r) => r.approvalRejected({ runId, eventId: rejected[1]!, action: actionOf(), approval: { id: rejected[1]!, decidedBy: "unknown" }, ...ids }));
        return;
      }
      const failure = splitError(detail);
      if (GUARDRAIL.test(failure.name) || GUARDRAIL.test(detail)) {
        // a tool guardrail that threw: a policy blocked the call
        background.run((r) =>
          r.policyBlocked({
            runId,
            eventId: span.spanId,
            action: actionOf(),
            policy: { id: `tool_guardrail:${tool}`, name: `tool guardrail on ${tool}`, effect: "block", reason: failure.message },
            ...ids,
          }),
        );
        return;
      }
      background.run((r) =>
        r.executionFailed({
          runId,
          eventId: span.spanId,
          action: actionOf(),
          connector: { id: tool, provider: "openai-agents" },
          error: { name: failure.name, message: failure.message || "tool failed" },
          ...ids,
        }),
      );
      return;
    }
    if (data.type === "task" && span.parentId === null) {
      const detail = spanErrorText(error);
      const { name, message } = splitError(detail);
      // a tripped guardrail ends the run too: its policyBlocked incident already says so
      if (GUARDRAIL.test(name) || GUARDRAIL.test(detail)) return;
      // one incident per failed run, also when several runs share a trace (withTrace)
      background.run((r) => r.runEnded({ runId, status: "errored", error: { name, message }, eventId: `run.ended:${span.spanId}`, ...ids }));
    }
  };

  return {
    processor: {
      onTraceStart: async () => undefined,
      onTraceEnd: async () => undefined,
      onSpanStart: async () => undefined,
      onSpanEnd: async (span) => {
        try {
          await onSpanEnd(span);
        } catch (error) {
          background.fail(error); // a span this does not understand must not break tracing
        }
      },
      shutdown: () => background.flush(),
      forceFlush: () => background.flush(),
    },
    reject(state, item, decision) {
      state.reject(item as never, decision.reason === undefined ? undefined : { message: decision.reason });
      const raw = (item.rawItem ?? {}) as { callId?: string; name?: string; arguments?: string };
      const callId = raw.callId;
      const runId = decision.runId ?? currentRunId(state);
      if (!callId || !runId) return;
      const args = item.arguments ?? raw.arguments;
      background.run((r) => {
        const payload = payloadOf(args);
        return r.approvalRejected({
          runId,
          eventId: callId,
          action: { type: item.name ?? raw.name ?? "tool", ...(payload ? { payload } : {}) },
          approval: { id: callId, decidedBy: decision.decidedBy, ...(decision.reason ? { reason: decision.reason } : {}) },
          ...w3c(runId),
        });
      });
    },
    flush: () => background.flush(),
  };
}

/** What a span says went wrong: the error it wraps when there is one, else its own message. */
function spanErrorText(error: { message: string; data?: Record<string, unknown> }): string {
  return typeof error.data?.["error"] === "string" ? error.data["error"] : String(error.message ?? "");
}

/** "Error: MaxTurnsExceededError: Max turns (2) exceeded", as spans keep errors, back into a name and a message. */
function splitError(text: string): { name: string; message: string } {
  const found = /^(?:Error: )?([A-Z][\w$]*): ([\s\S]*)$/.exec(text);
  if (found) return { name: found[1]!, message: found[2]! || text };
  // with traceIncludeSensitiveData off, a span keeps only the error's class name
  if (/^[A-Z][\w$]*$/.test(text)) return { name: text, message: text };
  return { name: "Error", message: text.replace(/^Error: /, "") || "failed" };
}

/** The trace id a `RunState` keeps (`state._trace.traceId`); undefined when tracing was off. */
function currentRunId(state: unknown): string | undefined {
  const id = (state as { _trace?: { traceId?: unknown } })._trace?.traceId;
  return typeof id === "string" && id !== "no-op" ? id : undefined;
}

export type { Adapter, AdapterOptions } from "./background.js";
