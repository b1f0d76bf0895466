/**
 * The report spool: reports made while the store is away are kept, in order, and written once
 * when it answers. Fake stores that fail or hang on demand, SQLite files for restarts, and a
 * PostgreSQL outage made of terminated connections.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import {
  createIncidents,
  defineStore,
  memoryStore,
  StorageError,
  type IncidentEvent,
  type IncidentEventType,
  type Incidents,
  type IncidentStore,
  type IngestRequest,
  type ReportResult,
} from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { fakeClock, written } from "agent-incidents/testing";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { ROOT } from "../e2e/spawn.js";
import { operator, refund, scope, stripe } from "./stores.js";

type Mode = "ok" | "fail" | "hang" | "lost" | "refuse";

/**
 * A store in front of `base` whose `mode(call)` says what each ingest does: write, fail
 * retryably, hang, write and then fail retryably (a COMMIT whose answer was lost), or refuse
 * (a non-retryable error). `written` lists the event ids it wrote, in order.
 */
function gated(base: IncidentStore = memoryStore()) {
  const state = { mode: (_call: number, _request: IngestRequest): Mode => "ok", calls: 0, written: [] as string[] };
  const store = defineStore({
    ...base,
    name: "gated",
    async ingest(request) {
      const mode = state.mode(++state.calls, request);
      if (mode === "fail") throw new StorageError("gated", "connection lost", { retryable: true });
      if (mode === "refuse") throw new StorageError("gated", "row is corrupt", { retryable: false });
      if (mode === "hang") return new Promise<never>(() => undefined);
      const result = await base.ingest(request);
      if (result.outcome !== "duplicate") state.written.push(request.eventId ?? "");
      if (mode === "lost") throw new StorageError("gated", "connection lost during COMMIT", { retryable: true });
      return result;
    },
  });
  return { store, state };
}

/** Every event of these types, as handlers receive them. */
function listen(incidents: Incidents, ...types: IncidentEventType[]) {
  const seen: IncidentEvent[] = [];
  for (const type of types) incidents.on(type, (e) => void seen.push(e));
  return { seen, of: <T extends IncidentEventType>(type: T) => seen.filter((e): e is IncidentEvent<T> => e.type === type) };
}

/** Polls `check` until it holds, failing after `ms` (a bound on a hang, not a speed). */
async function until(check: () => boolean | Promise<boolean>, ms = 20_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = mkdtempSync(join(tmpdir(), "agent-incidents-spool-"));
let files = 0;
const file = (name: string) => join(dir, `${++files}-${name}`);
const spike = (eventId: string) => ({ runId: "run_1", eventId, pattern: "refund_spike" });
const SPOOLED = { incident: null, outcome: "spooled" };

const opened: Incidents[] = [];
const open = (options: Parameters<typeof createIncidents>[0]) => {
  const incidents = createIncidents(options);
  opened.push(incidents);
  return incidents;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((i) => i.close()));
});

