/**
 * `agent-incidents`: the operator's command line, on the same public API as the console.
 *
 *   agent-incidents <command> [--db FILE | --pg URL [--schema S]] --workspace ID [--as USER] [--role ROLE] [--json]
 */
import { existsSync } from "node:fs";
import { parseArgs, type styleText } from "node:util";
// only the package's public entry points, as any host would use them
import { createIncidents, isIncidentError, RoleSchema, type Incident, type Incidents, type IncidentStore, type Operator, type Role, type Severity } from "agent-incidents";
import { planDeliveries, runDeliveries, type DeliveriesPlan } from "./deliveries.js";
import { cell, CliError, didYouMean, paint, plain, safeJson, shortTime, UsageError } from "./text.js";

export { CliError, UsageError } from "./text.js";

const ROLES = RoleSchema.options;

export const USAGE = `Usage: agent-incidents <command> [options]

Commands:
  list                      open incidents, by severity then recency
                            [--status S] [--severity S] [--agent ID] [--limit N]
  show ID                   one incident with its activity and snapshot
  ack ID                    acknowledge
  investigate ID            start investigating
  assign ID USER            assign (USER "-" unassigns)
  note ID TEXT              add a note
  severity ID LEVEL --reason TEXT
  resolve ID --note TEXT [--root-cause X] [--action X]... [--systemic]
  reopen ID [--reason TEXT]
  escalate --title TEXT --severity LEVEL [--summary TEXT] [--agent ID]
  stats [--since 7d|ISO-TIME]
  serve [--port N] [--host H]   the web console, on 127.0.0.1, behind a token in its URL
  deliveries                notifications in the outbox, newest first, of every workspace (admin)
                            [--status pending|delivered|dead] [--notifier NAME] [--limit N]
  deliveries retry ID...    send pending or dead ones again from their first try (admin)
  deliveries retry --status dead|pending [--notifier NAME] [--to NEW_NAME]
                            the runtime delivering from this store sends them; --to moves
                            them to a renamed notifier

Options:
  --db FILE         a SQLite file (or AGENT_INCIDENTS_DB); it must exist
  --pg URL          a PostgreSQL connection string, with --schema S (default agent_incidents)
  --workspace ID    the workspace (or AGENT_INCIDENTS_WORKSPACE)
  --as USER         who acts (default: $USER, or "cli")
  --role ROLE       viewer, approver, operator or admin (default admin: whoever holds the database)
  --json            machine-readable JSON on stdout
  -h, --help        this text

An incident is named by its id or by its number in the workspace (42 or #42).`;

const OPTIONS = {
  db: { type: "string" },
  pg: { type: "string" },
  schema: { type: "string" },
  workspace: { type: "string" },
  as: { type: "string" },
  role: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  status: { type: "string" },
  severity: { type: "string" },
  agent: { type: "string" },
  limit: { type: "string" },
  reason: { type: "string" },
  note: { type: "string" },
  "root-cause": { type: "string" },
  action: { type: "string", multiple: true },
  systemic: { type: "boolean" },
  title: { type: "string" },
  summary: { type: "string" },
  since: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  notifier: { type: "string" },
  to: { type: "string" },
} as const;

const GLOBAL = ["db", "pg", "schema", "workspace", "as", "role", "json", "help"];
/** Each command: how many positional arguments it takes ("some": its own check), and its own options. */
const COMMANDS: Record<string, { args: number | "some"; options: string[] }> = {
  list: { args: 0, options: ["status", "severity", "agent", "limit"] },
  show: { args: 1, options: [] },
  ack: { args: 1, options: [] },
  investigate: { args: 1, options: [] },
  assign: { args: 2, options: [] },
  note: { args: 2, options: [] },
  severity: { args: 2, options: ["reason"] },
  resolve: { args: 1, options: ["note", "root-cause", "action", "systemic"] },
  reopen: { args: 1, options: ["reason"] },
  escalate: { args: 0, options: ["title", "severity", "summary", "agent"] },
  stats: { args: 0, options: ["since"] },
  serve: { args: 0, options: ["port", "host"] },
  deliveries: { args: "some", options: ["status", "notifier", "limit", "to"] },
};

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

