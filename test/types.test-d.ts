import { describe, expectTypeOf, it } from "vitest";
import {
  createIncidents,
  defineStore,
  type Counts,
  type Incident,
  type IncidentDetail,
  type IncidentStore,
  type ListedIncident,
  type QuietReason,
  type Page,
  type ReportOutcome,
  type Severity,
} from "agent-incidents";

describe("public types", () => {
  const incidents = createIncidents();
  const report = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" });
  const ops = incidents.as({ id: "usr", role: "operator", workspaceId: "ws" });

  it("reporter methods resolve to { incident, outcome }, or a spooled report without one; runEnded may be null", () => {
    type Result = { incident: Incident; outcome: ReportOutcome } | { incident: null; outcome: "spooled" };
    expectTypeOf(report.anomaly).returns.resolves.toEqualTypeOf<Result>();
    expectTypeOf(report.runEnded).returns.resolves.toEqualTypeOf<Result | null>();
    expectTypeOf<ReportOutcome>().toEqualTypeOf<"created" | "recurred" | "reopened" | "duplicate">();
    // narrowing on outcome gives the incident
    const narrow = (result: Result) => (result.outcome === "spooled" ? null : result.incident);
    expectTypeOf(narrow).returns.toEqualTypeOf<Incident | null>();
  });

  it("operator reads and mutations have the documented shapes", () => {
    expectTypeOf(ops.list).returns.resolves.toEqualTypeOf<Page<ListedIncident>>();
    expectTypeOf<ListedIncident["quiet"]>().toEqualTypeOf<QuietReason | null>();
    expectTypeOf(ops.get).returns.resolves.toEqualTypeOf<IncidentDetail>();
    expectTypeOf(ops.counts).returns.resolves.toEqualTypeOf<Counts>();
    expectTypeOf(ops.resolve).returns.resolves.toEqualTypeOf<Incident>();
    expectTypeOf<Incident["severity"]>().toEqualTypeOf<Severity>();
    expectTypeOf<Incident["status"]>().toEqualTypeOf<"open" | "acknowledged" | "investigating" | "resolved">();
  });

  it("rejects malformed calls at compile time", () => {
    // @ts-expect-error severity must be one of the four
    void ops.list({ severity: "urgent" });
    // @ts-expect-error a resolution needs a root cause
    void ops.resolve("inc_1", { note: "done" });
    // @ts-expect-error environment is required
    void incidents.reporter({ workspaceId: "ws", agentId: "agt" });
  });

  it("defineStore keeps the store's own type", () => {
    expectTypeOf(defineStore<IncidentStore & { extra: 1 }>).returns.toHaveProperty("extra");
  });
});
