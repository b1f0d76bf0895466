import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flapPercent, matches, MatcherSchema, NoiseOptionsSchema, type Incident, type NoiseState } from "agent-incidents";
import { groupOf, quietReason, sampleFlap, type Silence } from "../../src/core/noise.js";
import { decideGroup } from "../../src/core/grouping.js";
import { sampleIncident } from "./sample.js";

const calm: NoiseState = { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] };
const failure = (overrides: Partial<Incident> = {}) =>
  sampleIncident({
    kind: "execution_failed",
    trigger: { action: { type: "llm.complete" }, connector: { id: "con_openai", provider: "openai" }, error: { name: "E", message: "m", code: "rate_limited" } },
    ...overrides,
  });

describe("flap detection (Icinga 2's weighted state changes)", () => {
  it("weighs recent changes more: the newest sample counts 1.18, the oldest 0.8, out of 20", () => {
    expect(flapPercent([])).toBe(0);
    expect(flapPercent([1])).toBeCloseTo(1.18 / 20 * 100, 10);
    expect(flapPercent([1, ...Array(19).fill(0)])).toBeCloseTo(0.8 / 20 * 100, 10);
    expect(flapPercent(Array(20).fill(1))).toBeCloseTo(99, 10);
    // only the last 20 count
    expect(flapPercent([...Array(30).fill(1), ...Array(20).fill(0)])).toBe(0);
  });

  it("starts above high, stops below low, and keeps its state in between (hysteresis), for any samples", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 80 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (changes, a, b) => {
        const options = { low: Math.min(a, b), high: Math.max(a, b) };
        let state = calm;
        for (const changed of changes) {
          const before = state.flapping;
          state = sampleFlap(state, changed, options);
          const percent = flapPercent(state.samples);
          if (!before) expect(state.flapping).toBe(percent > options.high);
          else expect(state.flapping).toBe(percent >= options.low);
          expect(state.samples.length).toBeLessThanOrEqual(20);
        }
      }),
    );
  });

  it("is off with flapping: false", () => {
    expect(sampleFlap(calm, true, false)).toBe(calm);
  });
});

describe("matchers", () => {
  it("match when every given field matches; an array matches any of its values", () => {
    const incident = failure({ tags: ["team:payments", "tier=1"] });
    const m = (input: unknown) => matches(MatcherSchema.parse(input), incident);
    expect(m({})).toBe(true);
    expect(m({ connectors: "con_openai", errorCodes: ["timeout", "rate_limited"] })).toBe(true);
    expect(m({ connectors: "con_openai", agents: "agt_other" })).toBe(false);
    expect(m({ tags: { team: "payments", tier: "1" } })).toBe(true);
    expect(m({ tags: { team: "search" } })).toBe(false);
    expect(m({ policies: "pol_x" })).toBe(false);
  });

  it("refuse regexes, empty lists and unknown fields with messages naming them", () => {
    expect(MatcherSchema.safeParse({ agents: /a/ }).success).toBe(false);
    expect(MatcherSchema.safeParse({ agents: [] }).error?.issues[0]?.message).toMatch(/at least one value/);
    expect(MatcherSchema.safeParse({ agent: "a" }).error?.issues[0]?.code).toBe("unrecognized_keys");
    expect(MatcherSchema.safeParse({ tags: { "": "x" } }).success).toBe(false);
    const throwing = Object.defineProperty({}, "team", { enumerable: true, get: () => { throw new Error("boom"); } });
    expect(() => MatcherSchema.parse({ tags: throwing })).toThrow();
  });
});