type Values = ReturnType<typeof parse>["values"];
function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Runs one command; resolves to the exit code. `serve` resolves only when the server closes. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /^Unknown option '--([^']+)'/.exec(message);
    const hint = unknown ? didYouMean(unknown[1]!, Object.keys(OPTIONS), "--") : "";
    io.stderr.write(`agent-incidents: ${plain(hint ? `${message.split(". ")[0]}${hint}` : message)}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === "help") {
    (values.help || command === "help" ? io.stdout : io.stderr).write(`${USAGE}\n`);
    return values.help || command === "help" ? 0 : 2;
  }
  const spec = COMMANDS[command];
  let deliveries: DeliveriesPlan | null = null;
  try {
    if (!spec) throw new UsageError(`unknown command "${command}"${didYouMean(command, Object.keys(COMMANDS))}`);
    if (spec.args !== "some" && args.length !== spec.args) throw new UsageError(`${command} takes ${spec.args === 0 ? "no arguments" : `${spec.args} argument${spec.args > 1 ? "s" : ""}`}, got ${args.length}`);
    const stray = Object.keys(values).filter((k) => !GLOBAL.includes(k) && !spec.options.includes(k));
    if (stray.length > 0) throw new UsageError(`${command} does not take --${stray.join(", --")}`);
    roleFrom(values);
    if (command === "deliveries") deliveries = planDeliveries(args, values);
  } catch (error) {
    // what was typed is printed back: made safe like everything else
    io.stderr.write(`agent-incidents: ${plain((error as Error).message)}\n\n${USAGE}\n`);
    return 2;
  }

  let incidents: Incidents | null = null;
  try {
    if (deliveries) {
      // the outbox is the store's, of every workspace: no workspace needed, but an admin
      const role = roleFrom(values);
      const id = values.as ?? io.env["USER"] ?? "cli";
      if (role !== "admin") throw new CliError(`Actor ${id} (role ${role}) may not see or re-send deliveries: they are for admins (--role admin)`);
      incidents = createIncidents({ store: await openStore(values, io.env) });
      return print(await runDeliveries(deliveries, incidents), values, io);
    }
    const store = await openStore(values, io.env);
    incidents = createIncidents({ store });
    const ops = incidents.as(actorFrom(values, io.env));
    if (command === "serve") {
      const { serve } = await import("./serve.js");
      const instance = incidents;
      incidents = null; // serve owns it now, and closes it on SIGINT/SIGTERM
      return await serve(instance, ops.actor, { port: values.port, host: values.host }, io);
    }
    return print(await execute(command, args, values, ops), values, io);
  } catch (error) {
    io.stderr.write(`agent-incidents: ${describe(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await incidents?.close().catch(() => undefined);
  }
}

function print(output: Output, values: Values, io: CliIo): number {
  const color = !values.json && io.stdout.isTTY === true && !io.env["NO_COLOR"];
  io.stdout.write(values.json ? `${safeJson(output.json)}\n` : `${output.text(color)}\n`);
  return 0;
}

async function openStore(values: Values, env: CliIo["env"]): Promise<IncidentStore> {
  const file = values.db ?? (values.pg === undefined ? env["AGENT_INCIDENTS_DB"] : undefined);
  if (file !== undefined && values.pg !== undefined) throw new UsageError("give either --db or --pg, not both");
  if (values.schema !== undefined && values.pg === undefined) throw new UsageError("--schema goes with --pg");
  if (values.pg !== undefined) {
    const { postgresStore } = await import("agent-incidents/postgres");
    return postgresStore({ connectionString: values.pg, ...(values.schema ? { schema: values.schema } : {}) });
  }
  if (file === undefined) throw new UsageError("which database? give --db FILE (or set AGENT_INCIDENTS_DB), or --pg URL");
  // a mistyped path must not create an empty database
  if (file === "" || !existsSync(file)) throw new CliError(`no database at ${JSON.stringify(file)} (a runtime using sqliteStore creates it)`);
  await refuseForeign(file);
  const { sqliteStore } = await import("agent-incidents/sqlite");
  return sqliteStore({ filename: file });
}

/** A SQLite file that agent-incidents never migrated is someone else's: opening it would add our tables. */
async function refuseForeign(file: string): Promise<void> {
  const { default: Database } = await import("better-sqlite3");
  let ours = false;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      ours = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'incidents')").all().length === 2;
    } finally {
      db.close();
    }
  } catch (error) {
    throw new CliError(`cannot open ${JSON.stringify(file)} as a SQLite database: ${(error as Error).message}`);
  }
  if (!ours) throw new CliError(`${JSON.stringify(file)} is not an agent-incidents database (it has no incidents table)`);
}

