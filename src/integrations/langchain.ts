/**
 * `agent-incidents/langchain`: LangChain.js and LangGraph runs as incidents.
 *
 * - `adapter.handler` is a callback handler (`callbacks: [adapter.handler]`): a tool that throws is
 *   `executionFailed`; the root run failing (a model error, the recursion limit) is
 *   `runEnded({ status: "errored" })`. A LangGraph interrupt is not an error.
 * - LangChain fires no tool callbacks for calls a middleware blocks or a human rejects, so:
 *   `adapter.policy(langchain, check)` is a middleware that asks your policy before each tool call
 *   and reports `policyBlocked`; `adapter.observeApprovals(humanInTheLoopMiddleware(...))` wraps
 *   the human-in-the-loop middleware and reports each rejection as `approvalRejected`.
 *
 * The run id is the thread id (`configurable.thread_id`), which a run resumed after an approval
 * keeps, else the root run id; event ids are tool call ids.
 *
 * @packageDocumentation
 * @module agent-incidents/langchain
 */
import type { Reporter } from "../reporter.js";
import { Background, currentTrace, errorInfo, failureOf, isAbort, payloadOf, type Adapter, type AdapterOptions } from "./background.js";

/** Options of {@link langChainIncidents}: where trace ids come from, and where report failures go. */
export interface LangChainAdapterOptions extends AdapterOptions {
  /** The trace of a report, for the incident's `traceId`/`spanId`. Default: the active OpenTelemetry span, if any. */
  trace?: () => { traceId?: string; spanId?: string } | undefined;
}

/** What a blocked tool call gets back: `null` lets it run. */
export type LangChainPolicyCheck = (
  tool: string,
  args: unknown,
) => { policy: { id: string; name: string }; reason?: string } | null | undefined | Promise<{ policy: { id: string; name: string }; reason?: string } | null | undefined>;

/** The two things of `langchain` the policy middleware needs, passed in so this module never imports it. */
export interface LangChainKit<T> {
  /** LangChain's own generics would tie this module to its version: any createMiddleware fits. */
  createMiddleware: (config: never) => T;
  ToolMessage: new (fields: { content: string; tool_call_id: string; name: string; status: "error" }) => unknown;
}


/** The callback methods LangChain calls (a plain handler object is accepted in `callbacks`). */
export interface LangChainHandler {
  /** The handler's name in LangChain: `agent-incidents`. */
  name: string;
  /** `true`: LangChain awaits the methods, which only note a run or start a background report. */
  awaitHandlers: boolean;
  /** Notes a run and the run id it reports under: the thread id, else the root run's id. */
  handleChainStart(chain: unknown, inputs: unknown, runId: string, parentRunId?: string, tags?: string[], metadata?: Record<string, unknown>): void;
  /** Forgets a run that finished. */
  handleChainEnd(outputs: unknown, runId: string): void;
  /** Reports the root run's failure as `runEnded({ status: "errored" })`; an interrupt or an abort is no failure. */
  handleChainError(error: unknown, runId: string, parentRunId?: string): void;
  /** Notes a tool call (its tool, input and call id) for an error that may follow. */
  handleToolStart(tool: unknown, input: string, runId: string, parentRunId?: string, tags?: string[], metadata?: Record<string, unknown>, runName?: string, toolCallId?: string): void;
  /** Forgets a tool call that succeeded. */
  handleToolEnd(output: unknown, runId: string): void;
  /** Reports a tool that threw as `executionFailed`; an interrupt or an abort is no failure. */
  handleToolError(error: unknown, runId: string, parentRunId?: string): void;
}

/** What {@link langChainIncidents} returns: a callback handler, a policy middleware and an approvals observer. */
export interface LangChainAdapter extends Adapter {
  /** The callback handler to pass in `callbacks`. */
  readonly handler: LangChainHandler;
  /** A middleware (`createAgent({ middleware: [...] })`): pass `{ createMiddleware, ToolMessage }` from `langchain`. */
  policy<T>(langchain: LangChainKit<T>, check: LangChainPolicyCheck): T;
  /** Wraps `humanInTheLoopMiddleware(...)`: the same middleware, reporting each rejection. */
  observeApprovals<M>(middleware: M, options?: { decidedBy?: (threadId: string | undefined) => string }): M;
}