describe("grouping rules", () => {
  const rules = NoiseOptionsSchema.parse({ groups: [{ name: "outage", by: ["connector.id", "error.code"], windowMs: 60_000 }] }).groups;

  it("key an incident by its `by` fields; an incident without one of them is not grouped", () => {
    expect(groupOf(rules, failure())?.key).toBe(JSON.stringify(["outage", "con_openai", "rate_limited"]));
    expect(groupOf(rules, failure({ agentId: "agt_other" }))?.key).toBe(groupOf(rules, failure())?.key);
    expect(groupOf(rules, sampleIncident())).toBeNull();
  });

  it("refuse two rules with one name and a window under a second", () => {
    expect(NoiseOptionsSchema.safeParse({ groups: [{ name: "a", by: ["kind"], windowMs: 1000 }, { name: "a", by: ["kind"], windowMs: 1000 }] }).success).toBe(false);
    expect(NoiseOptionsSchema.safeParse({ groups: [{ name: "a", by: ["kind"], windowMs: 10 }] }).success).toBe(false);
  });

  it("a group takes the most severe member's severity and names its agents, each once", () => {
    const rule = rules[0]!;
    const join = (member: Incident, existing: Incident | null) =>
      decideGroup({ rule, key: "k", values: { "connector.id": "con_openai", "error.code": "rate_limited" }, fingerprint: "f", member, now: "2026-01-01T00:01:00.000Z", incidentId: "inc_g", activityId: "act_1", actor: { type: "system", id: "grouping", role: null } }, existing);
    const first = join(failure({ severity: "medium", agentId: "agt_1" }), null);
    expect(first.outcome).toBe("created");
    const group = { ...first.incident, number: 9 } as Incident;
    const second = join(failure({ severity: "critical", agentId: "agt_2" }), group);
    expect([second.incident.severity, second.incident.occurrences, second.incident.group?.agents, second.incident.title]).toEqual([
      "critical",
      2,
      ["agt_1", "agt_2"],
      "con_openai rate_limited failing for 2 agents",
    ]);
    const again = join(failure({ severity: "low", agentId: "agt_2" }), second.incident as Incident);
    expect([again.incident.severity, again.incident.group?.agents, again.activity]).toEqual(["critical", ["agt_1", "agt_2"], null]);
  });
});

describe("why an incident is quiet", () => {
  const silence = (overrides: Partial<Silence> = {}): Silence => ({
    id: "sil_1",
    workspaceId: "ws_a",
    match: MatcherSchema.parse({ agents: "agt_a" }),
    startsAt: "2026-01-01T00:00:00.000Z",
    endsAt: "2026-01-01T01:00:00.000Z",
    untilResolved: null,
    comment: "c",
    createdBy: { type: "user", id: "u", role: "operator" },
    createdAt: "2026-01-01T00:00:00.000Z",
    expiredAt: null,
    expiredBy: null,
    ...overrides,
  });
  const none = { silences: [], sources: [] };

  it("answers in order: grouped, held, snoozed, flapping, silenced, inhibited", () => {
    const at = "2026-01-01T00:30:00.000Z";
    const all = failure({ groupId: "inc_g", noise: { ...calm, heldUntil: "2026-01-01T00:31:00.000Z", snoozedUntil: "2026-01-01T02:00:00.000Z", flapping: true } });
    expect(quietReason(all, at, { silences: [silence()], sources: [] }, [])?.kind).toBe("grouped");
    expect(quietReason({ ...all, groupId: null }, at, none, [])?.kind).toBe("held");
    expect(quietReason({ ...all, groupId: null, noise: { ...all.noise, heldUntil: null } }, at, none, [])?.kind).toBe("snoozed");
    expect(quietReason({ ...all, groupId: null, noise: { ...all.noise, heldUntil: null, snoozedUntil: null } }, at, none, [])?.kind).toBe("flapping");
    expect(quietReason(failure(), at, { silences: [silence()], sources: [] }, [])).toEqual({ kind: "silenced", silenceId: "sil_1" });
    // a silence is in force from startsAt up to (not at) endsAt
    expect(quietReason(failure(), "2026-01-01T01:00:00.000Z", { silences: [silence()], sources: [] }, [])).toBeNull();
    expect(quietReason(failure(), at, { silences: [silence({ expiredAt: at })], sources: [] }, [])).toBeNull();
  });

  it("inhibits only with equal fields, and never by the incident itself or a resolved source", () => {
    const rule = NoiseOptionsSchema.parse({ inhibit: [{ source: { kinds: "anomaly" }, target: { kinds: "execution_failed" }, equal: ["environment"] }] }).inhibit;
    const source = sampleIncident({ id: "inc_src", number: 12 });
    const at = "2026-01-01T00:30:00.000Z";
    expect(quietReason(failure(), at, { silences: [], sources: [source] }, rule)).toEqual({ kind: "inhibited", by: { id: "inc_src", number: 12 } });
    expect(quietReason(failure({ environment: "staging" }), at, { silences: [], sources: [source] }, rule)).toBeNull();
    expect(quietReason(failure(), at, { silences: [], sources: [{ ...source, status: "resolved" }] }, rule)).toBeNull();
    expect(quietReason(source, at, { silences: [], sources: [source] }, rule)).toBeNull();
  });
});
