/** SQLite files as a runtime leaves them, and what a test checks of them on disk. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { migrationsFor } from "../../src/stores/sql-migrations.js";

/** The schema version this build migrates to. */
export const CURRENT_SCHEMA = Math.max(...migrationsFor("sqlite").map((m) => m.version));

/** A runtime's database, closed: two incidents in ws_acme (one critical), WAL mode, no -wal/-shm. */
export async function runtimeDatabase(file: string): Promise<string> {
  const incidents = createIncidents({ store: sqliteStore({ filename: file }) });
  const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
  await report.policyBlocked({ runId: "run_1", eventId: "evt_1", action: { type: "refund.create" }, policy: { id: "pol_1", name: "Refund limit", effect: "block" }, impact: "low" });
  await report.executionFailed({ runId: "run_2", eventId: "evt_2", action: { type: "refund.create" }, connector: { id: "stripe", provider: "stripe" }, error: { message: "api_unavailable" } });
  await incidents.close();
  return file;
}

/** A database an older release left: migrated up to `version` only. */
export function olderDatabase(file: string, version: number): string {
  const db = new Database(file);
  db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  for (const migration of migrationsFor("sqlite").filter((m) => m.version <= version)) {
    db.exec(migration.sql);
    db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(migration.version, migration.name, new Date().toISOString());
  }
  db.pragma("journal_mode = WAL");
  db.close();
  return file;
}

/** What is on disk for a database file: its bytes' hash, the files beside it (-wal, -shm, -journal) with their owners, and its journal mode. */
export function onDisk(file: string): { sha256: string; files: string[]; journal: "wal" | "rollback" } {
  const bytes = readFileSync(file);
  const files = readdirSync(dirname(file))
    .filter((f) => f.startsWith(basename(file)))
    .sort()
    .map((f) => `${f} (uid ${statSync(join(dirname(file), f)).uid})`);
  return { sha256: createHash("sha256").update(bytes).digest("hex"), files, journal: bytes[18] === 2 ? "wal" : "rollback" };
}

/** The schema versions recorded in the file, read without leaving a trace (the test runs as the owner). */
export function schemaVersions(file: string): number[] {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma("query_only = ON");
    return (db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as Array<{ version: number }>).map((r) => r.version);
  } finally {
    db.close();
  }
}
