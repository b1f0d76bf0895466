/**
 * npx tsx examples/integrations/opentelemetry.ts
 *
 * Any framework that emits OpenTelemetry GenAI spans: the span processor turns a failed tool span
 * and a failed agent span into incidents linked to their trace.
 */
import { context, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { createIncidents } from "agent-incidents";
import { incidentSpanProcessor } from "agent-incidents/opentelemetry";

const incidents = createIncidents();
const processor = incidentSpanProcessor(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_research", environment: "production" }));
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const provider = new BasicTracerProvider({ spanProcessors: [processor] });

// what a framework such as Mastra or LlamaIndex.TS records for one agent run
const tracer = provider.getTracer("an-agent-framework");
await tracer.startActiveSpan("invoke_agent research", { attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.id": "agt_research", "gen_ai.conversation.id": "conv_7" } }, async (agent) => {
  tracer.startActiveSpan("execute_tool web_search", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "web_search", "gen_ai.tool.call.id": "call_1" } }, (span) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: "search backend timed out" });
    span.end();
  });
  agent.setStatus({ code: SpanStatusCode.ERROR, message: "max turns exceeded" });
  agent.end();
});

await provider.forceFlush();
const ops = incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" });
for (const i of (await ops.list({ sort: "recency" })).items) console.log(`incident #${i.number} ${i.kind} ${i.severity}: ${i.title} (run ${i.runId}, trace ${i.traceId})`);
await provider.shutdown();
await incidents.close();
