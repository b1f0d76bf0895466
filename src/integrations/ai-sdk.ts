/**
 * `agent-incidents/ai-sdk`: Vercel AI SDK (`ai` 6) calls as incidents.
 *
 * - `adapter.integration` is a telemetry integration (`experimental_telemetry: { integrations:
 *   [adapter.integration] }`, or `registerTelemetryIntegration`): a tool call that fails (the
 *   SDK's `tool-error`) is `executionFailed`.
 * - The SDK has no guardrails: `adapter.guard(tools, policy)` wraps your tools with a policy check
 *   that answers a blocked call in the SDK's own way (the model gets the denial as the tool's
 *   result, the tool never runs) and reports `policyBlocked`.
 * - `adapter.approvals(messages)` reads the `tool-approval-response`s you send back: each denied one
 *   is `approvalRejected`, linked to its call through the approval id.
 * - `adapter.run(runId, () => generateText(...))` reports a call that rejects (a model error,
 *   retries exhausted) as `runEnded({ status: "errored" })` and rethrows it.
 *
 * The SDK has no run id: give one as `experimental_context: { runId }` (or telemetry metadata
 * `runId`); a resumed call after an approval then keeps it. Event ids are tool call ids.
 *
 * @packageDocumentation
 * @module agent-incidents/ai-sdk
 */
import type { Reporter } from "../reporter.js";
import { Background, currentTrace, errorInfo, failureOf, isAbort, payloadOf, type Adapter, type AdapterOptions } from "./background.js";

/** Options of {@link aiSdkIncidents}: where run and trace ids come from, and where report failures go. */
export interface AiSdkAdapterOptions extends AdapterOptions {
  /** The run id when a call carries none in `experimental_context.runId` or metadata `runId`. */
  runId?: () => string | undefined;
  /** The trace of a report. Default: the active OpenTelemetry span, if any. */
  trace?: () => { traceId?: string; spanId?: string } | undefined;
}

/** The part of the SDK's `onToolCallFinish` event this reads. */
export interface ToolCallFinish {
  toolCall: { toolCallId: string; toolName: string; input?: unknown };
  success: boolean;
  error?: unknown;
  metadata?: Record<string, unknown> | undefined;
  experimental_context?: unknown;
}

/** A blocked call: the policy that blocked it and why; `null` lets it run. */
export type AiSdkPolicy = (
  toolName: string,
  input: unknown,
) => { policy: { id: string; name: string }; reason?: string } | null | undefined | Promise<{ policy: { id: string; name: string }; reason?: string } | null | undefined>;

/** A tool of the SDK, as far as guard() needs it. */
export type AnyTool = {
  /** What `guard()` wraps; a tool without it is left as it is. */
  execute?: (input: never, options: never) => unknown;
};
type CallOptions = { toolCallId?: string; experimental_context?: unknown };
type PolicyDecision = { policy: { id: string; name: string }; reason?: string };

/** What {@link aiSdkIncidents} returns: a telemetry integration, a tool guard, an approvals reader and a call wrapper. */
export interface AiSdkAdapter extends Adapter {
  /** The telemetry integration for `experimental_telemetry.integrations`: each failed tool call is `executionFailed`. */
  readonly integration: {
    /** Called by the SDK when a tool call finishes; a failed one is reported in the background. */
    onToolCallFinish(event: ToolCallFinish): void;
  };
  /**
   * Wraps each tool's `execute` with `policy`: a blocked call never runs, the model gets the denial
   * as the tool's result, and the call is reported as `policyBlocked`.
   */
  guard<T extends Record<string, AnyTool>>(tools: T, policy: AiSdkPolicy): T;
  /**
   * Reports each denied `tool-approval-response` in `messages` as `approvalRejected`, linked to its
   * tool call; `decision` names the run and who decided.
   */
  approvals(messages: ReadonlyArray<unknown>, decision?: { runId?: string; decidedBy?: string }): void;
  /** Runs `call`; if it rejects (other than by an abort), reports `runEnded({ status: "errored" })` and rethrows. */
  run<T>(runId: string, call: () => Promise<T>): Promise<T>;
}

/**
 * Reports a Vercel AI SDK app's failed tool calls, policy-blocked tool calls, denied approvals and
 * failed model calls through `reporter`. See the module's header for the wiring.
 */
