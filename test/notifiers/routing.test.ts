import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createIncidents, ValidationError, type Incident } from "agent-incidents";
import { callbackNotifier, routeMatches, type Notification, type NotificationEvent, type Route } from "agent-incidents/notifiers";
import { HOSTILE, incident as anIncident } from "./hostile.js";
import { until } from "./receiver.js";
import { written } from "agent-incidents/testing";

const SEVERITIES = ["critical", "high", "medium", "low"] as const;
const RANK = { critical: 3, high: 2, medium: 1, low: 0 } as const;
const EVENTS = ["created", "recurred", "acknowledged", "severity_changed", "updated", "resolved", "reopened"] as const;
const FOLLOW_UPS: ReadonlySet<NotificationEvent> = new Set(["acknowledged", "severity_changed", "updated", "resolved", "reopened"]);

/** The filters as the docs state them, written out independently of the library's matcher. */
function expected(filters: Omit<Route, "notifier">, event: NotificationEvent, incident: Incident): boolean {
  if (filters.minSeverity && RANK[incident.severity] < RANK[filters.minSeverity]) return false;
  if (filters.severities && !filters.severities.includes(incident.severity)) return false;
  if (filters.kinds && !filters.kinds.includes(incident.kind)) return false;
  if (filters.agents && !(incident.agentId && filters.agents.includes(incident.agentId))) return false;
  if (filters.environments && !filters.environments.includes(incident.environment)) return false;
  if (filters.workspaces && !filters.workspaces.includes(incident.workspaceId)) return false;
  if (filters.events && !filters.events.includes(event)) return false;
  return true;
}

const filtersArb = fc.record(
  {
    minSeverity: fc.constantFrom(...SEVERITIES),
    severities: fc.uniqueArray(fc.constantFrom(...SEVERITIES), { minLength: 1 }),
    kinds: fc.uniqueArray(fc.constantFrom("policy_blocked", "execution_failed", "approval_rejected", "agent_error", "anomaly", "manual"), { minLength: 1 }),
    agents: fc.uniqueArray(fc.constantFrom("agt_a", "agt_b", "agt_c"), { minLength: 1 }),
    events: fc.uniqueArray(fc.constantFrom(...EVENTS), { minLength: 1 }),
  },
  { requiredKeys: [] },
);

const stepArb = fc.oneof(
  fc.record({ do: fc.constant("report" as const), kind: fc.constantFrom("anomaly", "failure", "rejection", "error"), agent: fc.constantFrom("agt_a", "agt_b"), fp: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ do: fc.constantFrom("acknowledge" as const, "resolve" as const, "note" as const, "reopen" as const, "critical" as const), pick: fc.nat() }),
);

describe("routes and digests deliver exactly what their filters say", () => {
  it("for random routes (some digests) and random incidents and changes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(filtersArb, fc.boolean()), { minLength: 1, maxLength: 4 }), fc.array(stepArb, { minLength: 1, maxLength: 25 }), async (routeSpecs, steps) => {
        const filters = routeSpecs.map(([f]) => f);
        const digested = routeSpecs.map(([, digest]) => digest);
        const got = filters.map(() => [] as Notification[]);
        const routes = filters.map((f, i) => ({
          ...f,
          recurredEveryMs: 0,
          ...(digested[i] ? { digest: { everyMs: 60_000 } } : {}),
          notifier: callbackNotifier(async (batch) => void got[i]!.push(...batch), { name: `route${i}` }),
        }));
        const incidents = createIncidents({ routes, noise: { flapping: false } }); // flap detection holds notifications back: tested on its own (test/noise)
        const changes: Array<{ event: NotificationEvent; incident: Incident }> = [];
        const ops = incidents.as({ id: "usr", role: "operator", workspaceId: "ws" });
        let n = 0;
        for (const step of steps) {
          n += 1;
          if (step.do === "report") {
            const report = incidents.reporter({ workspaceId: "ws", agentId: step.agent, environment: "development" });
            const base = { runId: "r", eventId: `e${n}` };
            const action = { type: `act${step.fp}` };
            const result =
              step.kind === "anomaly" ? written(await report.anomaly({ ...base, pattern: `p${step.fp}` }))
              : step.kind === "failure" ? written(await report.executionFailed({ ...base, action, connector: { id: "c", provider: "stripe" }, error: { message: "x" } }))
              : step.kind === "rejection" ? written(await report.approvalRejected({ ...base, action, approval: { id: `a${n}`, decidedBy: "usr" } }))
              : written(await report.runEnded({ runId: `r${step.fp}`, eventId: `e${n}`, status: "errored", error: { name: `E${step.fp}`, message: "x" } }));
            if (result && result.outcome !== "duplicate") changes.push({ event: result.outcome, incident: result.incident });
            continue;
          }
          const { items } = await ops.list({ limit: 100 });
          const target = items[step.pick % Math.max(1, items.length)];
          if (!target) continue;
          const change = await (async (): Promise<[NotificationEvent, Incident] | null> => {
            try {
              if (step.do === "acknowledge") return ["acknowledged", await ops.acknowledge(target.id)];
              if (step.do === "resolve") return ["resolved", await ops.resolve(target.id, { note: "done", rootCause: "other" })];
              if (step.do === "reopen") return ["reopened", await ops.reopen(target.id)];
              if (step.do === "note") return ["updated", await ops.addNote(target.id, "note")];
              const updated = await ops.setSeverity(target.id, "critical", "worse");
              return updated.version === target.version ? null : ["severity_changed", updated];
            } catch {
              return null; // a transition the lifecycle does not allow: no change, no notification
            }
          })();
          if (change) changes.push({ event: change[0], incident: change[1] });
        }
        // a route gets what its filters match, and the follow-ups of any incident it heard of before
        // (whatever the incident's fields by then; its `events` filter still applies)
        const matching = filters.map((f) => {
          const heard = new Set<string>();
          return changes.filter((c) => {
            const followUp = FOLLOW_UPS.has(c.event) && (!f.events || (f.events as readonly NotificationEvent[]).includes(c.event)) && heard.has(c.incident.id);
            const sent = expected(f, c.event, c.incident) || followUp;
            if (sent) heard.add(c.incident.id);
            return sent;
          });
        });
        // a plain route gets each matching change; a digest route gets, at close, one digest with
        // the latest state of each incident that had a matching change
        const want = matching.map((m, i) =>
          digested[i] ? [...new Set(m.map((c) => c.incident.id))].sort() : m.map((c) => `incident.${c.event} ${c.incident.id} v${c.incident.version}`),
        );
        await until(() => got.every((g, i) => digested[i] || g.length >= want[i]!.length), 5000);
        await incidents.close();
        const seen = got.map((g, i) =>
          digested[i]
            ? g.flatMap((x) => ("incidents" in x.data ? x.data.incidents.map((incident) => incident.id) : [`unexpected ${x.type}`])).sort()
            : g.map((x) => `${x.type} ${"incident" in x.data ? `${x.data.incident.id} v${x.data.incident.version}` : ""}`),
        );
        expect(seen).toEqual(want);
        for (const [i, g] of got.entries()) if (digested[i]) expect(g.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 40 },
    );
  });
});

