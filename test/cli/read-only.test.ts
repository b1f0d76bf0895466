/**
 * Commands that only look change nothing on disk (issue 17, items 10 and 11): not the data, not
 * the schema version, not the journal mode, and no -wal/-shm files, whoever runs them; and a --db
 * that is not a regular file is refused at once instead of waiting on it for ever.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { CURRENT_SCHEMA, olderDatabase, onDisk, runtimeDatabase, schemaVersions } from "./db-files.js";
import { cli, ONE_LINE } from "./run-bin.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-cli-ro-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const READS = [["list"], ["show", "1"], ["stats"], ["list", "--json"], ["show", "2", "--json"]];
const scoped = (db: string, args: string[], options = {}) => cli([...args, "--db", db, "--workspace", "ws_acme"], options);

describe("read commands change nothing", { timeout: 120_000 }, () => {
  it("leave a rollback-journal file as it was: same bytes, still a rollback journal, no -wal or -shm", async () => {
    const db = await runtimeDatabase(join(dir, "rollback.db"));
    const handle = new Database(db);
    handle.pragma("journal_mode = DELETE");
    handle.close();
    const before = onDisk(db);
    expect(before.journal).toBe("rollback");
    for (const args of READS) {
      const run = await scoped(db, args);
      expect(run.stderr, args.join(" ")).toBe("");
      expect(run.code, args.join(" ")).toBe(0);
    }
    expect((await cli(["deliveries", "--db", db])).code).toBe(0);
    expect((await scoped(db, ["list"])).stdout).toMatch(/^#\s+SEVERITY[^\n]*\n2\s+critical[^\n]*\n1\s+medium/);
    expect(onDisk(db)).toEqual(before);
  });

  it("leave a WAL file that no process has open without -wal or -shm files, its bytes as they were", async () => {
    const db = await runtimeDatabase(join(dir, "closed.db"));
    const before = onDisk(db);
    expect(before).toMatchObject({ journal: "wal", files: ["closed.db (uid " + process.getuid!() + ")"] });
    for (const args of READS) expect((await scoped(db, args)).code, args.join(" ")).toBe(0);
    expect(onDisk(db)).toEqual(before);
  });

  it("read what a running runtime wrote but has not checkpointed yet, and leave its files to it", async () => {
    const db = await runtimeDatabase(join(dir, "running.db"));
    const runtime = createIncidents({ store: sqliteStore({ filename: db }) });
    try {
      const report = runtime.reporter({ workspaceId: "ws_acme", agentId: "agt_mail", environment: "production" });
      await report.anomaly({ runId: "run_3", eventId: "evt_3", pattern: "mail loop" });
      const files = onDisk(db).files;
      expect(files.some((f) => f.startsWith("running.db-wal"))).toBe(true);
      const list = await scoped(db, ["list"]);
      expect(list.code).toBe(0);
      expect(list.stdout).toContain("Anomaly: mail loop");
      expect(onDisk(db).files).toEqual(files);
      // the runtime goes on writing as before
      await report.anomaly({ runId: "run_4", eventId: "evt_4", pattern: "after the read" });
    } finally {
      await runtime.close();
    }
    expect((await scoped(db, ["list"])).stdout).toContain("Anomaly: after the read");
  });

  it("refuse a database older than the CLI in one line, and leave it at its version for the runtime that wrote it", async () => {
    const db = olderDatabase(join(dir, "older.db"), CURRENT_SCHEMA - 1);
    const before = onDisk(db);
    for (const args of [...READS, ["ack", "1"], ["note", "1", "hello"]]) {
      const run = await scoped(db, args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr, args.join(" ")).toMatch(ONE_LINE);
      expect(run.stderr).toContain(`is at schema version ${CURRENT_SCHEMA - 1}, older than this agent-incidents (${CURRENT_SCHEMA})`);
    }
    expect(onDisk(db)).toEqual(before);
    expect(schemaVersions(db).at(-1)).toBe(CURRENT_SCHEMA - 1);
  });

  it("refuse a database newer than the CLI in one line", async () => {
    const db = await runtimeDatabase(join(dir, "newer.db"));
    const handle = new Database(db);
    handle.prepare("INSERT INTO schema_migrations VALUES (?, 'from the future', 'x')").run(CURRENT_SCHEMA + 1);
    handle.close();
    const before = onDisk(db);
    for (const args of [["list"], ["ack", "1"]]) {
      const run = await scoped(db, args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(ONE_LINE);
      expect(run.stderr).toContain(`is at schema version ${CURRENT_SCHEMA + 1}, newer than this library knows (${CURRENT_SCHEMA}); upgrade agent-incidents`);
    }
    expect(onDisk(db)).toEqual(before);
  });

  // another user needs root to become one; the database's owner must not be root, who may write anything
  const asRoot = process.getuid?.() === 0;
  const [OWNER, READER] = [1, 65534]; // daemon and nobody, on every Linux
  describe.skipIf(!asRoot)("run as another user with read access only (needs root to switch users)", () => {
    const shared = join(dir, "shared");
    const runtime = (db: string, pattern: string) =>
      execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { createIncidents } from ${JSON.stringify(join(import.meta.dirname, "../../dist/index.js"))};
           import { sqliteStore } from ${JSON.stringify(join(import.meta.dirname, "../../dist/sqlite.js"))};
           const incidents = createIncidents({ store: sqliteStore({ filename: ${JSON.stringify(db)} }) });
           const r = await incidents.reporter({ workspaceId: "ws_acme", agentId: "agt", environment: "production" }).anomaly({ runId: ${JSON.stringify(pattern)}, eventId: "e", pattern: ${JSON.stringify(pattern)} });
           await incidents.close();
           console.log(r.outcome);`,
        ],
        { uid: OWNER, gid: OWNER, encoding: "utf8" },
      ).trim();

    /** A database of OWNER's, readable by all, in a directory anyone may write to (as /tmp): the reader could leave files there. */
    const ownedDatabase = async (name: string) => {
      mkdirSync(shared, { recursive: true });
      chmodSync(dir, 0o755);
      chmodSync(shared, 0o1777);
      const db = await runtimeDatabase(join(shared, name));
      chownSync(db, OWNER, OWNER);
      chmodSync(db, 0o644);
      return db;
    };

    it("reads a database whose owner's runtime is stopped, leaves no files of its own, and the owner's runtime still writes", async () => {
      const db = await ownedDatabase("stopped.db");
      const before = onDisk(db);
      for (const args of READS) {
        const run = await scoped(db, args, { uid: READER });
        expect(run.stderr, args.join(" ")).toBe("");
        expect(run.code, args.join(" ")).toBe(0);
      }
      expect((await scoped(db, ["list"], { uid: READER })).stdout).toContain("api_unavailable");
      expect(onDisk(db)).toEqual(before);
      expect(runtime(db, "after the reader")).toBe("created");
    });

    it("reads a database while its owner's runtime has it open, and the runtime goes on writing", async () => {
      const db = await ownedDatabase("held.db");
      const holder = spawn(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { createIncidents } from ${JSON.stringify(join(import.meta.dirname, "../../dist/index.js"))};
           import { sqliteStore } from ${JSON.stringify(join(import.meta.dirname, "../../dist/sqlite.js"))};
           const incidents = createIncidents({ store: sqliteStore({ filename: ${JSON.stringify(db)} }) });
           const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt", environment: "production" });
           await report.anomaly({ runId: "held", eventId: "e", pattern: "while held" });
           console.log("ready");
           process.stdin.once("data", async () => {
             console.log((await report.anomaly({ runId: "held2", eventId: "e", pattern: "after the read" })).outcome);
             await incidents.close();
             process.stdin.destroy();
           });`,
        ],
        { uid: OWNER, gid: OWNER, stdio: ["pipe", "pipe", "inherit"] },
      );
      let out = "";
      holder.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      await expect.poll(() => out, { timeout: 30_000 }).toContain("ready");
      const files = onDisk(db).files;
      const run = await scoped(db, ["list"], { uid: READER });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Anomaly: while held");
      expect(onDisk(db).files).toEqual(files);
      expect(files.every((f) => f.endsWith(`(uid ${OWNER})`))).toBe(true);
      const exited = new Promise((resolve) => holder.on("exit", resolve));
      holder.stdin.end("go\n");
      expect(await exited).toBe(0);
      expect(out).toContain("created");
    });
  });
});

describe("--db that is not a regular file", { timeout: 120_000 }, () => {
  it("is refused in one line with exit 1, at once, for a FIFO, a directory and a device", async () => {
    const fifo = join(dir, "pipe.db");
    execFileSync("mkfifo", [fifo]);
    const cases: Array<[string, RegExp]> = [
      [fifo, /"[^"]*pipe\.db" is a FIFO, not a database file/],
      [dir, /is a directory, not a database file/],
      ["/dev/null", /"\/dev\/null" is a device, not a database file/],
    ];
    for (const [path, message] of cases) {
      for (const args of [["list"], ["ack", "1"], ["stats"]]) {
        // a hang is killed at the timeout and has no exit code
        const run = await scoped(path, args, { timeoutMs: 20_000 });
        expect(run.code, `${args.join(" ")} ${path}`).toBe(1);
        expect(run.stderr).toMatch(ONE_LINE);
        expect(run.stderr).toMatch(message);
      }
      const fromEnv = await cli(["list", "--workspace", "ws_acme"], { env: { AGENT_INCIDENTS_DB: path }, timeoutMs: 20_000 });
      expect(fromEnv.code).toBe(1);
      expect(fromEnv.stderr).toMatch(message);
    }
  });

  it("is refused in one line when it is a file but not SQLite", async () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "not a database\n");
    const run = await scoped(text, ["list"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(ONE_LINE);
    expect(run.stderr).toMatch(/is not an agent-incidents database \(not a SQLite file\)/);
  });
});