/** Runs in flight the handler keeps at most: the oldest go first. */
const MAX_RUNS = 10_000;
/** LangChain's abort is an Error whose message is "Abort". */
const aborted = (error: unknown) => isAbort(error) || (error as { message?: unknown } | null | undefined)?.message === "Abort";
const isInterrupt = (error: unknown) => (error as { name?: unknown })?.name === "GraphInterrupt" || (error as { name?: unknown })?.name === "NodeInterrupt";

/**
 * Reports a LangChain.js or LangGraph app's failed tool calls, failed runs, policy-blocked calls and
 * rejected approvals through `reporter`. See the module's header for the wiring.
 */
export function langChainIncidents(reporter: Reporter, options: LangChainAdapterOptions = {}): LangChainAdapter {
  const background = new Background(reporter, options.onError);
  const ids = () => currentTrace(options.trace);
  // runs in flight, each with its run id (the thread, else its root run) inherited from its parent
  // when it starts: nothing walks a tree later. Entries go when their run ends; a bounded map
  // drops the oldest of runs that never end (a stream the host stopped reading).
  type Run = { run: string; tool?: { name: string; input: string; callId?: string | undefined } };
  const runs = new Map<string, Run>();
  const remember = (id: string, entry: Run) => {
    if (runs.size >= MAX_RUNS) runs.delete(runs.keys().next().value!);
    runs.set(id, entry);
  };
  /** The `thread_id` of callback metadata or of a middleware's `configurable`. */
  const threadOf = (values: Record<string, unknown> | undefined) =>
    typeof values?.["thread_id"] === "string" && values["thread_id"] !== "" ? (values["thread_id"] as string) : undefined;
  const runIdFor = (runId: string, parentRunId: string | undefined, metadata: Record<string, unknown> | undefined) =>
    threadOf(metadata) ?? (parentRunId ? runs.get(parentRunId)?.run : undefined) ?? parentRunId ?? runId;

  const handler: LangChainHandler = {
    name: "agent-incidents",
    // awaited, not queued: the methods only note a run or start a background report, so LangChain
    // waits for no more than that, and skips the queue it keeps for slow handlers
    awaitHandlers: true,
    handleChainStart(_chain, _inputs, runId, parentRunId, _tags, metadata) {
      remember(runId, { run: runIdFor(runId, parentRunId, metadata) });
    },
    handleChainEnd(_outputs, runId) {
      runs.delete(runId);
    },
    handleChainError(error, runId, parentRunId) {
      const run = runs.get(runId)?.run ?? runId;
      runs.delete(runId);
      // only the root run's failure ends the run; an interrupt or the host's own abort is no failure
      if (parentRunId || isInterrupt(error) || aborted(error)) return;
      background.run((r) => r.runEnded({ runId: run, status: "errored", error: errorInfo(error), eventId: `run.ended:${runId}`, ...ids() }));
    },
    handleToolStart(tool, input, runId, parentRunId, _tags, metadata, runName, toolCallId) {
      const name = runName ?? (tool as { name?: string })?.name ?? (tool as { id?: string[] })?.id?.at(-1) ?? "tool";
      remember(runId, { run: runIdFor(runId, parentRunId, metadata), tool: { name, input, callId: toolCallId } });
    },
    handleToolEnd(_output, runId) {
      runs.delete(runId);
    },
    handleToolError(error, runId) {
      const started = runs.get(runId);
      runs.delete(runId);
      if (!started?.tool || isInterrupt(error) || aborted(error)) return;
      const { name, input, callId } = started.tool;
      background.run((r) => {
        const payload = payloadOf(input);
        return r.executionFailed({
          runId: started.run,
          eventId: callId ?? runId,
          action: { type: name, ...(payload ? { payload } : {}) },
          connector: { id: name, provider: "langchain" },
          error: failureOf(error),
          ...ids(),
        });
      });
    },
  };

  return {
    handler,
    policy(langchain, check) {
      // before the tools run, as the human-in-the-loop middleware decides: a blocked call is answered
      // with an error ToolMessage and the model plans again; tool execution is left untouched
      const hook = async (state: { messages?: Array<Record<string, unknown>> }, runtime?: { configurable?: Record<string, unknown> }) => {
        const last = [...(state.messages ?? [])].reverse().find((m) => Array.isArray(m["tool_calls"]));
        const calls = (last?.["tool_calls"] as Array<{ id?: string; name: string; args: unknown }> | undefined) ?? [];
        if (!last || calls.length === 0) return undefined;
        const blocked: Array<{ call: (typeof calls)[number]; decision: NonNullable<Awaited<ReturnType<LangChainPolicyCheck>>> }> = [];
        for (const call of calls) {
          const decision = await check(call.name, call.args);
          if (decision) blocked.push({ call, decision });
        }
        if (blocked.length === 0) return undefined;
        const thread = threadOf(runtime?.configurable);
        const trace = ids();
        const answers = blocked.map(({ call, decision }) => {
          const callId = call.id ?? `${call.name}:${Date.now()}`;
          background.run((r) => {
            const payload = payloadOf(call.args);
            return r.policyBlocked({
              runId: thread ?? `call:${callId}`,
              eventId: callId,
              action: { type: call.name, ...(payload ? { payload } : {}) },
              policy: { id: decision.policy.id, name: decision.policy.name, effect: "block", ...(decision.reason ? { reason: decision.reason } : {}) },
              ...trace,
            });
          });
          return new langchain.ToolMessage({
            content: `Blocked by policy ${decision.policy.name}${decision.reason ? `: ${decision.reason}` : ""}`,
            tool_call_id: callId,
            name: call.name,
            status: "error",
          });
        });
        // the message keeps only the calls answered here; the model hears why and plans again
        last["tool_calls"] = blocked.map(({ call }) => call);
        return { messages: [last, ...answers], jumpTo: "model" };
      };
      return langchain.createMiddleware({ name: "AgentIncidentsPolicy", afterModel: { canJumpTo: ["model"], hook } } as never);
    },
    observeApprovals<M>(middleware: M, approvalOptions: { decidedBy?: (threadId: string | undefined) => string } = {}): M {
      const mw = middleware as { afterModel?: unknown };
      const after = mw.afterModel as ((state: unknown, runtime: unknown) => Promise<unknown>) | { hook: (state: unknown, runtime: unknown) => Promise<unknown> } | undefined;
      if (!after) return middleware;
      const hook = typeof after === "function" ? after : after.hook;
      const wrapped = async (state: unknown, runtime: { configurable?: Record<string, unknown> } | undefined) => {
        const out = (await hook(state, runtime)) as { messages?: Array<Record<string, unknown>> } | undefined;
        const messages = out?.messages ?? [];
        const calls = (messages[0]?.["tool_calls"] as Array<{ id?: string; name: string; args: unknown }> | undefined) ?? [];
        const thread = threadOf(runtime?.configurable);
        for (const message of messages.slice(1)) {
          // the middleware answers a rejected call with an error ToolMessage in place of the tool's
          if (message["status"] !== "error" || typeof message["tool_call_id"] !== "string") continue;
          const callId = message["tool_call_id"];
          const call = calls.find((c) => c.id === callId);
          const reason = typeof message["content"] === "string" ? message["content"] : undefined;
          const payload = payloadOf(call?.args);
          background.run((r) =>
            r.approvalRejected({
              runId: thread ?? `call:${callId}`,
              eventId: callId,
              action: { type: call?.name ?? (typeof message["name"] === "string" ? message["name"] : "tool"), ...(payload ? { payload } : {}) },
              approval: { id: callId, decidedBy: approvalOptions.decidedBy?.(thread) ?? "unknown", ...(reason ? { reason } : {}) },
              ...ids(),
            }),
          );
        }
        return out;
      };
      return { ...(middleware as object), afterModel: typeof after === "function" ? wrapped : { ...after, hook: wrapped } } as M;
    },
    flush: () => background.flush(),
  };
}

export type { Adapter, AdapterOptions } from "./background.js";
