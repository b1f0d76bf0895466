import { describe, expect, it } from "vitest";
import { CallbackError, createIncidents, defaultSeverityRules, isIncidentError, memoryStore } from "agent-incidents";
// cursors are opaque to users: the test forges one with the library's own encoder
import { encodeCursor } from "../../src/core/query.js";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { limit, operator, refund, scope, storeTargets, stripe } from "./stores.js";
import { written } from "agent-incidents/testing";

const failure = { runId: "r", eventId: "e", action: refund, connector: stripe, error: { message: "down" } };

describe.each(storeTargets("errors"))("errors that name the right culprit on $name", { timeout: 60_000 }, ({ make }) => {
  it("malformed and forged cursors are ValidationErrors, never driver errors", async () => {
    const incidents = createIncidents({ store: make() });
    written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    const ops = incidents.as(operator);
    const forged = [
      "not-base64!!",
      Buffer.from("[1,2]").toString("base64url"),
      Buffer.from('["s", 9, "2026-01-01T00:00:00.000Z", 1]').toString("base64url"),
      Buffer.from('["s", 1, "x\'); DROP TABLE incidents; --", 1]').toString("base64url"),
      Buffer.from('["s", 1, "2026-01-01T00:00:00.000Z", 1e300]').toString("base64url"),
      Buffer.from('["s", 1.5, "2026-01-01T00:00:00.000Z", 1]').toString("base64url"),
      encodeCursor({ rank: 1, lastSeenAt: "2026-01-01T00:00:00.000Z", number: 1 }, "recency"),
      "x".repeat(5000),
    ];
    for (const cursor of forged) {
      await expect(ops.list({ cursor })).rejects.toMatchObject({ code: "VALIDATION", issues: [expect.objectContaining({ path: ["cursor"] })] });
    }
    await incidents.close();
  });

  it("a filter of 10,000 values is a ValidationError naming it", async () => {
    const incidents = createIncidents({ store: make() });
    const agents = Array.from({ length: 10_000 }, (_, i) => `agt_${i}`);
    await expect(incidents.as(operator).list({ agentId: agents })).rejects.toMatchObject({
      code: "VALIDATION",
      issues: [expect.objectContaining({ path: ["agentId"], message: "must list at most 100 values" })],
    });
    await incidents.close();
  });

  it("host callbacks that throw come back as CALLBACK naming the option, with the original as cause; nothing is written", async () => {
    const store = make();
    const boom = new Error("host bug");
    const cases = [
      { option: "authorize", incidents: createIncidents({ store, authorize: () => { throw boom; } }), call: (i: ReturnType<typeof createIncidents>) => i.as(operator).list() },
      { option: "ids", incidents: createIncidents({ store, ids: () => { throw boom; } }), call: (i: ReturnType<typeof createIncidents>) => i.reporter(scope).executionFailed(failure) },
      { option: "clock", incidents: createIncidents({ store, clock: { now: () => { throw boom; } } }), call: (i: ReturnType<typeof createIncidents>) => i.reporter(scope).executionFailed(failure) },
      { option: "dedup.fingerprint", incidents: createIncidents({ store, dedup: { fingerprint: () => { throw boom; } } }), call: (i: ReturnType<typeof createIncidents>) => i.reporter(scope).executionFailed(failure) },
      {
        option: "severityRules[0]",
        incidents: createIncidents({ store, severityRules: [{ name: "bad", explanation: "x", match: () => "urgent" as never }, ...defaultSeverityRules] }),
        call: (i: ReturnType<typeof createIncidents>) => i.reporter(scope).executionFailed(failure),
      },
    ];
    for (const { option, incidents, call } of cases) {
      const error = await call(incidents).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallbackError);
      expect(error).toMatchObject({ code: "CALLBACK", option });
      if (option !== "severityRules[0]") expect((error as Error).cause).toBe(boom);
    }
    const check = createIncidents({ store });
    expect((await check.as(operator).list()).items).toEqual([]);
    for (const { incidents } of cases) await incidents.close();
    await check.close();
  });

  it("an authorize that answers with a promise is a CALLBACK error, not a silent FORBIDDEN", async () => {
    const incidents = createIncidents({ store: make(), authorize: (async () => true) as never });
    await expect(incidents.as(operator).list()).rejects.toMatchObject({ code: "CALLBACK", option: "authorize" });
    await incidents.close();
  });

  it("a note, reason or title of only NUL characters is refused, not stored empty", async () => {
    const incidents = createIncidents({ store: make() });
    const ops = incidents.as(operator);
    const { incident } = written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }));
    await expect(ops.addNote(incident.id, "\u0000\u0000")).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(ops.resolve(incident.id, { note: "\u0000", rootCause: "other" })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(ops.escalate({ title: "\u0000", severity: "low" })).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(incidents.reporter(scope).anomaly({ runId: "r", eventId: "e2", pattern: "p", tags: ["\u0000"] })).rejects.toMatchObject({ code: "VALIDATION" });
    expect((await ops.get(incident.id)).version).toBe(1);
    await incidents.close();
  });

  it("stats() refuses a since beyond year 9999 instead of counting everything", async () => {
    const incidents = createIncidents({ store: make() });
    await expect(incidents.as(operator).stats({ since: new Date(8.64e15) })).rejects.toMatchObject({ code: "VALIDATION", issues: [expect.objectContaining({ path: ["since"] })] });
    await incidents.close();
  });

  it("a RunSource that never answers gives run: null with a runError after runTimeoutMs, and close() does not hang", async () => {
    const incidents = createIncidents({ store: make(), runs: { loadRun: () => new Promise(() => undefined) }, runTimeoutMs: 50 });
    const { incident } = written(await incidents.reporter(scope).executionFailed(failure));
    const context = await incidents.as(operator).context(incident.id);
    expect(context).toMatchObject({ run: null, runError: "RunSource.loadRun failed: did not answer within 50 ms" });
    await incidents.close();
  });
});

