/**
 * OpenTelemetry: spans that follow the GenAI semantic conventions, from a real tracer provider
 * (@opentelemetry/sdk-trace-base 2.x), reported by the span processor.
 */
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, defineStore, memoryStore, StorageError, type Incident, type Incidents } from "agent-incidents";
import { incidentSpanProcessor, type IncidentSpanProcessor } from "agent-incidents/opentelemetry";

describe("agent-incidents/opentelemetry", { timeout: 30_000 }, () => {
  let incidents: Incidents;
  let processor: IncidentSpanProcessor;
  let provider: BasicTracerProvider;
  const all = async (): Promise<Incident[]> => (await incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" }).list({ sort: "recency", limit: 100 })).items;

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    incidents = createIncidents({ store: memoryStore() });
    processor = incidentSpanProcessor(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_mastra", environment: "production" }));
    provider = new BasicTracerProvider({ spanProcessors: [processor] });
  });
  afterAll(async () => {
    await provider.shutdown();
    context.disable();
    await incidents.close();
  });

  it("reports a failed execute_tool span as executionFailed and a failed invoke_agent span as runEnded errored, with the trace", async () => {
    const tracer = provider.getTracer("some-agent-framework");
    let traceId = "";
    await tracer.startActiveSpan("invoke_agent billing", { attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": "asst_billing", "gen_ai.conversation.id": "conv_42" } }, async (agent) => {
      traceId = agent.spanContext().traceId;
      tracer.startActiveSpan(
        "execute_tool refund_create",
        { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "refund_create", "gen_ai.tool.call.id": "call_1", "gen_ai.tool.call.arguments": '{"amount":900,"card":"4242 4242 4242 4242"}' } },
        (span) => {
          const error = Object.assign(new Error("stripe declined 900"), { name: "CardError" });
          span.recordException(error);
          span.setAttribute("error.type", "CardError");
          span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
          span.end();
        },
      );
      tracer.startActiveSpan("execute_tool lookup", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup" } }, (ok) => ok.end());
      agent.setAttribute("error.type", "MaxTurnsExceededError");
      agent.setStatus({ code: SpanStatusCode.ERROR, message: "max turns exceeded" });
      agent.end();
    });
    await processor.forceFlush();
    const found = await all();
    expect(found).toHaveLength(2);
    const failed = found.find((i) => i.kind === "execution_failed")!;
    expect(failed).toMatchObject({ runId: "conv_42", eventId: `${traceId}:call_1`, traceId, trigger: { action: { type: "refund_create" }, error: { name: "CardError", message: "stripe declined 900" } } });
    expect(failed.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(failed)).not.toContain("4242 4242 4242 4242");
    expect(found.find((i) => i.kind === "agent_error")).toMatchObject({ runId: "conv_42", traceId, trigger: { error: { name: "MaxTurnsExceededError", message: "max turns exceeded" } } });
  });

  it("keeps concurrent agents of one trace apart: each tool span goes to its own agent's conversation", async () => {
    const tracer = provider.getTracer("fan-out");
    const tool = (name: string) =>
      tracer.startActiveSpan(`execute_tool ${name}`, { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name } }, (span) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${name} failed` });
        span.end();
      });
    await tracer.startActiveSpan("request", async (root) => {
      await Promise.all(
        ["conv_A", "conv_B"].map((conversation) =>
          tracer.startActiveSpan(`invoke_agent ${conversation}`, { attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": conversation } }, async (agent) => {
            await new Promise((resolve) => setTimeout(resolve, conversation === "conv_A" ? 5 : 0));
            tool(`tool_of_${conversation}`);
            agent.end();
          }),
        ),
      );
      root.end();
    });
    await processor.forceFlush();
    const found = await all();
    for (const conversation of ["conv_A", "conv_B"]) {
      expect(found.find((i) => (i.trigger as { action?: { type?: string } }).action?.type === `tool_of_${conversation}`)!.runId).toBe(conversation);
    }
  });

  it("ignores spans that are not GenAI operations or did not fail, and counts a span ended twice once", async () => {
    const tracer = provider.getTracer("other");
    const before = (await all()).length;
    const http = tracer.startSpan("GET /", { attributes: { "http.method": "GET" } });
    http.setStatus({ code: SpanStatusCode.ERROR });
    http.end();
    const tool = tracer.startSpan("execute_tool crm", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "crm", "gen_ai.tool.call.id": "call_9" } });
    tool.setStatus({ code: SpanStatusCode.ERROR, message: "hubspot 500" });
    tool.end();
    processor.onEnd(tool as never); // an exporter that delivers the same span again
    await processor.forceFlush();
    expect((await all()).length).toBe(before + 1);
  });

  it("never breaks tracing: a store that rejects every write", async () => {
    const failures: unknown[] = [];
    const down = createIncidents({ store: defineStore({ ...memoryStore(), ingest: () => Promise.reject(new StorageError("test", "down")) }) });
    const failing = incidentSpanProcessor(down.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }), { onError: (e) => failures.push(e) });
    const other = new BasicTracerProvider({ spanProcessors: [failing] });
    const span = other.getTracer("x").startSpan("execute_tool t", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t" } });
    span.setStatus({ code: SpanStatusCode.ERROR, message: "down" });
    expect(() => span.end()).not.toThrow();
    await other.forceFlush();
    expect(failures[0]).toBeInstanceOf(StorageError);
    await other.shutdown();
    await down.close();
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
