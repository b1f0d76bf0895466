import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createIncidents, StorageError } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { scope } from "./stores.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-lock-"));

/** Counts event-loop turns until stopped: a blocked loop counts none. */
function loopTicks() {
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 5);
  return () => {
    clearInterval(timer);
    return ticks;
  };
}

describe("SQLite while another connection holds the write lock", () => {
  it("waits without blocking the event loop, then reports once the lock is released", async () => {
    const filename = join(dir, "wait.db");
    const incidents = createIncidents({ store: sqliteStore({ filename, busyTimeoutMs: 5000 }) });
    const other = new Database(filename);
    other.exec("BEGIN IMMEDIATE");
    // released by a timer of this same event loop: if the report blocked the loop, it could not fire
    setTimeout(() => other.exec("COMMIT"), 300);
    const stop = loopTicks();
    const result = await incidents.reporter(scope).anomaly({ runId: "r", eventId: "e", pattern: "p" });
    const ticks = stop();
    expect(result.outcome).toBe("created");
    expect(ticks).toBeGreaterThan(20);
    other.close();
    await incidents.close();
  });

  it("gives up after busyTimeoutMs with a retryable StorageError that says why; the retry succeeds", async () => {
    const filename = join(dir, "give-up.db");
    // without the spool, which would keep the report until the lock is gone (see spool.test.ts)
    const incidents = createIncidents({ store: sqliteStore({ filename, busyTimeoutMs: 200 }), spool: false });
    const other = new Database(filename);
    other.exec("BEGIN IMMEDIATE");
    const report = incidents.reporter(scope);
    const error = await report.anomaly({ runId: "r", eventId: "e", pattern: "p" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: "STORAGE", retryable: true, adapter: "sqlite" });
    expect((error as Error).message).toBe("sqlite store: report failed: the database stayed locked by another connection for 200 ms");
    other.exec("COMMIT");
    expect((await report.anomaly({ runId: "r", eventId: "e", pattern: "p" })).outcome).toBe("created");
    other.close();
    await incidents.close();
  });
});
