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
 */
import type { Reporter } from "../reporter.js";
import { activeOtelSpan, Background, errorInfo, payloadOf, traceIds, type Adapter, type AdapterOptions } from "./background.js";

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

interface ToolCallRequest {
  toolCall: { name: string; args: unknown; id?: string };
  runtime?: { configurable?: Record<string, unknown> };
}

/** The callback methods LangChain calls (a plain handler object is accepted in `callbacks`). */
export interface LangChainHandler {
  name: string;
  awaitHandlers: boolean;
  handleChainStart(chain: unknown, inputs: unknown, runId: string, parentRunId?: string, tags?: string[], metadata?: Record<string, unknown>): void;
  handleChainEnd(outputs: unknown, runId: string): void;
  handleChainError(error: unknown, runId: string, parentRunId?: string): void;
  handleToolStart(tool: unknown, input: string, runId: string, parentRunId?: string, tags?: string[], metadata?: Record<string, unknown>, runName?: string, toolCallId?: string): void;
  handleToolEnd(output: unknown, runId: string): void;
  handleToolError(error: unknown, runId: string, parentRunId?: string): void;
}

export interface LangChainAdapter extends Adapter {
  readonly handler: LangChainHandler;
  /** A middleware (`createAgent({ middleware: [...] })`): pass `{ createMiddleware, ToolMessage }` from `langchain`. */
  policy<T>(langchain: LangChainKit<T>, check: LangChainPolicyCheck): T;
  /** Wraps `humanInTheLoopMiddleware(...)`: the same middleware, reporting each rejection. */
  observeApprovals<M>(middleware: M, options?: { decidedBy?: (threadId: string | undefined) => string }): M;
}

const isInterrupt = (error: unknown) => (error as { name?: unknown })?.name === "GraphInterrupt" || (error as { name?: unknown })?.name === "NodeInterrupt";

export function langChainIncidents(reporter: Reporter, options: LangChainAdapterOptions = {}): LangChainAdapter {
  const background = new Background(reporter, options.onError);
  const ids = () => {
    const t = options.trace ? options.trace() : activeOtelSpan();
    return traceIds(t?.traceId, t?.spanId);
  };
  // runs in flight: parent and thread, so a tool run maps to its root and thread
  const runs = new Map<string, { parent?: string | undefined; thread?: string | undefined; tool?: { name: string; input: string; callId?: string | undefined } }>();
  const rootOf = (runId: string) => {
    let id = runId;
    for (let hops = 0; hops < 1000; hops++) {
      const parent = runs.get(id)?.parent;
      if (!parent || !runs.has(parent)) return parent ?? id;
      id = parent;
    }
    return id;
  };
  const runIdOf = (runId: string) => {
    const root = rootOf(runId);
    return runs.get(root)?.thread ?? runs.get(runId)?.thread ?? root;
  };
  const threadOf = (configurable: Record<string, unknown> | undefined) =>
    typeof configurable?.["thread_id"] === "string" && configurable["thread_id"] !== "" ? (configurable["thread_id"] as string) : undefined;

  const handler: LangChainHandler = {
    name: "agent-incidents",
    awaitHandlers: false,
    handleChainStart(_chain, _inputs, runId, parentRunId, _tags, metadata) {
      runs.set(runId, { parent: parentRunId, thread: typeof metadata?.["thread_id"] === "string" ? (metadata["thread_id"] as string) : undefined });
    },
    handleChainEnd(_outputs, runId) {
      if (!runs.get(runId)?.parent) forgetTree(runId);
    },
    handleChainError(error, runId, parentRunId) {
      if (parentRunId || isInterrupt(error)) return; // only the root run's failure ends the run
      const run = runIdOf(runId);
      background.run((r) => r.runEnded({ runId: run, status: "errored", error: errorInfo(error), eventId: `run.ended:${runId}`, ...ids() }));
      forgetTree(runId);
    },
    handleToolStart(tool, input, runId, parentRunId, _tags, metadata, runName, toolCallId) {
      const name = runName ?? (tool as { name?: string; id?: string[] })?.name ?? (tool as { id?: string[] })?.id?.at(-1) ?? "tool";
      runs.set(runId, { parent: parentRunId, thread: typeof metadata?.["thread_id"] === "string" ? (metadata["thread_id"] as string) : undefined, tool: { name, input, callId: toolCallId } });
    },
    handleToolEnd(_output, runId) {
      runs.delete(runId);
    },
    handleToolError(error, runId) {
      const started = runs.get(runId);
      if (!started?.tool || isInterrupt(error)) return;
      const { name, input, callId } = started.tool;
      const run = runIdOf(runId);
      const payload = payloadOf(input);
      const info = errorInfo(error);
      const code = (error as { code?: unknown })?.code;
      background.run((r) =>
        r.executionFailed({
          runId: run,
          eventId: callId ?? runId,
          action: { type: name, ...(payload ? { payload } : {}) },
          connector: { id: name, provider: "langchain" },
          error: { ...info, ...(typeof code === "string" ? { code } : {}) },
          ...ids(),
        }),
      );
      runs.delete(runId);
    },
  };

  const forgetTree = (root: string) => {
    for (const [id] of runs) if (rootOf(id) === root) runs.delete(id);
    runs.delete(root);
  };

  return {
    handler,
    policy(langchain, check) {
      const wrapToolCall = async (request: ToolCallRequest, next: (request: ToolCallRequest) => Promise<unknown>): Promise<unknown> => {
          const { name, args, id } = request.toolCall;
          const blocked = await check(name, args);
          if (!blocked) {
            try {
              return await next(request);
            } catch (error) {
              // with a wrapToolCall middleware in place LangChain no longer turns a tool's throw into
              // a message for the model: do what it does without one (the tool's callbacks report it)
              if (isInterrupt(error)) throw error;
              return new langchain.ToolMessage({ content: `${String(error)}\n Please fix your mistakes.`, tool_call_id: id ?? "", name, status: "error" });
            }
          }
          const callId = id ?? `${name}:${Date.now()}`;
          const run = threadOf(request.runtime?.configurable) ?? `call:${callId}`;
          const payload = payloadOf(args);
          background.run((r) =>
            r.policyBlocked({
              runId: run,
              eventId: callId,
              action: { type: name, ...(payload ? { payload } : {}) },
              policy: { id: blocked.policy.id, name: blocked.policy.name, effect: "block", ...(blocked.reason ? { reason: blocked.reason } : {}) },
              ...ids(),
            }),
          );
          // the model hears why, as LangChain tells it of a failed tool
          return new langchain.ToolMessage({
            content: `Blocked by policy ${blocked.policy.name}${blocked.reason ? `: ${blocked.reason}` : ""}`,
            tool_call_id: callId,
            name,
            status: "error",
          });
      };
      return langchain.createMiddleware({ name: "AgentIncidentsPolicy", wrapToolCall } as never);
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