function actorFrom(values: Values, env: CliIo["env"]) {
  const workspaceId = values.workspace ?? env["AGENT_INCIDENTS_WORKSPACE"];
  if (!workspaceId) throw new UsageError("which workspace? give --workspace ID (or set AGENT_INCIDENTS_WORKSPACE)");
  return { id: values.as ?? env["USER"] ?? "cli", role: roleFrom(values), workspaceId };
}

/** `--role`, by default admin: whoever holds the database file can do anything with it anyway. */
function roleFrom(values: Values): Role {
  const role = values.role ?? "admin";
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}${didYouMean(role, ROLES)}`);
  return role as Role;
}

/** An incident by id, or by number (42 or #42) in the actor's workspace. */
async function resolveId(ops: Operator, name: string): Promise<string> {
  const number = /^#?(\d{1,15})$/.exec(name);
  if (!number) return name;
  const wanted = Number(number[1]);
  let cursor: string | undefined;
  do {
    const page = await ops.list({ sort: "recency", limit: 500, ...(cursor ? { cursor } : {}) });
    const found = page.items.find((i) => i.number === wanted);
    if (found) return found.id;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  throw new CliError(`no incident #${wanted} in workspace ${ops.actor.workspaceId}`);
}

interface Output {
  json: unknown;
  text: (color: boolean) => string;
}