describe("input that cannot be read", () => {
  const hostile = () => {
    const getter = Object.defineProperty({ runId: "r", pattern: "p" }, "eventId", { enumerable: true, get: () => { throw new Error("getter"); } });
    const { proxy, revoke } = Proxy.revocable({ runId: "r", eventId: "e", pattern: "p" }, {});
    revoke();
    return [getter, proxy];
  };

  it("reporter methods, report() and escalate() reject with a ValidationError instead of throwing", async () => {
    const incidents = createIncidents();
    const report = incidents.reporter(scope);
    const ops = incidents.as(operator);
    for (const input of hostile()) {
      const calls = [
        () => report.anomaly(input as never),
        () => report.policyBlocked(input as never),
        () => report.runEnded(input as never),
        () => incidents.report(input),
        () => ops.escalate(input as never),
        () => ops.resolve("inc_x", input as never),
        () => ops.list(input as never),
      ];
      for (const call of calls) {
        let promise: Promise<unknown> | undefined;
        expect(() => (promise = call())).not.toThrow();
        await expect(promise).rejects.toMatchObject({ code: "VALIDATION" });
      }
    }
    expect((await ops.list()).items).toEqual([]);
    await incidents.close();
  });

  it("createIncidents with options whose getters throw is a ValidationError", () => {
    const options = Object.defineProperty({}, "store", { enumerable: true, get: () => { throw new Error("getter"); } });
    expect(() => createIncidents(options)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });
});

describe("store options", () => {
  it.each([
    ["no options", () => sqliteStore(undefined as never)],
    ["empty options", () => sqliteStore({} as never)],
    ["an empty filename", () => sqliteStore({ filename: "" })],
    ["a NUL in the filename", () => sqliteStore({ filename: "incidents.db\u0000.evil" })],
    ["both filename and database", () => sqliteStore({ filename: "a.db", database: {} } as never)],
    ["a negative busy timeout", () => sqliteStore({ filename: "a.db", busyTimeoutMs: -1 })],
  ])("sqliteStore refuses %s with a ValidationError", (_what, open) => {
    expect(open).toThrow(expect.objectContaining({ code: "VALIDATION", name: "ValidationError" }));
  });

  it("opens an in-memory SQLite database only when asked for by name, and says it is not durable", async () => {
    const store = sqliteStore({ filename: ":memory:" });
    expect(store.durable).toBe(false);
    await store.close();
  });

  it.each([
    ["no options", () => postgresStore(undefined as never)],
    ["empty options", () => postgresStore({} as never)],
    ["max: -1", () => postgresStore({ connectionString: "postgres://localhost/x", max: -1 })],
    ["a schema that is not an identifier", () => postgresStore({ connectionString: "postgres://localhost/x", schema: 'x"; DROP' })],
    ["a pool that is not a pool", () => postgresStore({ pool: {} as never })],
    ["a lock timeout of zero", () => postgresStore({ connectionString: "postgres://localhost/x", lockTimeoutMs: 0 })],
  ])("postgresStore refuses %s with a ValidationError", (_what, open) => {
    expect(open).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });

  it("isIncidentError and instanceof work for errors of another copy of the library", () => {
    const foreign = Object.assign(new Error("from the other copy"), { code: "NOT_FOUND" });
    Object.defineProperty(foreign, Symbol.for("agent-incidents.error"), { value: true });
    expect(isIncidentError(foreign)).toBe(true);
    expect(isIncidentError(new Error("plain"))).toBe(false);
    expect(foreign instanceof CallbackError).toBe(false);
    const closed = memoryStore();
    expect(closed.name).toBe("memory");
  });
});

describe("policy input", () => {
  it("keeps limits on what is an identifier but never refuses a long reason", async () => {
    const incidents = createIncidents();
    const { incident } = written(await incidents.reporter(scope).policyBlocked({ runId: "r", eventId: "e", action: refund, policy: { ...limit, reason: "r".repeat(100_000) } }));
    expect((incident.trigger["policy"] as { reason: string }).reason).toMatch(/…\[truncated 91808 chars\]$/);
    await expect(incidents.reporter(scope).policyBlocked({ runId: "r", eventId: "e2", action: { type: "t".repeat(201) }, policy: limit })).rejects.toMatchObject({ code: "VALIDATION" });
    await incidents.close();
  });
});
