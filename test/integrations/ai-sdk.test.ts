/**
 * The Vercel AI SDK (ai 6) with MockLanguageModelV3, no network: one call per row of the mapping,
 * and the incidents they make.
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { generateText, stepCountIs, tool, type ModelMessage } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createIncidents, defineStore, memoryStore, StorageError, type Incident, type Incidents } from "agent-incidents";
import { aiSdkIncidents, type AiSdkAdapter } from "agent-incidents/ai-sdk";

const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 5, text: 5, reasoning: undefined } };
const callTool = (toolName: string, input: unknown, toolCallId: string) => ({
  content: [{ type: "tool-call" as const, toolCallId, toolName, input: JSON.stringify(input) }],
  finishReason: { unified: "tool-calls" as const, raw: "tool_calls" },
  usage,
  warnings: [],
});
const say = (text: string) => ({ content: [{ type: "text" as const, text }], finishReason: { unified: "stop" as const, raw: "stop" }, usage, warnings: [] });

const refund = tool({
  description: "refund an order",
  inputSchema: z.object({ amount: z.number(), card: z.string() }),
  execute: async ({ amount }): Promise<string> => {
    throw Object.assign(new Error(`stripe declined ${amount}`), { code: "card_declined" });
  },
});
const email = tool({ description: "send an email", inputSchema: z.object({ to: z.string() }), needsApproval: true, execute: async ({ to }) => `sent to ${to}` });

describe("agent-incidents/ai-sdk", { timeout: 30_000 }, () => {
  let incidents: Incidents;
  let adapter: AiSdkAdapter;
  const all = async (): Promise<Incident[]> => (await incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" }).list({ sort: "recency", limit: 100 })).items;

  beforeAll(() => {
    incidents = createIncidents({ store: memoryStore() });
    adapter = aiSdkIncidents(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_sales", environment: "production" }));
  });
  afterAll(async () => incidents.close());

  it("reports a tool-error as executionFailed, keyed by the tool call id, in the host's run", async () => {
    const result = await generateText({
      model: new MockLanguageModelV3({ doGenerate: [callTool("refund_create", { amount: 900, card: "4242 4242 4242 4242" }, "call_1"), say("sorry")] }),
      tools: { refund_create: refund },
      stopWhen: stepCountIs(3),
      prompt: "refund order 1042",
      experimental_context: { runId: "run_sales_1" },
      experimental_telemetry: { integrations: [adapter.integration as never] },
    });
    expect(result.text).toBe("sorry");
    expect(result.steps[0]!.content.some((p) => p.type === "tool-error")).toBe(true);
    await adapter.flush();
    const failed = (await all()).find((i) => i.kind === "execution_failed")!;
    expect(failed).toMatchObject({ runId: "run_sales_1", eventId: "call_1", trigger: { action: { type: "refund_create" }, error: { message: "stripe declined 900", code: "card_declined" } } });
    expect(JSON.stringify(failed)).not.toContain("4242 4242 4242 4242");
  });

  it("blocks a call through guard(): the tool never runs, the model hears it was denied, policyBlocked is reported", async () => {
    let ran = false;
    const wire = tool({ description: "wire money", inputSchema: z.object({ amount: z.number() }), execute: async () => ((ran = true), "wired") });
    const tools = adapter.guard({ wire }, (name, input) => (name === "wire" && (input as { amount: number }).amount > 5000 ? { policy: { id: "pol_wire", name: "Wire limit" }, reason: "over 5000" } : null));
    const result = await generateText({
      model: new MockLanguageModelV3({ doGenerate: [callTool("wire", { amount: 10000 }, "call_2"), say("blocked")] }),
      tools,
      stopWhen: stepCountIs(3),
      prompt: "wire 10k",
      experimental_context: { runId: "run_sales_2" },
    });
    expect(ran).toBe(false);
    expect(result.steps[0]!.content.find((p) => p.type === "tool-result")).toMatchObject({ output: { denied: true, policy: "Wire limit", reason: "over 5000" } });
    await adapter.flush();
    expect((await all()).find((i) => i.kind === "policy_blocked")).toMatchObject({ runId: "run_sales_2", eventId: "call_2", trigger: { policy: { id: "pol_wire", reason: "over 5000" } } });
  });

  it("keeps a guarded tool's shape: a streaming tool still streams, `this` is kept, a throwing policy stays out of the SDK", async () => {
    const counter = {
      description: "count",
      inputSchema: z.object({ n: z.number() }),
      base: 40,
      async *execute(this: { base: number }, { n }: { n: number }) {
        yield "counting";
        yield `total ${this.base + n}`;
      },
    };
    const tools = adapter.guard({ counter: tool(counter as never) as typeof counter }, () => null);
    const result = await generateText({
      model: new MockLanguageModelV3({ doGenerate: [callTool("counter", { n: 2 }, "call_s"), say("counted")] }),
      tools: tools as unknown as Record<string, ReturnType<typeof tool>>,
      stopWhen: stepCountIs(3),
      prompt: "count",
    });
    expect(result.steps[0]!.content.find((p) => p.type === "tool-result")).toMatchObject({ output: "total 42" });
  });

  it("reports a denied approval from the messages sent back, linked through the approval id, once", async () => {
    const model = new MockLanguageModelV3({ doGenerate: [callTool("email_send", { to: "ceo@example.com" }, "call_77"), say("not sent")] });
    const first = await generateText({ model, tools: { email_send: email }, stopWhen: stepCountIs(3), prompt: "email the ceo" });
    const request = first.content.find((p) => p.type === "tool-approval-request")!;
    const messages: ModelMessage[] = [
      { role: "user", content: "email the ceo" },
      ...first.response.messages,
      { role: "tool", content: [{ type: "tool-approval-response", approvalId: request.approvalId, approved: false, reason: "not to the CEO" }] },
    ];
    adapter.approvals(messages, { runId: "run_sales_3", decidedBy: "usr_lee" });
    adapter.approvals(messages, { runId: "run_sales_3", decidedBy: "usr_lee" }); // the same messages again
    const second = await generateText({ model, tools: { email_send: email }, stopWhen: stepCountIs(3), messages });
    expect(second.text).toBe("not sent");
    await adapter.flush();
    const rejected = (await all()).filter((i) => i.kind === "approval_rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ runId: "run_sales_3", eventId: "call_77", occurrences: 1, trigger: { approval: { id: request.approvalId, decidedBy: "usr_lee", reason: "not to the CEO" }, action: { type: "email_send" } } });
  });

  it("reports a call that rejects (the model fails) as runEnded errored, and rethrows it", async () => {
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        throw new Error("429 rate limited");
      },
    });
    await expect(adapter.run("run_sales_4", () => generateText({ model, prompt: "hi", maxRetries: 0 }))).rejects.toThrow("429 rate limited");
    await adapter.flush();
    expect((await all()).find((i) => i.kind === "agent_error")).toMatchObject({ runId: "run_sales_4", trigger: { error: { message: "429 rate limited" } } });
  });

  it("links the incident to the active OpenTelemetry span when there is one", async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    const tracer = new BasicTracerProvider().getTracer("host");
    try {
      const ids = await tracer.startActiveSpan("handle request", async (span) => {
        await generateText({
          // a tool of its own: a new incident, not a recurrence of the first test's
          model: new MockLanguageModelV3({ doGenerate: [callTool("refund_otel", { amount: 7, card: "x" }, "call_otel"), say("sorry")] }),
          tools: { refund_otel: refund },
          stopWhen: stepCountIs(3),
          prompt: "refund",
          experimental_context: { runId: "run_otel" },
          experimental_telemetry: { integrations: [adapter.integration as never] },
        });
        span.end();
        return span.spanContext();
      });
      await adapter.flush();
      expect((await all()).find((i) => i.eventId === "call_otel")).toMatchObject({ traceId: ids.traceId, spanId: ids.spanId });
      expect(trace.getActiveSpan()).toBeUndefined();
    } finally {
      context.disable();
    }
  });

  it("counts a retried callback once", async () => {
    const before = (await all()).length;
    const event = { toolCall: { toolCallId: "call_9", toolName: "crm_update", input: {} }, success: false, error: new Error("hubspot 500"), experimental_context: { runId: "run_9" } };
    adapter.integration.onToolCallFinish(event);
    adapter.integration.onToolCallFinish(event);
    await adapter.flush();
    expect((await all()).length).toBe(before + 1);
  });

  it("never changes the call's outcome: a store that rejects every write", async () => {
    const failures: unknown[] = [];
    const down = createIncidents({ store: defineStore({ ...memoryStore(), ingest: () => Promise.reject(new StorageError("test", "down")) }) });
    const failing = aiSdkIncidents(down.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }), { onError: (e) => failures.push(e) });
    const result = await generateText({
      model: new MockLanguageModelV3({ doGenerate: [callTool("refund_create", { amount: 5, card: "x" }, "call_x"), say("sorry")] }),
      tools: { refund_create: refund },
      stopWhen: stepCountIs(3),
      prompt: "refund",
      experimental_telemetry: { integrations: [failing.integration as never] },
    });
    expect(result.text).toBe("sorry");
    await failing.flush();
    expect(failures[0]).toBeInstanceOf(StorageError);
    await down.close();
  });
});
