/**
 * sqliteStore's `readOnly` and `migrate: false`: a tool that only looks changes nothing on disk,
 * and a store told not to migrate refuses a database at another schema version instead.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createIncidents, StorageError, ValidationError } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { CURRENT_SCHEMA, olderDatabase, onDisk, runtimeDatabase, schemaVersions } from "../cli/db-files.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-sqlite-ro-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const actor = { id: "usr_ana", role: "admin", workspaceId: "ws_acme" } as const;

describe("sqliteStore({ readOnly: true })", () => {
  it("reads a WAL database no process has open, refuses writes, and leaves the file and its directory as they were", async () => {
    const db = await runtimeDatabase(join(dir, "closed.db"));
    const before = onDisk(db);
    const incidents = createIncidents({ store: sqliteStore({ filename: db, readOnly: true }) });
    const ops = incidents.as(actor);
    const page = await ops.list();
    expect(page.items.map((i) => i.severity)).toEqual(["critical", "medium"]);
    await expect(ops.acknowledge(page.items[0]!.id)).rejects.toThrow(StorageError);
    await expect(ops.acknowledge(page.items[0]!.id)).rejects.toThrow(/readonly/);
    await incidents.close();
    expect(onDisk(db)).toEqual(before);
  });

  it("refuses an older database, which it does not migrate, and a newer one", async () => {
    const older = olderDatabase(join(dir, "older.db"), CURRENT_SCHEMA - 2);
    const before = onDisk(older);
    expect(() => sqliteStore({ filename: older, readOnly: true })).toThrow(
      new RegExp(`schema version ${CURRENT_SCHEMA - 2}, older than this agent-incidents \\(${CURRENT_SCHEMA}\\)`),
    );
    expect(onDisk(older)).toEqual(before);
    const newer = await runtimeDatabase(join(dir, "newer.db"));
    execFileSync(process.execPath, ["-e", `const D = require("better-sqlite3"); const d = new D(${JSON.stringify(newer)}); d.prepare("INSERT INTO schema_migrations VALUES (?, 'x', 'x')").run(${CURRENT_SCHEMA + 1}); d.close();`]);
    expect(() => sqliteStore({ filename: newer, readOnly: true })).toThrow(/newer than this library knows/);
  });

  it("refuses what is not a regular SQLite file, and options that contradict it", () => {
    const fifo = join(dir, "fifo.db");
    execFileSync("mkfifo", [fifo]);
    expect(() => sqliteStore({ filename: fifo, readOnly: true })).toThrow(/not a regular file/);
    expect(() => sqliteStore({ filename: join(dir, "missing.db"), readOnly: true })).toThrow(/no such file/);
    const text = join(dir, "text.db");
    writeFileSync(text, "hello, this is not SQLite at all, not even close\n");
    expect(() => sqliteStore({ filename: text, readOnly: true })).toThrow(/not a SQLite database/);
    expect(() => sqliteStore({ filename: ":memory:", readOnly: true })).toThrow(ValidationError);
    expect(() => sqliteStore({ filename: text, readOnly: true, migrate: true })).toThrow(/readOnly never migrates/);
  });
});

describe("sqliteStore({ migrate: false })", () => {
  it("opens a current database and writes to it, but neither creates tables in an empty file nor migrates an older one", async () => {
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    expect(() => sqliteStore({ filename: empty, migrate: false })).toThrow(/has no agent-incidents tables/);
    expect(onDisk(empty).sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const older = olderDatabase(join(dir, "older-rw.db"), CURRENT_SCHEMA - 1);
    expect(() => sqliteStore({ filename: older, migrate: false })).toThrow(/older than this agent-incidents/);
    expect(schemaVersions(older).at(-1)).toBe(CURRENT_SCHEMA - 1);
    const current = await runtimeDatabase(join(dir, "current.db"));
    const incidents = createIncidents({ store: sqliteStore({ filename: current, migrate: false }) });
    const ops = incidents.as(actor);
    const [first] = (await ops.list()).items;
    expect((await ops.acknowledge(first!.id)).status).toBe("acknowledged");
    await incidents.close();
    // the default still migrates, as a runtime does
    await sqliteStore({ filename: older }).close();
    expect(schemaVersions(older).at(-1)).toBe(CURRENT_SCHEMA);
  });
});
