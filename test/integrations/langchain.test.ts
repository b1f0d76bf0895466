/**
 * LangChain.js 1.x and LangGraph with the fake chat model, no network: one run per row of the
 * mapping, and the incidents they make.
 */
import { AIMessage, createAgent, createMiddleware, fakeModel, humanInTheLoopMiddleware, tool, toolRetryMiddleware, ToolMessage } from "langchain";
import { Command, MemorySaver } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createIncidents, defineStore, memoryStore, StorageError, type Incident, type Incidents } from "agent-incidents";
import { langChainIncidents, type LangChainAdapter } from "agent-incidents/langchain";

const refund = tool(
  async ({ amount }: { amount: number; card: string }): Promise<string> => {
    throw Object.assign(new Error(`stripe declined ${amount}`), { code: "card_declined" });
  },
  { name: "refund_create", description: "refund an order", schema: z.object({ amount: z.number(), card: z.string() }) },
);
const email = tool(async ({ to }: { to: string }) => `sent to ${to}`, { name: "email_send", description: "send an email", schema: z.object({ to: z.string() }) });

describe("agent-incidents/langchain", { timeout: 30_000 }, () => {
  let incidents: Incidents;
  let adapter: LangChainAdapter;
  const all = async (): Promise<Incident[]> => (await incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" }).list({ sort: "recency", limit: 100 })).items;

  beforeAll(() => {
    incidents = createIncidents({ store: memoryStore() });
    adapter = langChainIncidents(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_support", environment: "production" }));
  });
  afterAll(async () => incidents.close());

  it("reports a tool that throws as executionFailed, keyed by the tool call id, in the thread's run", async () => {
    const agent = createAgent({ model: fakeModel().respondWithTools([{ name: "refund_create", args: { amount: 900, card: "4242 4242 4242 4242" }, id: "call_1" }]).respond(new AIMessage("sorry")), tools: [refund] });
    const result = await agent.invoke({ messages: [{ role: "user", content: "refund" }] }, { callbacks: [adapter.handler], configurable: { thread_id: "thread-1" } });
    expect(result.messages.at(-1)!.content).toBe("sorry");
    await new Promise((resolve) => setTimeout(resolve, 50)); // LangChain runs handlers in the background
    await adapter.flush();
    const failed = (await all()).find((i) => i.kind === "execution_failed")!;
    expect(failed).toMatchObject({ runId: "thread-1", eventId: "call_1", trigger: { action: { type: "refund_create" }, error: { message: "stripe declined 900", code: "card_declined" } } });
    expect(JSON.stringify(failed)).not.toContain("4242 4242 4242 4242");
  });

  it("blocks a tool call through the policy middleware and reports policyBlocked; other tools still run", async () => {
    const policy = adapter.policy({ createMiddleware, ToolMessage }, (name, args) =>
      name === "refund_create" && (args as { amount: number }).amount > 500 ? { policy: { id: "pol_refund_limit", name: "Refund limit" }, reason: "over $500" } : null,
    );
    const agent = createAgent({
      model: fakeModel().respondWithTools([{ name: "refund_create", args: { amount: 900, card: "x" }, id: "call_2" }]).respond(new AIMessage("blocked")),
      tools: [refund],
      middleware: [policy],
    });
    const result = await agent.invoke({ messages: [{ role: "user", content: "refund" }] }, { configurable: { thread_id: "thread-2" } });
    const toolMessage = result.messages.find((m) => ToolMessage.isInstance(m)) as ToolMessage;
    expect(toolMessage).toMatchObject({ status: "error", content: "Blocked by policy Refund limit: over $500" });
    await adapter.flush();
    const blocked = (await all()).find((i) => i.kind === "policy_blocked")!;
    expect(blocked).toMatchObject({ runId: "thread-2", eventId: "call_2", trigger: { policy: { id: "pol_refund_limit", reason: "over $500" } } });
  });

  it("leaves tool execution to LangChain when the policy allows a call: another middleware's retries still work", async () => {
    let attempts = 0;
    const flaky = tool(
      async () => {
        attempts += 1;
        if (attempts < 3) throw new Error("crm 500");
        return "updated";
      },
      { name: "crm_update", description: "update the CRM", schema: z.object({ id: z.string() }) },
    );
    const agent = createAgent({
      model: fakeModel().respondWithTools([{ name: "crm_update", args: { id: "c1" }, id: "call_r" }]).respond(new AIMessage("done")),
      tools: [flaky],
      middleware: [toolRetryMiddleware({ maxRetries: 2, initialDelayMs: 1 }), adapter.policy({ createMiddleware, ToolMessage }, () => null)],
    });
    const result = await agent.invoke({ messages: [{ role: "user", content: "update" }] }, { configurable: { thread_id: "thread-r" } });
    expect(attempts).toBe(3);
    expect(result.messages.find((m) => ToolMessage.isInstance(m))).toMatchObject({ content: "updated" });
  });

  it("reports a human's rejection through the wrapped human-in-the-loop middleware, linked to the thread", async () => {
    const hitl = adapter.observeApprovals(humanInTheLoopMiddleware({ interruptOn: { email_send: { allowedDecisions: ["approve", "reject"] } } }), { decidedBy: () => "usr_lee" });
    const agent = createAgent({
      model: fakeModel().respondWithTools([{ name: "email_send", args: { to: "ceo@example.com" }, id: "call_77" }]).respond(new AIMessage("not sent")),
      tools: [email],
      checkpointer: new MemorySaver(),
      middleware: [hitl],
    });
    const config = { configurable: { thread_id: "thread-42" } };
    const first = await agent.invoke({ messages: [{ role: "user", content: "email the ceo" }] }, config);
    expect(first.__interrupt__).toHaveLength(1);
    const second = await agent.invoke(new Command({ resume: { decisions: [{ type: "reject", message: "not to the CEO" }] } }), config);
    expect(second.messages.at(-1)!.content).toBe("not sent");
    await adapter.flush();
    const rejected = (await all()).find((i) => i.kind === "approval_rejected")!;
    expect(rejected).toMatchObject({ runId: "thread-42", eventId: "call_77", trigger: { approval: { id: "call_77", decidedBy: "usr_lee", reason: "not to the CEO" }, action: { type: "email_send" } } });
  });

  it("reports a run that fails (the model throws) as runEnded errored, once per run", async () => {
    const agent = createAgent({ model: fakeModel().alwaysThrow(new Error("model down")), tools: [email] });
    const runId = "0196a9b3-0000-7000-8000-00000000004a";
    await expect(agent.invoke({ messages: [{ role: "user", content: "hi" }] }, { callbacks: [adapter.handler], runId, configurable: { thread_id: "thread-8" } })).rejects.toThrow("model down");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await adapter.flush();
    const errored = (await all()).filter((i) => i.kind === "agent_error");
    expect(errored).toHaveLength(1);
    expect(errored[0]).toMatchObject({ runId: "thread-8", eventId: `run.ended:${runId}`, trigger: { error: { message: "model down" } } });
  });

  it("counts a retried callback once", async () => {
    const before = (await all()).length;
    for (let i = 0; i < 2; i++) {
      adapter.handler.handleToolStart({ name: "crm_update" }, "{}", "run-retried", undefined, [], { thread_id: "thread-9" }, "crm_update", "call_9");
      adapter.handler.handleToolError(new Error("hubspot 500"), "run-retried");
    }
    await adapter.flush();
    const after = await all();
    expect(after.length).toBe(before + 1);
    expect(after[0]).toMatchObject({ eventId: "call_9", occurrences: 1 });
  });

  it("never changes the run's outcome: a store that rejects every write", async () => {
    const failures: unknown[] = [];
    const down = createIncidents({ store: defineStore({ ...memoryStore(), ingest: () => Promise.reject(new StorageError("test", "down")) }) });
    const failing = langChainIncidents(down.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }), { onError: (e) => failures.push(e) });
    const agent = createAgent({ model: fakeModel().respondWithTools([{ name: "refund_create", args: { amount: 5, card: "x" }, id: "call_x" }]).respond(new AIMessage("sorry")), tools: [refund] });
    const result = await agent.invoke({ messages: [{ role: "user", content: "refund" }] }, { callbacks: [failing.handler] });
    expect(result.messages.at(-1)!.content).toBe("sorry");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await failing.flush();
    expect(failures[0]).toBeInstanceOf(StorageError);
    await down.close();
  });
});