export function aiSdkIncidents(reporter: Reporter, options: AiSdkAdapterOptions = {}): AiSdkAdapter {
  const background = new Background(reporter, options.onError);
  const ids = () => currentTrace(options.trace);
  const runOf = (context: unknown, metadata?: Record<string, unknown>, fallback?: string): string => {
    const fromContext = (context as { runId?: unknown } | undefined)?.runId;
    const fromMetadata = metadata?.["runId"];
    if (typeof fromContext === "string" && fromContext) return fromContext;
    if (typeof fromMetadata === "string" && fromMetadata) return fromMetadata;
    return options.runId?.() ?? fallback ?? "ai-sdk";
  };
  const action = (type: string, input: unknown) => {
    const payload = payloadOf(input);
    return { type, ...(payload ? { payload } : {}) };
  };

  return {
    integration: {
      onToolCallFinish(event) {
        if (event.success) return;
        // everything read from the event and the host's callbacks is read in the background: a
        // throwing getter or callback reaches onError, never the SDK
        background.run((r) => {
          const { toolCallId, toolName, input } = event.toolCall;
          return r.executionFailed({
            runId: runOf(event.experimental_context, event.metadata, `call:${toolCallId}`),
            eventId: toolCallId,
            action: action(toolName, input),
            connector: { id: toolName, provider: "ai-sdk" },
            error: failureOf(event.error),
            ...ids(),
          });
        });
      },
    },
    guard(tools, policy) {
      const guarded: Record<string, AnyTool> = {};
      for (const [name, tool] of Object.entries(tools)) {
        const execute = tool.execute as ((this: unknown, input: unknown, options: unknown) => unknown) | undefined;
        if (typeof execute !== "function") {
          guarded[name] = tool;
          continue;
        }
        const denials = new WeakSet<object>();
        const deny = (input: unknown, callOptions: CallOptions | undefined, blocked: PolicyDecision) => {
          const callId = callOptions?.toolCallId ?? `${name}:${Date.now()}`;
          background.run((r) =>
            r.policyBlocked({
              runId: runOf(callOptions?.experimental_context, undefined, `call:${callId}`),
              eventId: callId,
              action: action(name, input),
              policy: { id: blocked.policy.id, name: blocked.policy.name, effect: "block", ...(blocked.reason ? { reason: blocked.reason } : {}) },
              ...ids(),
            }),
          );
          // what the model sees instead of a result: the call was denied, and why
          const denial = { type: "execution-denied", denied: true, policy: blocked.policy.name, ...(blocked.reason ? { reason: blocked.reason } : {}) };
          denials.add(denial);
          return denial;
        };
        // a streaming tool (an async generator) must stay one: the SDK reads its shape
        const streaming = Object.prototype.toString.call(execute) === "[object AsyncGeneratorFunction]";
        const run = (input: unknown, callOptions: CallOptions | undefined) => execute.call(tool, input, callOptions);
        const wrapped = streaming
          ? async function* (input: unknown, callOptions?: CallOptions) {
              const blocked = await policy(name, input);
              if (blocked) {
                yield deny(input, callOptions, blocked);
                return;
              }
              yield* run(input, callOptions) as AsyncIterable<unknown>;
            }
          : (input: unknown, callOptions?: CallOptions) => {
              const blocked = policy(name, input);
              if (blocked instanceof Promise) return blocked.then((decision) => (decision ? deny(input, callOptions, decision) : run(input, callOptions)));
              return blocked ? deny(input, callOptions, blocked) : run(input, callOptions);
            };
        const toModelOutput = (tool as { toModelOutput?: (output: unknown) => unknown }).toModelOutput;
        guarded[name] = {
          ...tool,
          execute: wrapped as never,
          // a denial is not the tool's output: the tool's own formatting must not see it
          ...(typeof toModelOutput === "function"
            ? { toModelOutput: (output: unknown) => (typeof output === "object" && output !== null && denials.has(output) ? { type: "json", value: output } : toModelOutput.call(tool, output)) }
            : {}),
        } as AnyTool;
      }
      return guarded as typeof tools;
    },
    approvals(messages, decision = {}) {
      background.run(async (r) => readApprovals(r, messages, decision));
    },
    async run(runId, call) {
      try {
        return await call();
      } catch (error) {
        // the host's own abort is no failure
        if (!isAbort(error)) {
          background.run((r) => r.runEnded({ runId, status: "errored", error: errorInfo(error), ...ids() }));
        }
        throw error;
      }
    },
    flush: () => background.flush(),
  };

  async function readApprovals(r: Reporter, messages: ReadonlyArray<unknown>, decision: { runId?: string; decidedBy?: string }): Promise<void> {
      // approval id -> tool call id -> the call (name, input), from the assistant messages
      const callOfApproval = new Map<string, string>();
      const calls = new Map<string, { toolName: string; input: unknown }>();
      const denied: Array<{ approvalId: string; reason?: string }> = [];
      for (const message of messages) {
        const content = (message as { content?: unknown } | null)?.content;
        if (!Array.isArray(content)) continue;
        for (const part of content as Array<Record<string, unknown>>) {
          if (part["type"] === "tool-call" && typeof part["toolCallId"] === "string") {
            calls.set(part["toolCallId"], { toolName: String(part["toolName"] ?? "tool"), input: part["input"] });
          } else if (part["type"] === "tool-approval-request" && typeof part["approvalId"] === "string" && typeof part["toolCallId"] === "string") {
            callOfApproval.set(part["approvalId"], part["toolCallId"]);
          } else if (part["type"] === "tool-approval-response" && part["approved"] === false && typeof part["approvalId"] === "string") {
            denied.push({ approvalId: part["approvalId"], ...(typeof part["reason"] === "string" ? { reason: part["reason"] } : {}) });
          }
        }
      }
      const reports: Array<Promise<unknown>> = [];
      for (const { approvalId, reason } of denied) {
        const callId = callOfApproval.get(approvalId);
        const call = callId ? calls.get(callId) : undefined;
        reports.push(
          r.approvalRejected({
            runId: decision.runId ?? options.runId?.() ?? `approval:${approvalId}`,
            // the call's id when the request is in the messages: one incident however often they are sent
            eventId: callId ?? approvalId,
            action: action(call?.toolName ?? "tool", call?.input),
            approval: { id: approvalId, decidedBy: decision.decidedBy ?? "unknown", ...(reason ? { reason } : {}) },
            ...ids(),
          }),
        );
      }
      await Promise.all(reports);
  }
}

export type { Adapter, AdapterOptions } from "./background.js";
