/**
 * npx tsx examples/integrations/openai-agents.ts
 *
 * The OpenAI Agents SDK with a fake model (offline): a failing tool and a rejected approval become
 * incidents through the adapter's trace processor.
 */
import { Agent, Runner, setTraceProcessors, setTracingDisabled, tool, Usage } from "@openai/agents";
import { z } from "zod";
import { createIncidents } from "agent-incidents";
import { openAIAgentsIncidents } from "agent-incidents/openai-agents";

const incidents = createIncidents();
const adapter = openAIAgentsIncidents(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_billing", environment: "production" }));
setTracingDisabled(false); // on by default, except under NODE_ENV=test
setTraceProcessors([adapter.processor]); // addTraceProcessor keeps the OpenAI exporter too

// a model that asks for two tool calls, then answers
const outputs = [
  [{ type: "function_call", id: "fc_1", callId: "call_1", name: "refund_create", arguments: '{"amount":900}', status: "completed" }],
  [{ type: "function_call", id: "fc_2", callId: "call_2", name: "email_send", arguments: '{"to":"ceo@example.com"}', status: "completed" }],
  [{ type: "message", id: "msg_1", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Done what I could." }] }],
];
let turn = 0;
const model = {
  getResponse: async () => ({ usage: new Usage(), output: outputs[Math.min(turn++, outputs.length - 1)] as never, responseId: `resp_${turn}` }),
  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error("not used");
  },
};
const refund = tool({
  name: "refund_create",
  description: "refund an order",
  parameters: z.object({ amount: z.number() }),
  execute: async (): Promise<string> => {
    throw new Error("stripe: api_unavailable");
  },
});
const email = tool({ name: "email_send", description: "send an email", parameters: z.object({ to: z.string() }), needsApproval: async () => true, execute: async () => "sent" });

const agent = new Agent({ name: "billing", model, tools: [refund, email] });
const runner = new Runner();
let result = await runner.run(agent, "refund order 1042 and tell the CEO");
for (const item of result.interruptions) adapter.reject(result.state, item, { decidedBy: "usr_lee", reason: "not to the CEO" });
result = await runner.run(agent, result.state);
console.log("run result:", result.finalOutput);

// a guardrail that trips, and a run that loops past its turn limit: both end the run with an error
const guarded = new Agent({
  name: "support",
  model,
  inputGuardrails: [{ name: "no_pii", execute: async () => ({ tripwireTriggered: true, outputInfo: { reason: "contains an SSN" } }) }],
});
await runner.run(guarded, "my ssn is 078-05-1120").catch((error: Error) => console.log("run failed:", error.message));
turn = 0;
const looping = new Agent({ name: "looper", model, tools: [refund] });
await runner.run(looping, "refund until it works", { maxTurns: 1 }).catch((error: Error) => console.log("run failed:", error.message));

await adapter.flush();
const ops = incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" });
for (const i of (await ops.list({ sort: "recency" })).items) console.log(`incident #${i.number} ${i.kind} ${i.severity}: ${i.title} (run ${i.runId}, trace ${i.traceId})`);
await incidents.close();
