/**
 * npx tsx examples/integrations/langchain.ts
 *
 * A LangChain agent with the fake chat model (offline): a failing tool, a call blocked by your
 * policy middleware, and a human's rejection become incidents.
 */
import { Command, MemorySaver } from "@langchain/langgraph";
import { AIMessage, createAgent, createMiddleware, fakeModel, humanInTheLoopMiddleware, tool, ToolMessage } from "langchain";
import { z } from "zod";
import { createIncidents } from "agent-incidents";
import { langChainIncidents } from "agent-incidents/langchain";

const incidents = createIncidents();
const adapter = langChainIncidents(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_support", environment: "production" }));

const refund = tool(
  async (): Promise<string> => {
    throw new Error("stripe: api_unavailable");
  },
  { name: "refund_create", description: "refund an order", schema: z.object({ amount: z.number() }) },
);
const email = tool(async ({ to }: { to: string }) => `sent to ${to}`, { name: "email_send", description: "send an email", schema: z.object({ to: z.string() }) });

const agent = createAgent({
  model: fakeModel()
    .respondWithTools([{ name: "refund_create", args: { amount: 900 }, id: "call_1" }])
    .respondWithTools([{ name: "refund_create", args: { amount: 5000 }, id: "call_2" }])
    .respondWithTools([{ name: "email_send", args: { to: "ceo@example.com" }, id: "call_3" }])
    .respond(new AIMessage("Done what I could.")),
  tools: [refund, email],
  checkpointer: new MemorySaver(),
  middleware: [
    adapter.policy({ createMiddleware, ToolMessage }, (name, args) =>
      name === "refund_create" && (args as { amount: number }).amount > 1000 ? { policy: { id: "pol_refund_limit", name: "Refund limit" }, reason: "over $1,000" } : null,
    ),
    adapter.observeApprovals(humanInTheLoopMiddleware({ interruptOn: { email_send: { allowedDecisions: ["approve", "reject"] } } }), { decidedBy: () => "usr_lee" }),
  ],
});

const config = { callbacks: [adapter.handler], configurable: { thread_id: "thread-1042" } };
await agent.invoke({ messages: [{ role: "user", content: "refund order 1042 twice and tell the CEO" }] }, config);
const result = await agent.invoke(new Command({ resume: { decisions: [{ type: "reject", message: "not to the CEO" }] } }), config);
console.log("run result:", result.messages.at(-1)?.content);

// a run whose model fails
const broken = createAgent({ model: fakeModel().alwaysThrow(new Error("model provider down")), tools: [email] });
await broken
  .invoke({ messages: [{ role: "user", content: "hi" }] }, { callbacks: [adapter.handler], configurable: { thread_id: "thread-1043" } })
  .catch((error: Error) => console.log("run failed:", error.message));

await new Promise((resolve) => setTimeout(resolve, 50)); // LangChain runs callback handlers in the background
await adapter.flush();
const ops = incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" });
for (const i of (await ops.list({ sort: "recency" })).items) console.log(`incident #${i.number} ${i.kind} ${i.severity}: ${i.title} (run ${i.runId})`);
await incidents.close();