describe("the report spool", () => {
  it("keeps reports while the store fails, in order, and writes each once as of its own time", async () => {
    const { store, state } = gated();
    state.mode = (call) => (call <= 3 ? "fail" : "ok");
    const clock = fakeClock("2026-06-01T09:00:00.000Z");
    const incidents = open({ store, clock });
    const events = listen(incidents, "report.spooled", "report.written", "report.dropped", "incident.created", "incident.recurred");
    const report = incidents.reporter(scope);

    const results: ReportResult[] = [];
    for (const eventId of ["e1", "e2", "e3"]) {
      results.push(await report.anomaly(spike(eventId)));
      clock.advance(60_000);
    }
    expect(results).toEqual([SPOOLED, SPOOLED, SPOOLED]);
    expect(events.of("report.spooled").map((e) => [e.data.eventId, e.data.spool.reports, e.data.kept])).toEqual([["e1", 1, false], ["e2", 2, false], ["e3", 3, false]]);
    expect(events.of("report.spooled")[0]!.data).toMatchObject({ workspaceId: "ws_h", agentId: "agt_h", kind: "anomaly", runId: "run_1", at: "2026-06-01T09:00:00.000Z" });

    await until(() => events.of("report.written").length === 3, 20_000, "three report.written");
    expect(state.written).toEqual(["e1", "e2", "e3"]);
    expect(events.of("report.written").map((e) => e.data.outcome)).toEqual(["created", "recurred", "recurred"]);
    expect(events.of("report.written").every((e) => typeof e.data.spooledAt === "string")).toBe(true);
    // the spool's events in order: kept, then written, oldest first (state.written above)
    expect(events.seen.filter((e) => e.type.startsWith("report.")).map((e) => e.type)).toEqual([
      "report.spooled", "report.spooled", "report.spooled", "report.written", "report.written", "report.written",
    ]);
    expect(events.of("incident.created")).toHaveLength(1);
    expect(events.of("incident.recurred")).toHaveLength(2);

    // drained: the next report is written at once
    const next = written(await report.anomaly(spike("e4")));
    expect(next.outcome).toBe("recurred");
    const detail = await incidents.as(operator).get(next.incident.id);
    expect(detail.occurrenceLog.map((o) => [o.eventId, o.at])).toEqual([
      ["e1", "2026-06-01T09:00:00.000Z"],
      ["e2", "2026-06-01T09:01:00.000Z"],
      ["e3", "2026-06-01T09:02:00.000Z"],
      ["e4", "2026-06-01T09:03:00.000Z"],
    ]);
    expect(detail).toMatchObject({ occurrences: 4, firstSeenAt: "2026-06-01T09:00:00.000Z", lastSeenAt: "2026-06-01T09:03:00.000Z" });
    expect(events.of("report.dropped")).toEqual([]);
  });

  it("counts a write whose answer was lost once: the replay is a duplicate", async () => {
    const { store, state } = gated();
    state.mode = (call) => (call === 1 ? "lost" : "ok");
    const incidents = open({ store });
    const events = listen(incidents, "report.written");
    const report = incidents.reporter(scope);
    expect(await report.anomaly(spike("e1"))).toEqual(SPOOLED);
    await until(() => events.of("report.written").length === 1);
    expect(events.of("report.written")[0]!.data.outcome).toBe("duplicate");
    const { items } = await incidents.as(operator).list();
    expect(items.map((i) => i.occurrences)).toEqual([1]);
    expect(state.written).toEqual(["e1"]);
  });

  it("never spools what retrying cannot fix: validation, host callbacks, non-retryable store errors", async () => {
    const { store, state } = gated();
    let fingerprintFails = false;
    const incidents = open({ store, delivery: { closeTimeoutMs: 100 }, dedup: { fingerprint: (s) => { if (fingerprintFails) throw new Error("no fingerprint"); return s.kind; } } });
    const events = listen(incidents, "report.spooled", "report.dropped");
    const report = incidents.reporter(scope);
    await expect(report.anomaly({ runId: "", eventId: "e", pattern: "p" } as never)).rejects.toMatchObject({ code: "VALIDATION" });
    state.mode = () => "refuse";
    await expect(report.anomaly(spike("e1"))).rejects.toMatchObject({ code: "STORAGE", retryable: false });
    // a callback that fails rejects also when the report would wait behind others
    state.mode = () => "fail";
    expect(await report.anomaly(spike("e2"))).toEqual(SPOOLED);
    fingerprintFails = true;
    await expect(report.anomaly(spike("e3"))).rejects.toMatchObject({ code: "CALLBACK", option: "dedup.fingerprint" });
    expect(events.of("report.spooled").map((e) => e.data.eventId)).toEqual(["e2"]);
    expect(events.of("report.dropped")).toEqual([]);
  });

  it("a spooled report the store refuses on replay is reported as dropped, and the drain moves on", async () => {
    const { store, state } = gated();
    state.mode = (call, request) => (call <= 2 ? "fail" : request.eventId === "e1" ? "refuse" : "ok");
    const incidents = open({ store });
    const events = listen(incidents, "report.written", "report.dropped");
    const report = incidents.reporter(scope);
    expect(await report.anomaly(spike("e1"))).toEqual(SPOOLED);
    expect(await report.anomaly(spike("e2"))).toEqual(SPOOLED);
    await until(() => events.of("report.written").length === 1);
    expect(events.of("report.dropped").map((e) => [e.data.eventId, e.data.reason])).toEqual([["e1", "gated store: row is corrupt"]]);
    expect(state.written).toEqual(["e2"]);
  });

  it("a full spool rejects the report with a retryable StorageError that says so, and emits report.dropped", async () => {
    const { store, state } = gated();
    state.mode = () => "fail";
    const incidents = open({ store, spool: { maxReports: 2 }, delivery: { closeTimeoutMs: 100 } });
    const events = listen(incidents, "report.dropped");
    const report = incidents.reporter(scope);
    expect(await report.anomaly(spike("e1"))).toEqual(SPOOLED);
    expect(await report.anomaly(spike("e2"))).toEqual(SPOOLED);
    const error = await report.anomaly(spike("e3")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: "STORAGE", retryable: true });
    expect((error as Error).message).toMatch(/spool is full \(2 reports, \d+ bytes; limits 2 reports, 67108864 bytes\)/);
    expect(events.of("report.dropped").map((e) => [e.data.eventId, e.data.reason])).toEqual([["e3", "spool full"]]);

    // maxBytes: a report larger than what is left is refused, a small one still fits
    const bytes = open({ store, spool: { maxBytes: 4096 }, delivery: { closeTimeoutMs: 100 } });
    const dropped = listen(bytes, "report.dropped");
    const big = { ...spike("big"), detail: { text: "x".repeat(5000) } };
    await expect(bytes.reporter(scope).anomaly(big)).rejects.toThrow(/spool is full \(0 reports, 0 bytes; limits 10000 reports, 4096 bytes\) and the store failed: gated store: connection lost/);
    expect(dropped.of("report.dropped").map((e) => e.data.reason)).toEqual(["spool full"]);
    expect(await bytes.reporter(scope).anomaly(spike("small"))).toEqual(SPOOLED);
  });

  it("close() settles by its deadline while the store hangs, and reports what was left", async () => {
    const { store, state } = gated();
    state.mode = (call) => (call === 1 ? "fail" : "hang");
    const incidents = createIncidents({ store, delivery: { closeTimeoutMs: 300 } });
    const events = listen(incidents, "report.dropped", "report.written");
    const report = incidents.reporter(scope);
    for (const eventId of ["e1", "e2", "e3"]) expect(await report.anomaly(spike(eventId))).toEqual(SPOOLED);
    const started = Date.now();
    await incidents.close();
    // the deadline plus a margin for a slow machine: a hang would never get here
    expect(Date.now() - started).toBeLessThan(300 + 5000);
    expect(events.of("report.dropped").map((e) => [e.data.eventId, e.data.reason])).toEqual([
      ["e1", "closed before the store answered"],
      ["e2", "closed before the store answered"],
      ["e3", "closed before the store answered"],
    ]);
    expect(events.of("report.written")).toEqual([]);
  });

  it("close() settles by its deadline when a report's first write hangs", async () => {
    const { store, state } = gated();
    state.mode = () => "hang";
    const incidents = createIncidents({ store, delivery: { closeTimeoutMs: 200 } });
    const pending = incidents.reporter(scope).anomaly(spike("e1"));
    await until(() => state.calls === 1);
    const started = Date.now();
    await incidents.close();
    expect(Date.now() - started).toBeLessThan(200 + 5000);
    void pending.catch(() => undefined);
  });

  it("close() writes what the store takes before its deadline", async () => {
    const { store, state } = gated();
    let away = true;
    state.mode = () => (away ? "fail" : "ok");
    const incidents = createIncidents({ store, delivery: { closeTimeoutMs: 20_000 } });
    const events = listen(incidents, "report.written", "report.dropped");
    for (const eventId of ["e1", "e2"]) expect(await incidents.reporter(scope).anomaly(spike(eventId))).toEqual(SPOOLED);
    setTimeout(() => (away = false), 100);
    await incidents.close();
    expect(events.of("report.written").map((e) => e.data.outcome)).toEqual(["created", "recurred"]);
    expect(events.of("report.dropped")).toEqual([]);
    expect(state.written).toEqual(["e1", "e2"]);
  });

  it("a framework adapter's report that is spooled is no error: onError is not called", async () => {
    const { BasicTracerProvider } = await import("@opentelemetry/sdk-trace-base");
    const { SpanStatusCode } = await import("@opentelemetry/api");
    const { incidentSpanProcessor } = await import("agent-incidents/opentelemetry");
    const { store, state } = gated();
    let away = true;
    state.mode = () => (away ? "fail" : "ok");
    const incidents = open({ store });
    const events = listen(incidents, "report.spooled", "report.written");
    const failures: unknown[] = [];
    const processor = incidentSpanProcessor(incidents.reporter(scope), { onError: (e) => failures.push(e) });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    const span = provider.getTracer("x").startSpan("execute_tool refund", { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "refund" } });
    span.setStatus({ code: SpanStatusCode.ERROR, message: "stripe down" });
    span.end();
    await provider.forceFlush();
    expect(failures).toEqual([]);
    expect(events.of("report.spooled")).toHaveLength(1);
    away = false;
    await until(() => events.of("report.written").length === 1);
    await provider.shutdown();
  });

  it("rejects bad spool options with a ValidationError naming the field", () => {
    expect(() => createIncidents({ spool: { maxReports: 0 } })).toThrow(/spool.*maxReports/);
    expect(() => createIncidents({ spool: { maxBytes: 1.5 } as never })).toThrow(/spool.*maxBytes/);
    expect(() => createIncidents({ spool: { filename: "a\0b" } })).toThrow(/spool.*filename.*NUL/);
    expect(() => createIncidents({ spool: { size: 1 } as never })).toThrow(/spool/);
    expect(() => createIncidents({ spool: true as never })).toThrow(/spool/);
    expect(() => createIncidents({ spool: { maxReports: 0 } })).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });

  it("spool: false rejects with the store's retryable StorageError, as before", async () => {
    const { store, state } = gated();
    state.mode = () => "fail";
    const incidents = open({ store, spool: false });
    await expect(incidents.reporter(scope).anomaly(spike("e1"))).rejects.toMatchObject({ code: "STORAGE", retryable: true, message: "gated store: connection lost" });
  });

  it("no timer of the spool keeps the process alive", async () => {
    // a child whose store never answers: the report is spooled and the script ends without close()
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./children/spool-exit.ts", import.meta.url))], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(-1);
      }, 30_000);
      child.on("close", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(stderr).toBe("");
    expect(stdout).toBe("spooled\n");
    expect(code).toBe(0);
  });
});

