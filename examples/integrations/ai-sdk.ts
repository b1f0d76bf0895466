/**
 * npx tsx examples/integrations/ai-sdk.ts
 *
 * The Vercel AI SDK with MockLanguageModelV3 (offline): a failing tool, a call blocked by your
 * policy, and a model error become incidents.
 */
import { generateText, stepCountIs, tool } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { z } from "zod";
import { createIncidents } from "agent-incidents";
import { aiSdkIncidents } from "agent-incidents/ai-sdk";

const incidents = createIncidents();
const adapter = aiSdkIncidents(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_sales", environment: "production" }));

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };
const calls = (...parts: Array<[string, unknown, string]>) => ({
  content: parts.map(([toolName, input, toolCallId]) => ({ type: "tool-call" as const, toolCallId, toolName, input: JSON.stringify(input) })),
  finishReason: { unified: "tool-calls" as const, raw: "tool_calls" },
  usage,
  warnings: [],
});
const done = { content: [{ type: "text" as const, text: "Done what I could." }], finishReason: { unified: "stop" as const, raw: "stop" }, usage, warnings: [] };

const tools = adapter.guard(
  {
    refund_create: tool({
      description: "refund an order",
      inputSchema: z.object({ amount: z.number() }),
      execute: async (): Promise<string> => {
        throw new Error("stripe: api_unavailable");
      },
    }),
    wire: tool({ description: "wire money", inputSchema: z.object({ amount: z.number() }), execute: async () => "wired" }),
  },
  // your policy: null lets the call run
  (name, input) => (name === "wire" && (input as { amount: number }).amount > 5000 ? { policy: { id: "pol_wire_limit", name: "Wire limit" }, reason: "over $5,000" } : null),
);

const result = await generateText({
  model: new MockLanguageModelV3({ doGenerate: [calls(["refund_create", { amount: 900 }, "call_1"], ["wire", { amount: 10_000 }, "call_2"]), done] }),
  tools,
  stopWhen: stepCountIs(3),
  prompt: "refund order 1042, then wire the supplier",
  experimental_context: { runId: "run_sales_1" },
  experimental_telemetry: { integrations: [adapter.integration as never] },
});
console.log("call result:", result.text);

// a tool that needs approval, and the approver says no
const email = { email_send: tool({ description: "send an email", inputSchema: z.object({ to: z.string() }), needsApproval: true, execute: async () => "sent" }) };
const emailModel = new MockLanguageModelV3({ doGenerate: [calls(["email_send", { to: "ceo@example.com" }, "call_3"]), done] });
const first = await generateText({ model: emailModel, tools: email, stopWhen: stepCountIs(3), prompt: "tell the CEO", experimental_context: { runId: "run_sales_3" } });
const request = first.content.find((part) => part.type === "tool-approval-request");
if (request) {
  const messages = [
    { role: "user" as const, content: "tell the CEO" },
    ...first.response.messages,
    { role: "tool" as const, content: [{ type: "tool-approval-response" as const, approvalId: request.approvalId, approved: false, reason: "not to the CEO" }] },
  ];
  adapter.approvals(messages, { runId: "run_sales_3", decidedBy: "usr_lee" });
  await generateText({ model: emailModel, tools: email, stopWhen: stepCountIs(3), messages, experimental_context: { runId: "run_sales_3" } });
}

const failing = new MockLanguageModelV3({
  doGenerate: async () => {
    throw new Error("429 rate limited");
  },
});
await adapter.run("run_sales_2", () => generateText({ model: failing, prompt: "hi", maxRetries: 0 })).catch((error: Error) => console.log("call failed:", error.message));

await adapter.flush();
const ops = incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" });
for (const i of (await ops.list({ sort: "recency" })).items) console.log(`incident #${i.number} ${i.kind} ${i.severity}: ${i.title} (run ${i.runId})`);
await incidents.close();
