/**
 * The OpenAI Agents SDK (0.14) with a fake model, no network: one run per row of the mapping, and
 * the incidents they make.
 */
import { Agent, addTraceProcessor, MaxTurnsExceededError, Runner, setTraceProcessors, setTracingDisabled, tool, Usage } from "@openai/agents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createIncidents, defineStore, memoryStore, StorageError, type Incident, type Incidents } from "agent-incidents";
import { openAIAgentsIncidents, type OpenAIAgentsAdapter } from "agent-incidents/openai-agents";

type Output = Array<Record<string, unknown>>;
function fakeModel(outputs: Array<Output | Error>) {
  let i = 0;
  return {
    async getResponse() {
      const next = outputs[Math.min(i++, outputs.length - 1)]!;
      if (next instanceof Error) throw next;
      return { usage: new Usage(), output: next as never, responseId: `resp_${i}` };
    },
    // eslint-disable-next-line require-yield
    async *getStreamedResponse(): AsyncIterable<never> {
      throw new Error("not used");
    },
  };
}
const call = (name: string, args: unknown, callId: string): Output => [
  { type: "function_call", id: `fc_${callId}`, callId, name, arguments: JSON.stringify(args), status: "completed" },
];
const say = (text: string): Output => [{ type: "message", id: "msg_1", role: "assistant", status: "completed", content: [{ type: "output_text", text }] }];

const refund = tool({
  name: "refund_create",
  description: "refund an order",
  parameters: z.object({ amount: z.number(), card: z.string() }),
  async execute({ amount }): Promise<string> {
    throw Object.assign(new Error(`stripe declined ${amount}`), { code: "card_declined" });
  },
});
const email = tool({
  name: "email_send",
  description: "send an email",
  parameters: z.object({ to: z.string() }),
  needsApproval: async () => true,
  async execute() {
    return "sent";
  },
});

describe("agent-incidents/openai-agents", { timeout: 30_000 }, () => {
  let incidents: Incidents;
  let adapter: OpenAIAgentsAdapter;
  const ops = () => incidents.as({ id: "usr_ana", role: "viewer", workspaceId: "ws_acme" });
  const all = async (): Promise<Incident[]> => (await ops().list({ sort: "recency", limit: 100 })).items;

  beforeAll(() => {
    setTracingDisabled(false); // vitest sets NODE_ENV=test, which turns the SDK's tracing off
    incidents = createIncidents({ store: memoryStore() });
    adapter = openAIAgentsIncidents(incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_billing", environment: "production" }));
    setTraceProcessors([adapter.processor]);
  });
  afterAll(async () => {
    setTraceProcessors([]);
    await incidents.close();
  });

  it("reports a failing tool as executionFailed with the tool, its redacted arguments and the trace", async () => {
    const agent = new Agent({ name: "billing", model: fakeModel([call("refund_create", { amount: 900, card: "4242 4242 4242 4242" }, "call_1"), say("sorry")]), tools: [refund] });
    const result = await new Runner().run(agent, "refund order 1042");
    expect(result.finalOutput).toBe("sorry"); // the run's outcome is the framework's own
    await adapter.flush();
    const [incident] = await all();
    expect(incident).toMatchObject({ kind: "execution_failed", severity: "critical", trigger: { action: { type: "refund_create" }, connector: { id: "refund_create" } } });
    expect(incident!.trigger).toMatchObject({ error: { message: expect.stringContaining("stripe declined 900") } });
    expect(JSON.stringify(incident)).not.toContain("4242 4242 4242 4242");
    expect(incident!.runId).toMatch(/^trace_[0-9a-f]{32}$/);
    expect(incident!.traceId).toBe(incident!.runId!.slice(6));
  });

  it("reports a tripped input guardrail as policyBlocked, named after the guardrail", async () => {
    const agent = new Agent({
      name: "support",
      model: fakeModel([say("hi")]),
      inputGuardrails: [{ name: "no_pii", execute: async () => ({ tripwireTriggered: true, outputInfo: { reason: "contains an SSN" } }) }],
    });
    await expect(new Runner().run(agent, "my ssn is 078-05-1120")).rejects.toThrow(/guardrail triggered/i);
    await adapter.flush();
    const blocked = (await all()).find((i) => i.kind === "policy_blocked")!;
    expect(blocked).toMatchObject({ trigger: { policy: { id: "no_pii", name: "no_pii", effect: "block" } } });
    expect(blocked.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("reports a rejected approval with who decided, once, although the tool span reports it too", async () => {
    const agent = new Agent({ name: "mailer", model: fakeModel([call("email_send", { to: "ceo@example.com" }, "call_77"), say("not sent")]), tools: [email] });
    const runner = new Runner();
    const first = await runner.run(agent, "email the ceo");
    expect(first.interruptions).toHaveLength(1);
    adapter.reject(first.state, first.interruptions[0]!, { decidedBy: "usr_lee", reason: "not to the CEO" });
    const second = await runner.run(agent, first.state);
    expect(second.finalOutput).toBe("not sent");
    await adapter.flush();
    const rejected = (await all()).filter((i) => i.kind === "approval_rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ eventId: "call_77", occurrences: 1, trigger: { approval: { id: "call_77", decidedBy: "usr_lee", reason: "not to the CEO" }, action: { type: "email_send" } } });
  });

  it("reports a run that ends in error (max turns) as runEnded errored", async () => {
    const loop = tool({ name: "lookup", description: "x", parameters: z.object({}), execute: async () => "again" });
    const agent = new Agent({ name: "looper", model: fakeModel([call("lookup", {}, "call_a"), call("lookup", {}, "call_b"), call("lookup", {}, "call_c")]), tools: [loop] });
    await expect(new Runner().run(agent, "go", { maxTurns: 2 })).rejects.toBeInstanceOf(MaxTurnsExceededError);
    await adapter.flush();
    const errored = (await all()).find((i) => i.kind === "agent_error")!;
    expect(errored.trigger).toMatchObject({ error: { name: "MaxTurnsExceededError", message: expect.stringContaining("Max turns (2) exceeded") } });
  });

  it("counts a span reported twice once", async () => {
    const before = (await all()).length;
    const span = { traceId: "trace_0123456789abcdef0123456789abcdef", spanId: "span_retried", parentId: "span_p", spanData: { type: "function", name: "crm_update", input: "{}" }, error: { message: "Error running tool", data: { error: "Error: hubspot 500" } } };
    await adapter.processor.onSpanEnd(span);
    await adapter.processor.onSpanEnd(span);
    await adapter.flush();
    const after = await all();
    expect(after.length).toBe(before + 1);
    expect(after[0]).toMatchObject({ occurrences: 1, trigger: { error: { message: "hubspot 500" } } });
  });

  it("never changes the run's outcome: a store that rejects every write", async () => {
    const failures: unknown[] = [];
    const broken = memoryStore();
    const down = createIncidents({ store: defineStore({ ...broken, ingest: async () => Promise.reject(new StorageError("test", "down")) }) });
    const failing = openAIAgentsIncidents(down.reporter({ workspaceId: "ws_acme", agentId: "agt_billing", environment: "production" }), { onError: (e) => failures.push(e) });
    addTraceProcessor(failing.processor);
    const agent = new Agent({ name: "billing", model: fakeModel([call("refund_create", { amount: 5, card: "x" }, "call_9"), say("sorry")]), tools: [refund] });
    const result = await new Runner().run(agent, "refund");
    expect(result.finalOutput).toBe("sorry");
    await failing.flush();
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toBeInstanceOf(StorageError);
    setTraceProcessors([adapter.processor]);
    await down.close();
  });
});