describe("digests", () => {
  it("batch matching notifications into one incident.digest per interval, and close() flushes the rest", async () => {
    const batches: Notification[][] = [];
    const incidents = createIncidents({
      routes: [{ notifier: callbackNotifier(async (batch) => void batches.push([...batch]), { name: "review" }), severities: ["low"], digest: { everyMs: 1000 } }],
    });
    const report = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "development" });
    for (let i = 0; i < 3; i++) written(await report.runEnded({ runId: `r${i}`, status: "errored", error: { name: `E${i}`, message: "x" } }));
    written(await report.executionFailed({ runId: "r", eventId: "e", action: { type: "t" }, connector: { id: "c", provider: "p" }, error: { message: "critical, not for the digest" } }));
    await until(() => batches.length === 1, 3000);
    expect(batches[0]).toHaveLength(1);
    expect(batches[0]![0]).toMatchObject({ type: "incident.digest" });
    const digest = batches[0]![0]!.data as { incidents: Incident[] };
    expect(digest.incidents.map((i) => i.title)).toEqual(["Run ended in error: E0: x", "Run ended in error: E1: x", "Run ended in error: E2: x"]);
    written(await report.runEnded({ runId: "r9", status: "errored", error: { name: "E9", message: "x" } }));
    await incidents.close();
    expect(batches).toHaveLength(2);
    expect((batches[1]![0]!.data as { incidents: Incident[] }).incidents).toHaveLength(1);
  });

  it("sends a recurring incident's recurrence at most once per interval", async () => {
    const types: string[] = [];
    const incidents = createIncidents({ routes: [{ notifier: callbackNotifier(async (batch) => void types.push(...batch.map((n) => n.type)), { name: "cb" }) }] });
    const report = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "development" });
    for (let i = 0; i < 10; i++) written(await report.anomaly({ runId: "r", eventId: `e${i}`, pattern: "same" }));
    await until(() => types.length >= 2);
    await incidents.close();
    // created, then the third occurrence raises severity to high (the repeat floor): sent; the rest are throttled
    expect(types).toEqual(["incident.created", "incident.recurred"]);
  });
});

describe("route validation", () => {
  it("refuses two different notifiers with one name, and bad filters", () => {
    const a = callbackNotifier(async () => undefined, { name: "same" });
    const b = callbackNotifier(async () => undefined, { name: "same" });
    expect(() => createIncidents({ routes: [{ notifier: a }, { notifier: b }] })).toThrow(/routes\.1\.notifier\.name: "same" names two different notifiers/);
    expect(() => createIncidents({ routes: [{ notifier: a }, { notifier: a, minSeverity: "high" }] })).not.toThrow();
    expect(() => createIncidents({ routes: [{ notifier: a, events: ["exploded" as never] }] })).toThrow(/routes\.0\.events\.0/);
    expect(() => createIncidents({ routes: [{ notifier: { name: "x" } as never }] })).toThrow(/must be a Notifier/);
    expect(() => createIncidents({ routes: [{ notifier: a, digest: { everyMs: 5 } }] })).toThrow(/digest\.everyMs/);
  });
});