describe("the spool file", () => {
  /** A SQLite store that is away: every write fails retryably. */
  const away = (filename: string) => {
    const { store, state } = gated(sqliteStore({ filename }));
    state.mode = () => "fail";
    return store;
  };

  it("survives a restart: what one process kept, the next writes, as of the time it was reported", async () => {
    const db = file("incidents.db");
    const spool = file("spool.jsonl");
    const clock = fakeClock("2026-06-01T09:00:00.000Z");
    const first = createIncidents({ store: away(db), clock, spool: { filename: spool }, delivery: { closeTimeoutMs: 100 } });
    const kept = listen(first, "report.spooled");
    for (const eventId of ["e1", "e2", "e3"]) {
      expect(await first.reporter(scope).anomaly(spike(eventId))).toEqual(SPOOLED);
      clock.advance(60_000);
    }
    expect(readFileSync(spool, "utf8").trim().split("\n")).toHaveLength(3);
    await first.close();
    expect(kept.of("report.spooled").map((e) => [e.data.eventId, e.data.kept])).toEqual([
      ["e1", false], ["e2", false], ["e3", false],
      ["e1", true], ["e2", true], ["e3", true],
    ]);
    expect(readFileSync(spool, "utf8").trim().split("\n")).toHaveLength(3);

    const second = open({ store: sqliteStore({ filename: db }), spool: { filename: spool } });
    const events = listen(second, "report.written", "report.dropped");
    await until(() => events.of("report.written").length === 3);
    expect(events.of("report.written").map((e) => e.data.outcome)).toEqual(["created", "recurred", "recurred"]);
    const [incident] = (await second.as(operator).list()).items;
    const detail = await second.as(operator).get(incident!.id);
    expect(detail.occurrenceLog.map((o) => [o.eventId, o.at])).toEqual([
      ["e1", "2026-06-01T09:00:00.000Z"],
      ["e2", "2026-06-01T09:01:00.000Z"],
      ["e3", "2026-06-01T09:02:00.000Z"],
    ]);
    await until(() => statSync(spool).size === 0, 20_000, "the drained spool file to be truncated");
    expect(events.of("report.dropped")).toEqual([]);
  });

  it("replaying a report that was already written is a duplicate, counted once", async () => {
    const db = file("incidents.db");
    const spool = file("spool.jsonl");
    const { store, state } = gated(sqliteStore({ filename: db }));
    state.mode = (call) => (call === 1 ? "lost" : "fail");
    const first = createIncidents({ store, spool: { filename: spool }, delivery: { closeTimeoutMs: 100 } });
    expect(await first.reporter(scope).anomaly(spike("e1"))).toEqual(SPOOLED);
    await first.close();
    const second = open({ store: sqliteStore({ filename: db }), spool: { filename: spool } });
    const events = listen(second, "report.written");
    await until(() => events.of("report.written").length === 1);
    expect(events.of("report.written")[0]!.data.outcome).toBe("duplicate");
    expect((await second.as(operator).list()).items.map((i) => i.occurrences)).toEqual([1]);
  });

  it("skips a torn last line and a garbled one, reports each once, and writes the rest", async () => {
    const db = file("incidents.db");
    const spool = file("spool.jsonl");
    const first = createIncidents({ store: away(db), spool: { filename: spool }, delivery: { closeTimeoutMs: 100 } });
    for (const eventId of ["e1", "e2"]) await first.reporter(scope).anomaly(spike(eventId));
    await first.close();
    const [one, two] = readFileSync(spool, "utf8").trim().split("\n");
    // a crash mid-append leaves half a line; a garbled one in the middle, valid JSON of the wrong shape
    writeFileSync(spool, `${one}\n{"v":1,"at":"yesterday"}\n${two}\n${two!.slice(0, 40)}`);

    const second = open({ store: sqliteStore({ filename: db }), spool: { filename: spool } });
    const events = listen(second, "report.written", "report.dropped");
    await until(() => events.of("report.written").length === 2);
    expect(events.of("report.dropped").map((e) => e.data)).toEqual([
      { workspaceId: null, agentId: null, kind: null, runId: null, eventId: null, at: null, reason: "unreadable spool line", line: 2 },
      { workspaceId: null, agentId: null, kind: null, runId: null, eventId: null, at: null, reason: "unreadable spool line", line: 4 },
    ]);
    await second.close();

    // the bad lines were reported once: the next start finds nothing to say
    const third = open({ store: sqliteStore({ filename: db }), spool: { filename: spool } });
    const later = listen(third, "report.written", "report.dropped");
    await sleep(100);
    expect(later.seen).toEqual([]);
    expect(readFileSync(spool, "utf8")).toBe("");
  });

  it("hostile input through the file comes out as a direct write stores it", async () => {
    const hostile = () => {
      const payload: Record<string, unknown> = { lone: "a\ud800b\udfffc", nul: "x\u0000y", emoji: "🚨", nested: JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}') };
      Object.defineProperty(payload, "__proto__", { value: { own: "key" }, enumerable: true, configurable: true, writable: true });
      // strings are capped at 8 KiB and payloads at 64 KiB: seven 8000-character strings each stay just under
      const fill = (prefix: string) => Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`${prefix}${i}`, `${prefix}\ud800`.repeat(2000)]));
      return {
        runId: "run_h",
        eventId: "evt_h",
        action: { type: "refund.create", payload: { ...payload, ...fill("a"), over: "o".repeat(20_000) } },
        connector: stripe,
        error: { message: `bad\u0000message \ud83d`, code: "weird" },
        context: {
          events: [{ id: "e0", type: "tool.call", at: "2026-06-01T08:59:00.000Z", data: { ...payload, ...fill("e") } }],
          data: { ...payload, ...fill("d"), password: "hunter2" },
        },
      };
    };
    const ids = () => {
      let n = 0;
      return () => `01HZZZZZZZZZZZZZZZZZZZ${String(++n).padStart(4, "0")}`;
    };
    const clock = () => fakeClock("2026-06-01T09:00:00.000Z");

    const directDb = file("direct.db");
    const direct = open({ store: sqliteStore({ filename: directDb }), clock: clock(), ids: ids() });
    const stored = written(await direct.reporter(scope).executionFailed(hostile()));

    const spooledDb = file("spooled.db");
    const spool = file("spool.jsonl");
    // near the caps: the spool holds the report with a few hundred bytes to spare
    const first = createIncidents({ store: away(spooledDb), clock: clock(), ids: ids(), spool: { filename: spool, maxBytes: 512 * 1024 }, delivery: { closeTimeoutMs: 100 } });
    expect(await first.reporter(scope).executionFailed(hostile())).toEqual(SPOOLED);
    await first.close();
    const size = statSync(spool).size;
    expect(size).toBeGreaterThan(150 * 1024);

    const second = open({ store: sqliteStore({ filename: spooledDb }), ids: ids(), spool: { filename: spool, maxBytes: size } });
    const events = listen(second, "report.written");
    await until(() => events.of("report.written").length === 1);
    const replayed = events.of("report.written")[0]!.data.incident;

    const read = async (incidents: Incidents, id: string) => {
      const ops = incidents.as(operator);
      const { activity: _a, occurrenceLog, id: _id, ...incident } = await ops.get(id);
      const { snapshot } = await ops.context(id);
      return { incident, occurrenceLog: occurrenceLog.map(({ incidentId: _i, ...o }) => o), snapshot };
    };
    const a = await read(direct, stored.incident.id);
    const b = await read(second, replayed.id);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(b).toEqual(a);
    // what the direct write kept of the hostile keys is kept through the file too
    const data = (b.snapshot as { data: Record<string, unknown> }).data;
    expect(Object.prototype.hasOwnProperty.call(data, "__proto__")).toBe(Object.prototype.hasOwnProperty.call((a.snapshot as { data: Record<string, unknown> }).data, "__proto__"));
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("a report whose line cannot be appended rejects with a retryable StorageError saying so, and is still written", async () => {
    const spool = file("spool.jsonl");
    const { store, state } = gated();
    let away = true;
    state.mode = () => (away ? "fail" : "ok");
    const incidents = open({ store, spool: { filename: spool }, delivery: { closeTimeoutMs: 100 } });
    const events = listen(incidents, "report.written");
    rmSync(spool);
    mkdirSync(spool);
    const error = await incidents.reporter(scope).anomaly(spike("e1")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "STORAGE", retryable: true, message: expect.stringMatching(/report kept in memory only: the spool file .* could not be written: EISDIR/) });
    away = false;
    await until(() => events.of("report.written").length === 1);
    expect(state.written).toEqual(["e1"]);
  });

  it("a close() right after the start still reports the unreadable lines it removed", async () => {
    const spool = file("spool.jsonl");
    writeFileSync(spool, "not json\n");
    const incidents = createIncidents({ spool: { filename: spool } });
    const events = listen(incidents, "report.dropped");
    await incidents.close();
    expect(events.of("report.dropped").map((e) => [e.data.reason, e.data.line])).toEqual([["unreadable spool line", 1]]);
    expect(readFileSync(spool, "utf8")).toBe("");
  });

  it("one file serves one open instance of the process; after close() the next may use it", async () => {
    const spool = file("spool.jsonl");
    const first = createIncidents({ spool: { filename: spool } });
    expect(() => createIncidents({ spool: { filename: spool } })).toThrow(expect.objectContaining({ code: "VALIDATION", message: expect.stringMatching(/spool\.filename: .* is the spool file of another open createIncidents/) }));
    await first.close();
    open({ spool: { filename: spool } });
  });

  it("a spool file that cannot be used fails createIncidents with a StorageError naming it", () => {
    expect(() => createIncidents({ spool: { filename: join(dir, "no-such-dir", "spool.jsonl") } })).toThrow(/cannot use the spool file .*no-such-dir/);
  });
});

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("spool");

  describe("a PostgreSQL outage", { timeout: 180_000 }, () => {
    it("200 reports made while the store's connections are terminated for 3 s are all stored exactly once; later reports are written at once", async () => {
      const name = schema();
      const applicationName = `ai_spool_${process.pid}_${Date.now().toString(36)}`;
      const problems: unknown[] = [];
      const onProblem = (reason: unknown) => problems.push(reason);
      process.on("unhandledRejection", onProblem);
      process.on("uncaughtException", onProblem);
      const incidents = open({ store: postgresStore({ connectionString: url, schema: name, applicationName, max: 4 }) });
      const events = listen(incidents, "report.spooled", "report.written", "report.dropped");
      const report = incidents.reporter(scope);
      const failure = (runId: string, eventId: string) => ({ runId, eventId, action: refund, connector: stripe, error: { message: "Stripe API unavailable", code: "api_unavailable" } });
      // the schema exists before the outage starts
      expect(written(await report.executionFailed(failure("run_before", "evt_0"))).outcome).toBe("created");

      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      let terminated = 0;
      const outage = (async () => {
        const end = Date.now() + 3000;
        while (Date.now() < end) {
          const { rows } = await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
          terminated += rows[0].n;
          await sleep(10);
        }
      })();
      // a steady load through the outage: a report every 15 ms, none waiting for the one before
      const reports: Promise<ReportResult>[] = [];
      for (let i = 0; i < 200; i++) {
        reports.push(report.executionFailed(failure("run_outage", `evt_${i}`)));
        await sleep(15);
      }
      await outage;
      const settled = await Promise.allSettled(reports);
      expect(settled.filter((s) => s.status === "rejected")).toEqual([]);
      expect(terminated).toBeGreaterThan(0);

      const stored = async () =>
        (await admin.query(`SELECT event_id, count(*)::int AS n FROM "${name}".occurrences WHERE run_id = 'run_outage' GROUP BY event_id`)).rows as { event_id: string; n: number }[];
      await until(async () => (await stored()).length === 200, 30_000, "all 200 reports in the database");
      const rows = await stored();
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `evt_${i}`)));

      const spooled = settled.filter((s) => s.status === "fulfilled" && s.value.outcome === "spooled").length;
      expect(events.of("report.spooled")).toHaveLength(spooled);
      await until(() => events.of("report.written").length === spooled, 30_000, "every spooled report written");
      expect(events.of("report.dropped")).toEqual([]);

      const after = await report.executionFailed(failure("run_after", "evt_0"));
      expect(after.outcome).toBe("recurred");
      const incident = await admin.query(`SELECT (data->>'occurrences')::int AS n FROM "${name}".incidents`);
      expect(incident.rows).toEqual([{ n: 202 }]);
      await admin.end();
      process.off("unhandledRejection", onProblem);
      process.off("uncaughtException", onProblem);
      expect(problems).toEqual([]);
      console.info(`[spool outage] ${terminated} connections terminated, ${spooled} of 200 reports spooled`);
    });
  });
} else {
  reportSkipped("the report spool through a PostgreSQL outage");
}
