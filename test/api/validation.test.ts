import { describe, expect, it } from "vitest";
import { createIncidents, ValidationError, type Operator } from "agent-incidents";
import { limitPolicy, refund, setup, stripe } from "./helpers.js";
import { written } from "agent-incidents/testing";

/** Asserts a ValidationError whose issues name `field`, and returns its message. */
async function rejectsNaming(promise: Promise<unknown>, field: string): Promise<string> {
  const error = await promise.then(
    () => expect.unreachable(`expected a ValidationError naming ${field}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  const issues = (error as ValidationError).issues.map((i) => i.path.join("."));
  expect(issues).toContain(field);
  expect((error as ValidationError).code).toBe("VALIDATION");
  return (error as Error).message;
}

describe("bad input is refused with a ValidationError naming the field, and writes nothing", () => {
  it("reporter methods", async () => {
    const { report, ops, incidents } = setup();
    await rejectsNaming(report.policyBlocked({ runId: "r", eventId: "e", action: { type: "" }, policy: limitPolicy }), "action.type");
    await rejectsNaming(report.policyBlocked({ runId: "r", eventId: "e", action: refund, policy: limitPolicy, impact: "huge" as never }), "impact");
    await rejectsNaming(report.executionFailed({ runId: "r", eventId: "e", action: refund, connector: { id: "c" } as never, error: { message: "x" } }), "connector.provider");
    await rejectsNaming(report.executionFailed({ runId: "r", eventId: "e", action: refund, connector: stripe, error: {} as never }), "error.message");
    await rejectsNaming(report.approvalRejected({ runId: "r", eventId: "e", action: refund, approval: { id: "a" } as never }), "approval.decidedBy");
    await rejectsNaming(report.anomaly({ runId: "", eventId: "e", pattern: "x" }), "runId");
    await rejectsNaming(report.anomaly({ runId: "r", eventId: "e", pattern: "x", traceId: "not-a-trace" }), "traceId");
    await rejectsNaming(report.anomaly({ runId: "r", eventId: "e", pattern: "x", context: { events: [{ id: "e", type: "t", at: "yesterday" }] } }), "context.events.0.at");
    await rejectsNaming(report.runEnded({ runId: "r", status: "errored" }), "error");
    await rejectsNaming(report.runEnded({ runId: "r", status: "crashed" as never }), "status");
    await rejectsNaming(report.anomaly(null as never), "runId");
    await rejectsNaming(incidents.report({ kind: "manual", title: "x" }), "kind");
    const message = await rejectsNaming(incidents.report({ kind: "policy_blocked", workspaceId: "ws_acme" }), "agentId");
    expect(message).toMatch(/^Invalid policy_blocked signal: /);
    expect((await ops.list()).items).toEqual([]);
  });

  it("reporter() and as() throw synchronously for a bad scope or actor", () => {
    const { incidents } = setup();
    expect(() => incidents.reporter({ workspaceId: "ws", agentId: "a" } as never)).toThrow(ValidationError);
    expect(() => incidents.reporter({ workspaceId: "ws", agentId: "a", environment: "prod" as never })).toThrow(/environment/);
    expect(() => incidents.as({ id: "u", role: "owner" as never, workspaceId: "ws" })).toThrow(/role/);
    expect(() => incidents.as({ id: "", role: "admin", workspaceId: "ws" })).toThrow(/id/);
  });

  it("operator methods reject (never throw) and leave the incident unchanged", async () => {
    const { report, ops } = setup();
    const { incident } = written(await report.anomaly({ runId: "r", eventId: "e", pattern: "x" }));
    const calls: Array<[string, (o: Operator) => Promise<unknown>]> = [
      ["id", (o) => o.get("")],
      ["note", (o) => o.resolve(incident.id, { note: " ", rootCause: "other" })],
      ["rootCause", (o) => o.resolve(incident.id, { note: "x", rootCause: "gremlins" as never })],
      ["actions.0", (o) => o.resolve(incident.id, { note: "x", rootCause: "other", actions: ["prayed" as never] })],
      ["severity", (o) => o.setSeverity(incident.id, "urgent" as never, "x")],
      ["reason", (o) => o.setSeverity(incident.id, "high", "")],
      ["note", (o) => o.addNote(incident.id, "")],
      ["expectedVersion", (o) => o.acknowledge(incident.id, { expectedVersion: 0 })],
      ["severity", (o) => o.list({ severity: "urgent" as never })],
      ["limit", (o) => o.list({ limit: 501 })],
      ["cursor", (o) => o.list({ cursor: "garbage" })],
      ["sort", (o) => o.list({ sort: "alphabetical" as never })],
      ["assignee", (o) => o.assign(incident.id, 42 as never)],
      ["reason", (o) => o.reopen(incident.id, "")],
      ["title", (o) => o.escalate({ title: "", severity: "high" })],
      ["severity", (o) => o.escalate({ title: "t" } as never)],
      ["since", (o) => o.stats({ since: "last tuesday" })],
      ["agentId", (o) => o.counts({ agentId: "" })],
    ];
    for (const [field, call] of calls) {
      let threw = false;
      let promise: Promise<unknown>;
      try {
        promise = call(ops);
      } catch {
        threw = true;
        promise = Promise.resolve();
      }
      expect(threw, `${field} threw synchronously`).toBe(false);
      await rejectsNaming(promise, field);
    }
    const after = await ops.get(incident.id);
    expect(after).toMatchObject({ version: 1, status: "open", severity: "medium" });
    expect(after.activity).toHaveLength(1);
    expect((await ops.list()).items).toHaveLength(1);
  });

  it("createIncidents refuses bad options", () => {
    expect(() => createIncidents({ store: {} as never })).toThrow(/store/);
    expect(() => createIncidents({ dedup: { reopenWithinMs: -1 } })).toThrow(/dedup.reopenWithinMs/);
    expect(() => createIncidents({ severityRules: [{ name: "x" } as never] })).toThrow(/severityRules.0/);
    expect(() => createIncidents({ runs: { load: () => null } as never })).toThrow(/runs: must be a RunSource/);
    expect(() => createIncidents({ redact: { keys: [42 as never] } })).toThrow(/redact/);
  });
});
