import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canTransition,
  InvalidTransitionError,
  nextStatuses,
  STATUSES,
  TRANSITIONS,
  type Incident,
  type Operation,
  type Status,
} from "agent-incidents";
// the engine's pure operation step, not part of the public API
import { applyOperation } from "../../src/core/operations.js";
import { sampleIncident } from "./sample.js";

const user = { type: "user" as const, id: "usr_ana", role: "operator" as const };

describe("status lifecycle", () => {
  it("follows the table: open -> acknowledged -> investigating -> resolved, and resolved -> open", () => {
    expect(nextStatuses("open")).toEqual(["acknowledged", "investigating", "resolved"]);
    expect(nextStatuses("acknowledged")).toEqual(["investigating", "resolved"]);
    expect(nextStatuses("investigating")).toEqual(["resolved"]);
    expect(nextStatuses("resolved")).toEqual(["open"]);
    expect(canTransition("investigating", "acknowledged")).toBe(false);
    expect(canTransition("resolved", "acknowledged")).toBe(false);
    expect(canTransition("open", "open")).toBe(false);
  });

  it("names the allowed statuses when a transition is refused", () => {
    const incident = { ...sampleIncident(), status: "investigating" as const };
    try {
      applyOperation(incident, { type: "acknowledge" }, { actor: user, now: "2026-01-01T00:00:00.000Z", activityId: "act_1" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTransitionError);
      expect(error).toMatchObject({ code: "INVALID_TRANSITION", from: "investigating", to: "acknowledged", allowed: ["resolved"] });
      expect((error as Error).message).toContain("it can move to: resolved");
    }
  });

  const operation: fc.Arbitrary<Operation> = fc.oneof(
    fc.constant({ type: "acknowledge" as const }),
    fc.constant({ type: "startInvestigating" as const }),
    fc.constantFrom("usr_a", "usr_b", null).map((assignee) => ({ type: "assign" as const, assignee })),
    fc.constant({ type: "addNote" as const, note: "looked at it" }),
    fc.constantFrom("critical", "high", "medium", "low").map((severity) => ({ type: "setSeverity" as const, severity, reason: "operator call" })),
    fc.constant<Operation>({ type: "resolve", resolution: { note: "fixed", rootCause: "agent_bug", actions: [], systemic: false } }),
    fc.constant({ type: "reopen" as const, reason: null }),
  );
  const targetOf: Partial<Record<Operation["type"], Status>> = {
    acknowledge: "acknowledged",
    startInvestigating: "investigating",
    resolve: "resolved",
    reopen: "open",
  };

  it("never reaches a transition outside the table, and every change bumps version with one activity entry", () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (ops) => {
        let incident: Incident = sampleIncident();
        let activity = 1;
        for (const [i, op] of ops.entries()) {
          const before = incident;
          const ctx = { actor: user, now: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), activityId: `act_${i}` };
          let result: ReturnType<typeof applyOperation> = null;
          try {
            result = applyOperation(before, op, ctx);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidTransitionError);
            expect(canTransition(before.status, targetOf[op.type]!)).toBe(false);
            continue;
          }
          if (result === null) continue;
          if (result.incident.status !== before.status) {
            expect(TRANSITIONS[before.status]).toContain(result.incident.status);
          }
          expect(result.incident.version).toBe(before.version + 1);
          expect(result.activity?.version).toBe(result.incident.version);
          activity += 1;
          incident = result.incident;
          expect(incident.version).toBe(activity);
          expect(STATUSES).toContain(incident.status);
          if (incident.status === "resolved") expect(incident.resolution).not.toBeNull();
          else expect(incident.resolution).toBeNull();
        }
      }),
    );
  });

  it("treats assigning the current assignee and setting the current severity as no-ops", () => {
    const incident = { ...sampleIncident(), assignee: "usr_a", severity: "high" as const };
    const ctx = { actor: user, now: "2026-01-01T00:00:00.000Z", activityId: "act_1" };
    expect(applyOperation(incident, { type: "assign", assignee: "usr_a" }, ctx)).toBeNull();
    expect(applyOperation(incident, { type: "setSeverity", severity: "high", reason: "same" }, ctx)).toBeNull();
  });

  it("clears resolution, resolvedAt, acknowledgedAt and the severity pin on reopen", () => {
    const resolved: Incident = {
      ...sampleIncident(),
      status: "resolved",
      severityPinned: true,
      acknowledgedAt: "2026-01-01T00:01:00.000Z",
      resolvedAt: "2026-01-01T00:02:00.000Z",
      resolution: { note: "done", rootCause: "other", actions: [], systemic: false },
    };
    const result = applyOperation(resolved, { type: "reopen", reason: "came back" }, { actor: user, now: "2026-01-01T01:00:00.000Z", activityId: "act_9" });
    expect(result?.incident).toMatchObject({ status: "open", resolution: null, resolvedAt: null, acknowledgedAt: null, severityPinned: false });
    expect(result?.activity?.before).toMatchObject({ resolution: { note: "done" } });
  });
});
