import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, it, vi } from "vitest";
import { createIncidents, memoryStore, type IncidentEvent } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { ROOT } from "../e2e/spawn.js";
import { operator, scope } from "./stores.js";
import { written } from "agent-incidents/testing";

describe("event handlers can never affect a report or the process", () => {
  it("a handler that throws, one that rejects and an onError that throws: the report resolves and later handlers run", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const incidents = createIncidents({ onError: () => { throw new Error("onError broke too"); } });
    const seen: string[] = [];
    incidents.on("incident.created", () => { throw new Error("sync handler"); });
    incidents.on("incident.created", async () => { throw new Error("async handler"); });
    incidents.on("incident.created", () => ({ then: () => { throw new Error("hostile thenable"); } }) as never);
    incidents.on("incident.created", (e) => void seen.push(e.data.incident.title));
    const result = written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "spike" }));
    expect(result.outcome).toBe("created");
    expect(seen).toEqual(["Anomaly: spike"]);
    await new Promise((r) => setTimeout(r, 20));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    await incidents.close();
  });

  it("an onError that rejects is contained too", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const incidents = createIncidents({ onError: async () => { throw new Error("error sink down"); } });
    incidents.on("incident.created", () => { throw new Error("bug"); });
    expect((written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }))).outcome).toBe("created");
    await new Promise((r) => setTimeout(r, 20));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
    await incidents.close();
  });

  it("gives handlers a frozen copy: changing it changes neither the caller's result nor the next handler's view", async () => {
    const failures: unknown[] = [];
    const incidents = createIncidents({ onError: (error) => void failures.push(error) });
    const titles: string[] = [];
    incidents.on("incident.created", (e) => {
      (e.data.incident as { title: string }).title = "hijacked";
    });
    incidents.on("incident.created", (e) => void titles.push(e.data.incident.title));
    const { incident } = written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "spike" }));
    expect(incident.title).toBe("Anomaly: spike");
    expect(titles).toEqual(["Anomaly: spike"]);
    expect(String(failures[0])).toMatch(/read only property 'title'/);
    await incidents.close();
  });

  it("off() and the unsubscribe function remove a handler registered for several events", async () => {
    const incidents = createIncidents();
    const got: string[] = [];
    const handler = (e: IncidentEvent) => void got.push(e.type);
    const unsubscribe = incidents.on("incident.created", handler);
    incidents.on("incident.recurred", handler);
    incidents.off("incident.recurred", handler);
    unsubscribe();
    const report = incidents.reporter(scope);
    written(await report.anomaly({ runId: "r", eventId: "e1", pattern: "p" }));
    written(await report.anomaly({ runId: "r", eventId: "e2", pattern: "p" }));
    expect(got).toEqual([]);
    await incidents.close();
  });

  it("refuses unknown events and handlers that are not functions", () => {
    const incidents = createIncidents();
    expect(() => incidents.on("no.such.event" as never, () => undefined)).toThrow(/type: must be one of incident.created/);
    expect(() => incidents.on("incident.created", "nope" as never)).toThrow(/handler: must be a function/);
  });
});

