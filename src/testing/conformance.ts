import { ConflictError, InvalidTransitionError, NotFoundError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import { SEVERITIES, STATUSES } from "../core/schemas.js";
import { createIncidents, type Incidents } from "../incidents.js";
import type { IncidentStore } from "../stores/contract.js";
import { fakeClock, type FakeClock } from "./fake-clock.js";
import { createFixtures } from "./fixtures.js";
import { vitest } from "./vitest.js";
import { describeNoiseConformance } from "./noise-conformance.js";
import { describeOutboxConformance } from "./outbox-conformance.js";
import { written } from "./written.js";

/** Switches for {@link describeStoreConformance}. */
export interface ConformanceOptions {
  /** How many reports of one fingerprint to fire at once in the concurrency test (default 40). */
  concurrentReports?: number;
  /** Skip the concurrency tests, for a store that does not claim them (default false). */
  skipConcurrency?: boolean;
  /** Per-test timeout in ms, for stores over a network (default 20 000). */
  timeoutMs?: number;
}

const HOUR = 60 * 60 * 1000;



/**
 * The store conformance suite, for vitest. Call it at the top level of a test file with a factory
 * that returns a fresh, empty store for each test. Every test goes through `createIncidents`, as
 * users meet the store.
 *
 * @example
 * ```ts
 * import { describeStoreConformance } from "agent-incidents/testing";
 * import { myStore } from "../src/my-store.js";
 *
 * describeStoreConformance("my-store", () => myStore({ url: process.env.MY_URL }));
 * ```
 */
export function describeStoreConformance(
  name: string,
  factory: () => IncidentStore | Promise<IncidentStore>,
  options: ConformanceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 20_000;
  const { afterEach, beforeEach, describe, expect, it } = vitest("describeStoreConformance");

  describe(`IncidentStore conformance: ${name}`, { timeout }, () => {
    let store: IncidentStore;
    let clock: FakeClock;
    let incidents: Incidents;
    const signals = createFixtures({ workspaceId: "ws_a" });
    const report = async (signal: unknown) => written(await incidents.report(signal));
    const ops = () => incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_a" });

    beforeEach(async () => {
      store = await factory();
      clock = fakeClock("2026-03-01T12:00:00.000Z");
      // without the spool: a store's retryable error must fail the test, not wait in the spool
      incidents = createIncidents({ store, clock, spool: false });
    });

    afterEach(async () => {
      await incidents.close();
    });

    /** Reports `n` distinct incidents (one per policy), a minute apart, returning them in order. */
    const seed = async (n: number, overrides: Parameters<typeof signals.policyBlocked>[0] = {}): Promise<Incident[]> => {
      const out: Incident[] = [];
      for (let i = 0; i < n; i++) {
        clock.advance(60_000);
        const impact = (["low", "high", "medium", "critical"] as const)[i % 4];
        const { incident } = await report(
          signals.policyBlocked({ policy: { id: `pol_${i}`, name: `Policy ${i}`, effect: "block" }, impact, ...overrides }),
        );
        out.push(incident);
      }
      return out;
    };

    it("round-trips an incident with its activity, occurrence and snapshot", async () => {
      const signal = signals.executionFailed({
        context: { events: [{ id: "e0", type: "tool.call", at: "2026-03-01T11:59:00.000Z" }], data: { customer: "cus_1", password: "hunter2" } },
      });
      const { incident, outcome } = await report(signal);
      expect(outcome).toBe("created");
      const detail = await ops().get(incident.id);
      expect(detail).toMatchObject({ ...incident, occurrences: 1, version: 1, number: 1 });
      expect(detail.activity.map((a) => a.type)).toEqual(["created"]);
      expect(detail.occurrenceLog).toEqual([
        { incidentId: incident.id, runId: signal.runId, eventId: signal.eventId, traceId: null, at: incident.createdAt },
      ]);
      const context = await ops().context(incident.id);
      expect(context.snapshot?.events.map((e) => e.id)).toEqual(["e0"]);
      expect(context.snapshot?.data).toEqual({ customer: "cus_1", password: "[REDACTED]" });
    });

    it("numbers incidents per workspace from 1 without gaps", async () => {
      const other = createFixtures({ workspaceId: "ws_b" });
      const a1 = await report(signals.approvalRejected());
      const b1 = await report(other.approvalRejected());
      const a2 = await report(signals.approvalRejected());
      expect([a1.incident.number, a2.incident.number, b1.incident.number]).toEqual([1, 2, 1]);
    });

    it("filters by severity, status, kind, agent and run; a filter left out matches everything", async () => {
      const seeded = await seed(8);
      await report(signals.anomaly({ agentId: "agt_other", runId: "run_x" }));
      await ops().acknowledge(seeded[0]!.id);
      await ops().resolve(seeded[1]!.id, { note: "fixed", rootCause: "policy_issue" });
      const all = await ops().list();
      expect(all.items).toHaveLength(9);
      const ids = async (q: Parameters<ReturnType<typeof ops>["list"]>[0]) => (await ops().list(q)).items.map((i) => i.id).sort();
      const where = async (pred: (i: Incident) => boolean) => all.items.filter(pred).map((i) => i.id).sort();
      expect(await ids({ severity: "critical" })).toEqual(await where((i) => i.severity === "critical"));
      expect(await ids({ severity: ["critical", "medium"], status: ["open"] })).toEqual(
        await where((i) => (i.severity === "critical" || i.severity === "medium") && i.status === "open"),
      );
      expect(await ids({ status: "resolved" })).toEqual([seeded[1]!.id]);
      expect(await ids({ status: "acknowledged" })).toEqual([seeded[0]!.id]);
      expect(await ids({ kind: "anomaly" })).toEqual(await where((i) => i.kind === "anomaly"));
      expect(await ids({ agentId: "agt_other" })).toEqual(await where((i) => i.agentId === "agt_other"));
      expect(await ids({ agentId: ["agt_other", "agt_test"] })).toHaveLength(9);
      expect(await ids({ runId: "run_x" })).toEqual(await where((i) => i.runId === "run_x"));
    });

    it("sorts by severity then recency by default, or by recency; ties go to the higher number", async () => {
      const seeded = await seed(8);
      const bySeverity = (await ops().list()).items;
      const expected = [...seeded].sort(
        (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || b.lastSeenAt.localeCompare(a.lastSeenAt) || b.number - a.number,
      );
      expect(bySeverity.map((i) => i.number)).toEqual(expected.map((i) => i.number));
      const byRecency = (await ops().list({ sort: "recency" })).items;
      expect(byRecency.map((i) => i.number)).toEqual([...seeded].reverse().map((i) => i.number));
      const tied = [await report(signals.approvalRejected()), await report(signals.approvalRejected())];
      const top = (await ops().list({ sort: "recency", limit: 2 })).items;
      expect(top.map((i) => i.number)).toEqual(tied.map((t) => t.incident.number).reverse());
    });

    it("pages with cursors without gaps or repeats, also while new incidents arrive", async () => {
      const seeded = await seed(23);
      for (const sort of ["severity", "recency"] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await ops().list({ sort, limit: 5, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((i) => i.id));
          cursor = page.nextCursor ?? undefined;
          pages++;
          await report(signals.approvalRejected());
        } while (cursor);
        const original = new Set(seeded.map((i) => i.id));
        const fromOriginal = seen.filter((id) => original.has(id));
        expect(new Set(seen).size).toBe(seen.length);
        expect(fromOriginal.sort()).toEqual([...original].sort());
        expect(pages).toBeGreaterThanOrEqual(5);
      }
    });

    it("counts every severity x status cell, zero-filled, overall and per agent", async () => {
      const seeded = await seed(4);
      await report(signals.anomaly({ agentId: "agt_other" }));
      await ops().acknowledge(seeded[1]!.id);
      const counts = await ops().counts();
      for (const severity of SEVERITIES) expect(Object.keys(counts[severity]).sort()).toEqual([...STATUSES].sort());
      const total = SEVERITIES.reduce((sum, s) => sum + STATUSES.reduce((n, st) => n + counts[s][st], 0), 0);
      expect(total).toBe(5);
      expect(counts[seeded[1]!.severity].acknowledged).toBe(1);
      const other = await ops().counts({ agentId: "agt_other" });
      expect(other.medium.open).toBe(1);
      expect(SEVERITIES.reduce((sum, s) => sum + other[s].open, 0)).toBe(1);
      const none = await ops().counts({ agentId: "agt_nobody" });
      expect(none.critical.open).toBe(0);
    });

    it("merges recurrences into occurrences and treats a retried (runId, eventId) as a duplicate", async () => {
      const first = signals.executionFailed();
      const a = await report(first);
      clock.advance(1000);
      const b = await report(signals.executionFailed({ runId: "run_2" }));
      const retry = await report(first);
      expect([a.outcome, b.outcome, retry.outcome]).toEqual(["created", "recurred", "duplicate"]);
      expect(b.incident.id).toBe(a.incident.id);
      expect(retry.incident.id).toBe(a.incident.id);
      const detail = await ops().get(a.incident.id);
      expect(detail.occurrences).toBe(2);
      expect(detail.occurrenceLog.map((o) => o.runId)).toEqual(["run_1", "run_2"]);
      expect(detail.lastSeenAt).toBe(b.incident.lastSeenAt);
      expect(detail.version).toBe(1);
    });

    it("never merges approvals; reopens within the window and starts afresh after it", async () => {
      const a1 = await report(signals.approvalRejected());
      const a2 = await report(signals.approvalRejected());
      expect(a2.incident.id).not.toBe(a1.incident.id);

      const { incident } = await report(signals.anomaly());
      await ops().resolve(incident.id, { note: "noise", rootCause: "external" });
      clock.advance(2 * HOUR);
      const reopened = await report(signals.anomaly());
      expect(reopened.outcome).toBe("reopened");
      expect(reopened.incident).toMatchObject({ id: incident.id, status: "open", resolution: null, resolvedAt: null, occurrences: 2 });
      await ops().resolve(incident.id, { note: "noise again", rootCause: "external" });
      clock.advance(25 * HOUR);
      const fresh = await report(signals.anomaly());
      expect(fresh.outcome).toBe("created");
      expect(fresh.incident.id).not.toBe(incident.id);
    });

    it("keeps the activity in order, one entry per version", async () => {
      const { incident } = await report(signals.policyBlocked({ impact: "low" }));
      await ops().acknowledge(incident.id);
      await ops().assign(incident.id, "usr_bo");
      await ops().addNote(incident.id, "looking");
      await ops().setSeverity(incident.id, "high", "customer impact");
      await ops().startInvestigating(incident.id);
      await ops().resolve(incident.id, { note: "raised the limit", rootCause: "policy_issue", actions: ["policy_updated"] });
      await ops().reopen(incident.id, "came back");
      const detail = await ops().get(incident.id);
      expect(detail.activity.map((a) => a.type)).toEqual([
        "created", "acknowledged", "assigned", "note_added", "severity_changed", "status_changed", "resolved", "reopened",
      ]);
      expect(detail.activity.map((a) => a.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(detail.version).toBe(8);
      expect(detail.activity[6]!.after).toMatchObject({ resolution: { note: "raised the limit", rootCause: "policy_issue" } });
    });

    it("rejects a stale expectedVersion with ConflictError and writes nothing", async () => {
      const { incident } = await report(signals.agentError());
      await ops().acknowledge(incident.id, { expectedVersion: 1 });
      await expect(ops().addNote(incident.id, "late", { expectedVersion: 1 })).rejects.toBeInstanceOf(ConflictError);
      await expect(ops().resolve(incident.id, { note: "x", rootCause: "other", expectedVersion: 1 })).rejects.toBeInstanceOf(ConflictError);
      const detail = await ops().get(incident.id);
      expect(detail.version).toBe(2);
      expect(detail.activity).toHaveLength(2);
      expect(detail.status).toBe("acknowledged");
    });

    it("rejects a transition outside the lifecycle and writes nothing", async () => {
      const { incident } = await report(signals.agentError());
      await ops().startInvestigating(incident.id);
      await expect(ops().acknowledge(incident.id)).rejects.toBeInstanceOf(InvalidTransitionError);
      expect((await ops().get(incident.id)).version).toBe(2);
    });

    it("isolates workspaces: another workspace's incident is not found and not listed", async () => {
      const { incident } = await report(signals.agentError());
      const outsider = incidents.as({ id: "usr_eve", role: "admin", workspaceId: "ws_b" });
      await expect(outsider.get(incident.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(outsider.resolve(incident.id, { note: "x", rootCause: "other" })).rejects.toBeInstanceOf(NotFoundError);
      expect((await outsider.list()).items).toEqual([]);
      expect((await outsider.counts()).high.open).toBe(0);
      expect((await ops().get(incident.id)).status).toBe("open");
    });

    it.skipIf(options.skipConcurrency)("makes one incident with the exact count from many concurrent reports of one fingerprint", async () => {
      const n = options.concurrentReports ?? 40;
      const reports = Array.from({ length: n }, (_, i) => signals.executionFailed({ runId: `run_${i}`, eventId: `evt_c${i}` }));
      const retries = reports.slice(0, 5);
      const results = await Promise.all([...reports, ...retries].map((s) => report(s)));
      expect(new Set(results.map((r) => r.incident.id)).size).toBe(1);
      expect(results.filter((r) => r.outcome === "created")).toHaveLength(1);
      expect(results.filter((r) => r.outcome === "duplicate")).toHaveLength(5);
      const detail = await ops().get(results[0]!.incident.id);
      expect(detail.occurrences).toBe(n);
      expect(detail.occurrenceLog).toHaveLength(n);
      expect((await ops().list()).items).toHaveLength(1);
    });

    it.skipIf(options.skipConcurrency)("numbers incidents created concurrently 1..n without gaps or repeats", async () => {
      const n = 30;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => report(signals.agentError({ error: { name: `Error${i}`, message: "boom" } }))),
      );
      expect(results.every((r) => r.outcome === "created")).toBe(true);
      expect(results.map((r) => r.incident.number).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect((await ops().counts()).high.open).toBe(n);
    });

    it.skipIf(options.skipConcurrency)("lets exactly one of two concurrent resolves win", async () => {
      const { incident } = await report(signals.agentError());
      const outcomes = await Promise.allSettled([
        ops().resolve(incident.id, { note: "note one", rootCause: "agent_bug" }),
        ops().resolve(incident.id, { note: "note two", rootCause: "external" }),
      ]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const failed = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
      expect(failed.reason).toBeInstanceOf(InvalidTransitionError);
      const detail = await ops().get(incident.id);
      expect(detail.activity.filter((a) => a.type === "resolved")).toHaveLength(1);
      expect(detail.resolution?.note).toBe(detail.activity.at(-1)!.message);
    });

    it("reads the period's incidents for stats", async () => {
      await seed(3);
      clock.advance(1000);
      const since = clock.now().toISOString();
      clock.advance(1000);
      const later = await report(signals.anomaly());
      await ops().acknowledge(later.incident.id);
      const stats = await ops().stats({ since });
      expect(stats.total).toBe(1);
      expect(stats.byKind.anomaly).toBe(1);
      expect((await ops().stats()).total).toBe(4);
    });

    it("fails mutate on an unknown id with NotFoundError, and closes twice safely", async () => {
      await expect(store.mutate("ws_a", "inc_missing", () => null)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.get("ws_a", "inc_missing")).toBeNull();
      await store.close();
      await store.close();
    });

    describeOutboxConformance(vitest("describeStoreConformance"), () => ({ store, incidents }));
    describeNoiseConformance(vitest("describeStoreConformance"), () => ({ store, incidents }));
  });
}