describe("routes by environment and workspace", () => {
  const notifier = callbackNotifier(async () => undefined, { name: "cb" });
  const ENVIRONMENTS = ["production", "staging", "development", "test"] as const;
  const WORKSPACES = ["ws_a", "ws_b", HOSTILE.mention, "ws_\uD83D\uDE00"] as const;

  it("routeMatches sends an incident only where its environment and workspace are listed", () => {
    const route: Route = { notifier, environments: ["production", "staging"], workspaces: ["ws_a", HOSTILE.mention] };
    expect(routeMatches(route, "created", anIncident({ environment: "production", workspaceId: "ws_a" }))).toBe(true);
    expect(routeMatches(route, "created", anIncident({ environment: "staging", workspaceId: HOSTILE.mention }))).toBe(true);
    expect(routeMatches(route, "created", anIncident({ environment: "development", workspaceId: "ws_a" }))).toBe(false);
    expect(routeMatches(route, "created", anIncident({ environment: "production", workspaceId: "ws_b" }))).toBe(false);
    expect(routeMatches(route, "created", anIncident({ environment: "production", workspaceId: "<!channel> " }))).toBe(false);
    expect(routeMatches({ notifier }, "created", anIncident({ environment: "test", workspaceId: "anything" }))).toBe(true);
  });

  it("routeMatches agrees with the documented filters for every combination", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            minSeverity: fc.constantFrom(...SEVERITIES),
            kinds: fc.uniqueArray(fc.constantFrom("policy_blocked", "execution_failed", "anomaly"), { minLength: 1 }),
            agents: fc.uniqueArray(fc.constantFrom("agt_a", "agt_b"), { minLength: 1 }),
            environments: fc.uniqueArray(fc.constantFrom(...ENVIRONMENTS), { minLength: 1 }),
            workspaces: fc.uniqueArray(fc.constantFrom(...WORKSPACES), { minLength: 1 }),
            events: fc.uniqueArray(fc.constantFrom(...EVENTS), { minLength: 1 }),
          },
          { requiredKeys: [] },
        ),
        fc.record({
          severity: fc.constantFrom(...SEVERITIES),
          kind: fc.constantFrom("policy_blocked", "execution_failed", "anomaly", "manual"),
          agentId: fc.constantFrom("agt_a", "agt_b", null),
          environment: fc.constantFrom(...ENVIRONMENTS),
          workspaceId: fc.constantFrom(...WORKSPACES, "ws_other"),
        }),
        fc.constantFrom(...EVENTS),
        (filters, fields, event) => {
          const subject = anIncident(fields);
          expect(routeMatches({ notifier, ...filters }, event, subject)).toBe(expected(filters, event, subject));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("are validated: createIncidents({ routes }) says which value is wrong", () => {
    const invalid = (filters: Record<string, unknown>): ValidationError => {
      try {
        createIncidents({ routes: [{ notifier, ...filters } as Route] });
      } catch (error) {
        if (error instanceof ValidationError) return error;
        throw error;
      }
      throw new Error(`accepted ${JSON.stringify(filters)}`);
    };
    expect(invalid({ environments: [] }).message).toMatch(/routes\.0\.environments: /);
    expect(invalid({ environments: ["prod"] }).message).toMatch(/routes\.0\.environments\.0: .*"production"\|"staging"\|"development"\|"test"/);
    expect(invalid({ environments: "production" }).message).toMatch(/routes\.0\.environments: /);
    expect(invalid({ workspaces: [] }).message).toMatch(/routes\.0\.workspaces: /);
    expect(invalid({ workspaces: ["ws\u0000"] }).message).toMatch(/routes\.0\.workspaces\.0: must not contain NUL or unpaired surrogate characters/);
    expect(invalid({ workspaces: ["ws\uD800"] }).message).toMatch(/routes\.0\.workspaces\.0: must not contain NUL/);
    expect(invalid({ workspaces: ["x".repeat(201)] }).message).toMatch(/routes\.0\.workspaces\.0: must be at most 200 characters/);
    expect(invalid({ workspaces: ["  "] }).message).toMatch(/routes\.0\.workspaces\.0: must not be empty/);
    expect(invalid({ workspaces: Array.from({ length: 1001 }, (_, i) => `ws_${i}`) }).message).toMatch(/routes\.0\.workspaces: /);
    expect(invalid({ workspaces: [42] }).message).toMatch(/routes\.0\.workspaces\.0: /);
  });

  it("accepts every environment and up to 1000 workspaces", async () => {
    const incidents = createIncidents({
      routes: [{ notifier, environments: ["production", "staging", "development", "test"], workspaces: Array.from({ length: 1000 }, (_, i) => `ws_${i}`) }],
    });
    await incidents.close();
  });
});