describe("closing", () => {
  it("two createIncidents on one store: closing one leaves the other working; the last close closes the store", async () => {
    const store = memoryStore();
    const a = createIncidents({ store });
    const b = createIncidents({ store });
    written(await a.reporter(scope).anomaly({ runId: "r", eventId: "e1", pattern: "p" }));
    await a.close();
    expect((written(await b.reporter(scope).anomaly({ runId: "r", eventId: "e2", pattern: "p" }))).outcome).toBe("recurred");
    await b.close();
    await expect(store.get("ws_h", "inc_x")).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("reporter() and as() made after close() reject every call with CLOSED", async () => {
    const incidents = createIncidents();
    await incidents.close();
    await expect(incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" })).rejects.toMatchObject({ code: "CLOSED" });
    await expect(incidents.reporter(scope).runEnded({ runId: "r", status: "completed" })).rejects.toMatchObject({ code: "CLOSED" });
    await expect(incidents.as(operator).list()).rejects.toMatchObject({ code: "CLOSED" });
    await expect(incidents.report({})).rejects.toMatchObject({ code: "CLOSED" });
  });
});

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("kill");

  describe("PostgreSQL connections terminated under load", { timeout: 120_000 }, () => {
    it("a store shared by two instances settles every report when one closes mid-burst", async () => {
      const store = postgresStore({ connectionString: url, schema: schema(), max: 2 });
      const a = createIncidents({ store });
      const b = createIncidents({ store });
      const reports = Array.from({ length: 30 }, (_, i) => b.reporter(scope).anomaly({ runId: "r", eventId: `e${i}`, pattern: "p" }));
      await a.close();
      const settled = await Promise.allSettled(reports);
      expect(settled.every((s) => s.status === "fulfilled")).toBe(true);
      await b.close();
    });

    it("a row locked by another session fails an operator change after lockTimeoutMs with a retryable StorageError, not a hang", async () => {
      const name = schema();
      const incidents = createIncidents({ store: postgresStore({ connectionString: url, schema: name, lockTimeoutMs: 100 }) });
      const { incident } = written(await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" }));
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      await other.query("BEGIN");
      await other.query(`SELECT id FROM "${name}".incidents WHERE id = $1 FOR UPDATE`, [incident.id]);
      const error = await incidents.as(operator).acknowledge(incident.id).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "STORAGE", retryable: true });
      expect((error as Error).cause).toMatchObject({ code: "55P03" });
      await other.query("ROLLBACK");
      expect((await incidents.as(operator).acknowledge(incident.id)).status).toBe("acknowledged");
      await other.end();
      await incidents.close();
    });

    it("terminating the store's backends for 3 s mid-burst: the child exits normally, nothing is lost or duplicated, and later reports are written at once", async () => {
      const name = schema();
      const applicationName = `ai_kill_${process.pid}_${Date.now().toString(36)}`;
      const count = 240;
      const child = spawn(process.execPath, [fileURLToPath(new URL("../e2e/children/terminated.mjs", import.meta.url)), url, name, applicationName, String(count)], { cwd: ROOT });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const progress = () => Number(/progress (\d+)\n(?![\s\S]*progress)/.exec(stdout)?.[1] ?? 0);
      // from the 40th report on, for 3 s, terminate this worker's sessions (only its own: selected by
      // application_name): connections die mid-transaction, mid-COMMIT and right after connecting.
      // Bounded by time, not by the child's progress: a slow machine only sees fewer reports per second.
      while (progress() < 40 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      let terminated = 0;
      const end = Date.now() + 3000;
      while (Date.now() < end && child.exitCode === null) {
        const { rows } = await admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
        terminated += rows[0].n;
        await new Promise((r) => setTimeout(r, 15));
      }
      child.stdin.write("done\n");
      const code = await exited;
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(terminated).toBeGreaterThan(0);
      const result = JSON.parse(/result (.*)\n/.exec(stdout)![1]!) as { burst: string[]; after: string[]; spool: { spooled: number; written: number; dropped: string[] } };
      expect(result.burst).toHaveLength(count);
      expect(result.burst.filter((o) => o.startsWith("rejected"))).toEqual([]);
      expect(result.spool.dropped).toEqual([]);
      expect(result.spool.written).toBe(result.spool.spooled);
      expect(result.burst.filter((o) => o === "spooled")).toHaveLength(result.spool.spooled);
      expect(result.after).toEqual(Array.from({ length: 20 }, () => "recurred"));
      const { rows } = await admin.query(`SELECT run_id, count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_events FROM "${name}".occurrences GROUP BY run_id ORDER BY run_id`);
      expect(rows).toEqual([
        { run_id: "run_after", n: 20, distinct_events: 20 },
        { run_id: "run_burst", n: count, distinct_events: count },
      ]);
      const incident = await admin.query(`SELECT (data->>'occurrences')::int AS n FROM "${name}".incidents`);
      expect(incident.rows).toEqual([{ n: count + 20 }]);
      await admin.end();
    });
  });
} else {
  reportSkipped("PostgreSQL connections terminated under load");
}

vi.setConfig({ testTimeout: 120_000 });
