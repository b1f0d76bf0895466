import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { ROOT } from "./spawn.js";

describe("a reporter killed with SIGKILL", { timeout: 60_000 }, () => {
  it("loses no report whose promise had resolved, and the file opens cleanly", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "agent-incidents-crash-")), "crash.db");
    const child = spawn(process.execPath, [fileURLToPath(new URL("./children/crash.mjs", import.meta.url)), file], { cwd: ROOT });
    const acknowledged: string[] = [];
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop()!;
        for (const line of lines) if (line.startsWith("ok ")) acknowledged.push(line.slice(3));
        if (acknowledged.length >= 300) resolve();
      });
      child.on("exit", () => resolve());
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(stderr).toBe("");
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);

    const raw = new Database(file);
    expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
    raw.close();

    const incidents = createIncidents({ store: sqliteStore({ filename: file }) });
    const ops = incidents.as({ id: "usr_check", role: "viewer", workspaceId: "ws_crash" });
    const { items } = await ops.list({ limit: 500 });
    expect(items.length).toBe(7);
    const stored = new Set<string>();
    for (const incident of items) for (const o of (await ops.get(incident.id)).occurrenceLog) stored.add(o.eventId!);
    const lost = acknowledged.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(items.reduce((n, i) => n + i.occurrences, 0)).toBe(stored.size);
    await incidents.close();
  });
});
