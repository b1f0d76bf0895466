/**
 * npm run bench:integrations
 *
 * What an adapter adds to a framework's run: the same run (a mock model, one tool call, then an
 * answer) with and without the adapter wired in, in alternating rounds; once with a tool that
 * works (the everyday run: nothing to report) and once with a tool that fails (every run makes a
 * report, which runs in the background of the same process). `flush()` is awaited between rounds.
 */
import { Agent, Runner, setTraceProcessors, setTracingDisabled, tool as agentsTool, Usage } from "@openai/agents";
import { context, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { generateText, stepCountIs, tool as aiTool } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { AIMessage, createAgent, fakeModel, tool as lcTool } from "langchain";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { createIncidents } from "agent-incidents";
import { aiSdkIncidents } from "agent-incidents/ai-sdk";
import { langChainIncidents } from "agent-incidents/langchain";
import { openAIAgentsIncidents } from "agent-incidents/openai-agents";
import { incidentSpanProcessor } from "agent-incidents/opentelemetry";
import { median } from "./lib.js";

const RUNS = Number(process.argv[process.argv.indexOf("--runs") + 1] ?? "") || 200;
const ROUNDS = 5;
const incidents = createIncidents();
const reporter = (agentId: string) => incidents.reporter({ workspaceId: "ws_bench", agentId, environment: "production" });
let failing = false;
const fail = async (): Promise<string> => {
  if (failing) throw new Error("connector down");
  return "done";
};

// OpenAI Agents: a trace processor that does nothing, or the adapter's
setTracingDisabled(false);
const agents = openAIAgentsIncidents(reporter("agt_openai"));
const idle = { onTraceStart: async () => {}, onTraceEnd: async () => {}, onSpanStart: async () => {}, onSpanEnd: async () => {}, shutdown: async () => {}, forceFlush: async () => {} };
const agentsTools = [agentsTool({ name: "refund_create", description: "x", parameters: z.object({ amount: z.number() }), execute: fail })];
let agentsRun = 0;
const agentsOnce = async () => {
  const id = agentsRun++;
  let turn = 0;
  const model = {
    getResponse: async () =>
      ({
        usage: new Usage(),
        output: (turn++ === 0
          ? [{ type: "function_call", id: `fc_${id}`, callId: `call_${id}`, name: "refund_create", arguments: '{"amount":1}', status: "completed" }]
          : [{ type: "message", id: "m", role: "assistant", status: "completed", content: [{ type: "output_text", text: "ok" }] }]) as never,
        responseId: "r",
      }) as never,
    // eslint-disable-next-line require-yield
    async *getStreamedResponse(): AsyncIterable<never> {
      throw new Error("not used");
    },
  };
  await new Runner().run(new Agent({ name: "a", model, tools: agentsTools }), "go");
};

// AI SDK: with and without the telemetry integration
const ai = aiSdkIncidents(reporter("agt_ai"));
const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };
const aiTools = { refund_create: aiTool({ description: "x", inputSchema: z.object({ amount: z.number() }), execute: fail }) };
let aiRun = 0;
const aiOnce = (withAdapter: boolean) => async () => {
  const id = aiRun++;
  await generateText({
    model: new MockLanguageModelV3({
      doGenerate: [
        { content: [{ type: "tool-call", toolCallId: `call_${id}`, toolName: "refund_create", input: '{"amount":1}' }], finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage, warnings: [] },
        { content: [{ type: "text", text: "ok" }], finishReason: { unified: "stop", raw: "stop" }, usage, warnings: [] },
      ],
    }),
    tools: aiTools,
    stopWhen: stepCountIs(3),
    prompt: "go",
    experimental_context: { runId: `run_${id}` },
    ...(withAdapter ? { experimental_telemetry: { integrations: [ai.integration as never] } } : {}),
  });
};

// LangChain: with and without the callback handler
const lc = langChainIncidents(reporter("agt_lc"));
const lcTools = [lcTool(fail, { name: "refund_create", description: "x", schema: z.object({ amount: z.number() }) })];
let lcRun = 0;
// any callback handler switches on LangChain's callback machinery: a no-op one shows what that costs
const noopHandler = { name: "noop", awaitHandlers: true, handleToolError() {} };
const lcOnce = (handler: object | null) => async () => {
  const id = lcRun++;
  const agent = createAgent({ model: fakeModel().respondWithTools([{ name: "refund_create", args: { amount: 1 }, id: `call_${id}` }]).respond(new AIMessage("ok")), tools: lcTools });
  await agent.invoke({ messages: [{ role: "user", content: "go" }] }, handler ? { callbacks: [handler as never], configurable: { thread_id: `t_${id}` } } : { configurable: { thread_id: `t_${id}` } });
};

// OpenTelemetry: a provider with the span processor, or with none
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const spans = incidentSpanProcessor(reporter("agt_otel"));
const withSpans = new BasicTracerProvider({ spanProcessors: [spans] }).getTracer("bench");
const without = new BasicTracerProvider().getTracer("bench");
let otelRun = 0;
const otelOnce = (tracer: typeof without) => async () => {
  const id = otelRun++;
  await tracer.startActiveSpan("invoke_agent a", { attributes: { "gen_ai.operation.name": "invoke_agent" } }, async (agent) => {
    const span = tracer.startSpan("execute_tool t", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t", "gen_ai.tool.call.id": `call_${id}` } });
    if (failing) span.setStatus({ code: SpanStatusCode.ERROR, message: "connector down" });
    span.end();
    agent.end();
  });
};

const time = async (once: () => Promise<void>) => {
  const start = performance.now();
  for (let i = 0; i < RUNS; i++) await once();
  return ((performance.now() - start) * 1000) / RUNS;
};
const frameworks = [
  { name: "OpenAI Agents 0.14", without: () => (setTraceProcessors([idle]), time(agentsOnce)), with: () => (setTraceProcessors([agents.processor]), time(agentsOnce)), flush: () => agents.flush() },
  { name: "AI SDK 6", without: () => time(aiOnce(false)), with: () => time(aiOnce(true)), flush: () => ai.flush() },
  { name: "LangChain 1.5", without: () => time(lcOnce(null)), with: () => time(lcOnce(lc.handler)), flush: () => lc.flush() },
  { name: "LangChain 1.5, a no-op handler instead", without: () => time(lcOnce(null)), with: () => time(lcOnce(noopHandler)), flush: async () => undefined },
  { name: "OpenTelemetry spans", without: () => time(otelOnce(without)), with: () => time(otelOnce(withSpans)), flush: () => spans.flush() },
];

console.log(`One run: a tool call, then an answer; ${RUNS} runs per round, median of ${ROUNDS} alternating rounds\n`);
console.log("| framework | the tool | without the adapter | with it | difference |");
console.log("|---|---|---|---|---|");
for (const mode of ["works", "fails"] as const) for (const f of frameworks) {
  failing = mode === "fails";
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const first = round % 2 === 0;
    const x = first ? await f.without() : await f.with();
    const y = first ? await f.with() : await f.without();
    await f.flush();
    if (round === 0) continue; // warm-up
    (first ? a : b).push(x);
    (first ? b : a).push(y);
  }
  const off = median(a);
  const on = median(b);
  console.log(`| ${f.name} | ${mode} | ${off.toFixed(0)} µs | ${on.toFixed(0)} µs | ${on - off >= 0 ? "+" : ""}${(on - off).toFixed(0)} µs (${((on / off - 1) * 100).toFixed(1)}%) |`);
}
await incidents.close();