async function execute(command: string, args: string[], values: Values, ops: Operator): Promise<Output> {
  const changed = (incident: Incident): Output => ({ json: incident, text: (color) => `${tag(incident, color)} is ${incident.status} (version ${incident.version})` });
  const id = async () => resolveId(ops, args[0]!);
  switch (command) {
    case "list": {
      const many = (v: string | undefined) => (v === undefined ? undefined : v.split(",").filter(Boolean));
      if (values.limit !== undefined && !/^\d{1,4}$/.test(values.limit)) throw new UsageError("--limit must be a whole number");
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      const page = await ops.list({
        status: (many(values.status) ?? ["open", "acknowledged", "investigating"]) as never,
        ...(values.severity ? { severity: many(values.severity) as never } : {}),
        ...(values.agent ? { agentId: many(values.agent)! } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return { json: page, text: (color) => table(page.items, color) };
    }
    case "show": {
      const context = await ops.context(await id());
      return { json: context, text: (color) => showText(context, color) };
    }
    case "ack":
      return changed(await ops.acknowledge(await id()));
    case "investigate":
      return changed(await ops.startInvestigating(await id()));
    case "assign":
      return changed(await ops.assign(await id(), args[1] === "-" ? null : args[1]!));
    case "note":
      return changed(await ops.addNote(await id(), args[1]!));
    case "severity":
      if (values.reason === undefined) throw new UsageError("severity needs --reason TEXT");
      return changed(await ops.setSeverity(await id(), args[1] as Severity, values.reason));
    case "resolve":
      if (values.note === undefined) throw new UsageError("resolve needs --note TEXT");
      return changed(
        await ops.resolve(await id(), {
          note: values.note,
          rootCause: (values["root-cause"] ?? "other") as never,
          actions: (values.action ?? []) as never,
          systemic: values.systemic ?? false,
        }),
      );
    case "reopen":
      return changed(await ops.reopen(await id(), values.reason));
    case "escalate": {
      if (values.title === undefined || values.severity === undefined) throw new UsageError("escalate needs --title TEXT and --severity LEVEL");
      // (the title printed back below goes through cell() like every agent's text)
      const incident = await ops.escalate({
        title: values.title,
        severity: values.severity as Severity,
        ...(values.summary ? { summary: values.summary } : {}),
        ...(values.agent ? { agentId: values.agent } : {}),
      });
      return { json: incident, text: (color) => `escalated: ${tag(incident, color)} ${cell(incident.title, 200).trimEnd()}` };
    }
    case "stats": {
      const stats = await ops.stats(values.since === undefined ? {} : { since: sinceTime(values.since) });
      return { json: stats, text: () => statsText(stats) };
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

function sinceTime(since: string): string {
  const relative = /^(\d{1,5})([dh])$/.exec(since);
  if (!relative) return since; // validated by stats()
  const ms = Number(relative[1]) * (relative[2] === "d" ? 86_400_000 : 3_600_000);
  return new Date(Date.now() - ms).toISOString();
}

const SEVERITY_STYLE: Record<Severity, Parameters<typeof styleText>[0]> = { critical: ["bold", "red"], high: "red", medium: "yellow", low: "cyan" };
const tag = (i: Incident, color: boolean) => paint(color, SEVERITY_STYLE[i.severity], `#${i.number} ${i.severity}`);

function table(items: Incident[], color: boolean): string {
  if (items.length === 0) return "no incidents match";
  const header = `${"#".padEnd(6)} ${"SEVERITY".padEnd(9)} ${"STATUS".padEnd(13)} ${"AGENT".padEnd(18)} ${"SEEN".padEnd(5)} ${"LAST SEEN".padEnd(20)} TITLE`;
  const rows = items.map((i) => {
    const severity = paint(color, SEVERITY_STYLE[i.severity], i.severity.padEnd(9));
    return `${String(i.number).padEnd(6)} ${severity} ${i.status.padEnd(13)} ${cell(i.agentId ?? "-", 18)} ${String(i.occurrences).padEnd(5)} ${shortTime(i.lastSeenAt).padEnd(20)} ${cell(i.title, 80).trimEnd()}`;
  });
  return [paint(color, "bold", header), ...rows].join("\n");
}

function showText(context: Awaited<ReturnType<Operator["context"]>>, color: boolean): string {
  const i = context.incident;
  const lines = [
    paint(color, "bold", `${tag(i, color)} ${cell(i.title, 200).trimEnd()}`),
    `  status       ${i.status}${i.assignee ? ` (assigned to ${plain(i.assignee)})` : ""}`,
    `  severity     ${i.severity}: ${plain(i.severityReason.explanation)}`,
    `  kind         ${i.kind}`,
    `  agent        ${plain(i.agentId)} in ${i.environment}`,
    `  run          ${plain(i.runId)}, event ${plain(i.eventId)}`,
    `  occurrences  ${i.occurrences} (first ${i.firstSeenAt}, last ${i.lastSeenAt})`,
    `  id           ${plain(i.id)}`,
    "",
    "Activity:",
    ...context.activity.map((a) => `  ${a.at}  ${plain(a.actor.id)}  ${a.type}${a.message ? `: ${cell(a.message, 120).trimEnd()}` : ""}`),
  ];
  if (context.snapshot) lines.push("", "Snapshot (redacted):", safeJson(context.snapshot).replace(/^/gm, "  "));
  return lines.join("\n");
}

function statsText(s: Awaited<ReturnType<Operator["stats"]>>): string {
  const duration = (ms: number | null) => (ms === null ? "-" : ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);
  return [
    `incidents    ${s.total} (${s.unresolved} unresolved)${s.since ? ` since ${s.since}` : ""}`,
    `MTTA         ${duration(s.mtta.meanMs)} mean, ${duration(s.mtta.medianMs)} median`,
    `MTTR         ${duration(s.mttr.meanMs)} mean, ${duration(s.mttr.medianMs)} median`,
    `by severity  ${Object.entries(s.bySeverity).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `by agent     ${plain(Object.entries(s.byAgent).map(([k, v]) => `${k} ${v}`).join(", ")) || "-"}`,
    `root causes  ${Object.entries(s.rootCauses).map(([k, v]) => `${k} ${v}`).join(", ") || "-"}`,
    `systemic     ${s.systemic.share === null ? "-" : `${Math.round(s.systemic.share * 100)}%`} of ${s.systemic.resolved} resolved`,
  ].join("\n");
}

function describe(error: unknown): string {
  if (isIncidentError(error) || error instanceof UsageError || error instanceof CliError) return plain(error.message);
  return `unexpected error: ${plain(error instanceof Error ? error.message : String(error))}`;
}
