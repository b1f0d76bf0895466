/**
 * The database a command works on. The CLI never creates or migrates one: a runtime does that.
 * Reads open it read-only, so `list` run by anyone with read access changes nothing on disk; a
 * database at another schema version than this CLI's is refused, in one line, by the store.
 */
import { readSync, openSync, closeSync, constants, statSync } from "node:fs";
import { isIncidentError, type IncidentStore } from "agent-incidents";
import { CliError, UsageError } from "./text.js";

export interface StoreValues {
  db?: string | undefined;
  pg?: string | undefined;
  schema?: string | undefined;
}

/** Opens the store named by `--db`/`--pg` (or AGENT_INCIDENTS_DB); `readOnly` for commands that only look. */
export async function openStore(values: StoreValues, env: Record<string, string | undefined>, readOnly: boolean): Promise<IncidentStore> {
  const file = values.db ?? (values.pg === undefined ? env["AGENT_INCIDENTS_DB"] : undefined);
  if (file !== undefined && values.pg !== undefined) throw new UsageError("give either --db or --pg, not both");
  if (values.schema !== undefined && values.pg === undefined) throw new UsageError("--schema goes with --pg");
  if (values.pg !== undefined) return openPostgres(values.pg, values.schema, readOnly);
  if (file === undefined) throw new UsageError("which database? give --db FILE (or set AGENT_INCIDENTS_DB), or --pg URL");
  checkFile(file);
  const { sqliteStore } = await import("agent-incidents/sqlite");
  try {
    return sqliteStore(readOnly ? { filename: file, readOnly: true } : { filename: file, migrate: false });
  } catch (error) {
    throw storeError(error, file);
  }
}

/** A path that is a SQLite file, or a one-line refusal; never waits on a FIFO or a device. */
function checkFile(file: string): void {
  const name = JSON.stringify(file);
  let stat;
  try {
    stat = file === "" ? null : statSync(file);
  } catch {
    stat = null;
  }
  // a mistyped path must not create an empty database
  if (stat === null) throw new CliError(`no database at ${name} (a runtime using sqliteStore creates it)`);
  if (!stat.isFile()) {
    const what = stat.isDirectory() ? "a directory" : stat.isFIFO() ? "a FIFO" : stat.isSocket() ? "a socket" : "a device";
    throw new CliError(`${name} is ${what}, not a database file`);
  }
  let header: Buffer;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      header = Buffer.alloc(16);
      header = header.subarray(0, readSync(fd, header, 0, 16, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new CliError(`cannot read ${name}: ${(error as Error).message}`);
  }
  if (header.toString("latin1") !== "SQLite format 3\u0000") throw new CliError(`${name} is not an agent-incidents database (not a SQLite file)`);
}

/** The store's refusal in the CLI's words: which file, and why. */
function storeError(error: unknown, file: string): unknown {
  if (!isIncidentError(error)) return error;
  const message = error.message.replace(/^sqlite store: (cannot open the database: )?/, "");
  if (/has no agent-incidents tables/.test(message)) return new CliError(`${JSON.stringify(file)} is not an agent-incidents database (it has no agent-incidents tables)`);
  return new CliError(message.startsWith("the database ") ? `${JSON.stringify(file)} ${message.slice("the database ".length)}` : `${JSON.stringify(file)}: ${message}`);
}

async function openPostgres(url: string, schema: string | undefined, readOnly: boolean): Promise<IncidentStore> {
  const { postgresStore } = await import("agent-incidents/postgres");
  const where = serverOf(url);
  let store;
  try {
    store = postgresStore({ connectionString: url, ...(schema ? { schema } : {}), ...(readOnly ? { readOnly: true } : { migrate: false }), connectTimeoutMs: 10_000, max: 2 });
  } catch (error) {
    // the URL itself (it may hold a password) is never printed back
    if (isIncidentError(error) && /connectionString/.test(error.message)) throw new CliError(`--pg must be a PostgreSQL URL like postgres://user@host:5432/db`);
    throw error;
  }
  try {
    await store.migrate(); // with migrate: false, only checks the schema: errors now, in the CLI's words
  } catch (error) {
    await store.close().catch(() => undefined);
    const code = String(((error as { cause?: { code?: unknown } }).cause ?? {}).code ?? "");
    const message = error instanceof Error ? error.message : String(error);
    if (/cannot connect/.test(message)) {
      const why = { ECONNREFUSED: "connection refused", ENOTFOUND: "no such host", EAI_AGAIN: "no such host", EHOSTUNREACH: "no route to host", ENETUNREACH: "no route to host", ETIMEDOUT: "timed out" }[code] ?? "timed out or refused";
      throw new CliError(`cannot connect to PostgreSQL at ${where} (${why})`);
    }
    if (code === "28P01" || code === "28000") throw new CliError(`PostgreSQL at ${where} refused the login (${code === "28P01" ? "wrong password" : "no such user or not allowed"})`);
    if (code === "3D000") throw new CliError(`PostgreSQL at ${where} has no such database`);
    throw new CliError(message.replace(/^postgres store: (schema check failed: )?/, ""));
  }
  return store;
}

/** `host:port` of a connection string, for messages: never the user or password. */
function serverOf(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.searchParams.get("host") ?? (decodeURIComponent(parsed.hostname) || "localhost");
    return `${host}:${parsed.searchParams.get("port") ?? (parsed.port || "5432")}`;
  } catch {
    return "the --pg URL";
  }
}
