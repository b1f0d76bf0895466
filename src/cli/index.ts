/**
 * `agent-incidents`: the operator's command line, on the same public API as the console.
 *
 *   agent-incidents <command> [--db FILE | --pg URL [--schema S]] --workspace ID [--as USER] [--role ROLE] [--json]
 *
 * argv -> parseArgs -> usage checks (exit 2, before any database is opened) -> openStore
 * (read-only for the commands that only look) -> execute -> emit to stdout (exit 3 when a change
 * was made but its output could not be written).
 */
import { parseArgs } from "node:util";
// only the package's public entry points, as any host would use them
import { createIncidents, isIncidentError, RoleSchema, type Incidents, type Role } from "agent-incidents";
import { checkValues, execute, type Output } from "./commands.js";
import { planDeliveries, runDeliveries, type DeliveriesPlan } from "./deliveries.js";
import { emit, EXIT, OutputError, ReaderGone, type Out } from "./output.js";
import { openStore } from "./store.js";
import { CliError, didYouMean, plain, safeJson, UsageError } from "./text.js";
import { USAGE } from "./usage.js";

export { CliError, UsageError } from "./text.js";
export { EXIT } from "./output.js";
export { USAGE } from "./usage.js";

const ROLES = RoleSchema.options;


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
  kind: { type: "string" },
  agent: { type: "string" },
  limit: { type: "string" },
  cursor: { type: "string" },
  all: { type: "boolean" },
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
  members: { type: "boolean" },
  match: { type: "string", multiple: true },
  starts: { type: "string" },
  ends: { type: "string" },
  for: { type: "string" },
  until: { type: "string" },
  "until-resolved": { type: "string" },
  comment: { type: "string" },
  state: { type: "string" },
} as const;

const GLOBAL = ["db", "pg", "schema", "workspace", "as", "role", "json", "help"];
/** Each command: how many positional arguments it takes ("some": its own check), and its own options. */
const COMMANDS: Record<string, { args: number | "some"; options: string[] }> = {
  list: { args: 0, options: ["status", "severity", "kind", "agent", "limit", "cursor", "all", "members"] },
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
  snooze: { args: 1, options: ["until", "for", "reason"] },
  // each subcommand's own options are checked in silences.ts
  silence: { args: "some", options: ["match", "starts", "ends", "for", "until-resolved", "comment", "state", "limit"] },
};
/** The commands that only look (and `deliveries` without `retry`, `silence list`): the database is opened read-only for them. */
const READS = new Set(["list", "show", "stats"]);

export interface CliIo {
  /** Written synchronously by the bin: a write that fails throws (see output.ts). */
  stdout: Out;
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

type Values = ReturnType<typeof parse>["values"];
function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Runs one command; resolves to the exit code (see USAGE). `serve` resolves only when the server closes. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const say = (text: string) => {
    try {
      io.stderr.write(text);
    } catch {
      // stderr is gone too: the exit code is all that is left to say it
    }
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    say(`agent-incidents: ${plain(parseProblem(argv, (error as Error).message))}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === "help") {
    if (!(values.help || command === "help")) {
      say(`${USAGE}\n`);
      return EXIT.usage;
    }
    return write(io, () => emit(io.stdout, `${USAGE}\n`), false);
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
    else checkValues(command, args, values);
  } catch (error) {
    // what was typed is printed back: made safe like everything else
    say(`agent-incidents: ${plain((error as Error).message)}\n\n${USAGE}\n`);
    return EXIT.usage;
  }

  const readOnly = deliveries ? deliveries.action === "list" : READS.has(command) || (command === "silence" && args[0] === "list");
  // serve changes only what its user does in the page, and prints nothing after
  const changes = !readOnly && command !== "serve";
  let incidents: Incidents | null = null;
  try {
    let output: Output;
    if (deliveries) {
      // the outbox is the store's, of every workspace: no workspace needed, but an admin
      const role = roleFrom(values);
      const id = values.as ?? io.env["USER"] ?? "cli";
      if (role !== "admin") throw new CliError(`Actor ${id} (role ${role}) may not see or re-send deliveries: they are for admins (--role admin)`);
      incidents = createIncidents({ store: await openStore(values, io.env, readOnly) });
      output = await runDeliveries(deliveries, incidents);
    } else {
      const actor = actorFrom(values, io.env);
      incidents = createIncidents({ store: await openStore(values, io.env, readOnly) });
      const ops = incidents.as(actor);
      if (command === "serve") {
        const { serve } = await import("./serve.js");
        const instance = incidents;
        incidents = null; // serve owns it now, and closes it on SIGINT/SIGTERM
        return await serve(instance, ops.actor, { port: values.port, host: values.host }, io);
      }
      output = await execute(command, args, values, ops);
    }
    return await write(io, () => print(output, values, io), changes);
  } catch (error) {
    say(`agent-incidents: ${describe(error)}\n`);
    return error instanceof UsageError ? EXIT.usage : EXIT.error;
  } finally {
    await incidents?.close().catch(() => undefined);
  }
}

/** Runs the writing of a command's output; `changed`: its change is already committed. */
async function write(io: CliIo, body: () => unknown, changed: boolean): Promise<number> {
  try {
    await body();
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ReaderGone) return EXIT.ok;
    if (!(error instanceof OutputError)) throw error;
    const said = changed ? `the change was made, but its output could not be written (${error.message.replace(/^cannot write the output: /, "")}): do not run it again` : error.message;
    try {
      io.stderr.write(`agent-incidents: ${said}\n`);
    } catch {
      // the exit code says it
    }
    return changed ? EXIT.outputLost : EXIT.error;
  }
}

async function print(output: Output, values: Values, io: CliIo): Promise<void> {
  const color = !values.json && io.stdout.isTTY === true && !io.env["NO_COLOR"];
  if ("stream" in output) return output.stream((text) => emit(io.stdout, text), color);
  emit(io.stdout, values.json ? `${safeJson(output.json)}\n` : `${output.text(color)}\n`);
  if (output.more !== undefined && !values.json) {
    try {
      io.stderr.write(`agent-incidents: more incidents match: --cursor ${output.more} for the next page, or --all for every one\n`);
    } catch {
      // a hint: the list itself was written
    }
  }
}

/** parseArgs' complaint, with what was probably meant: an option of this command, or --json typed -json. */
function parseProblem(argv: string[], message: string): string {
  const unknown = /^Unknown option '(--?)([^']+)'/.exec(message);
  if (!unknown) return message;
  const loose = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false }).positionals[0];
  const spec = loose === undefined ? undefined : COMMANDS[loose];
  const all = Object.keys(OPTIONS);
  let typed = unknown[2]!;
  if (unknown[1] === "-") {
    // -json is read as -j -s -o -n: the word it came from is what was meant
    typed = argv.find((a) => /^-[^-]/.test(a) && a.slice(1, 2) === typed)?.slice(1).split("=")[0] ?? typed;
  }
  // an option of this command first, then any (which then says the command does not take it)
  const hint = (spec ? didYouMean(typed, [...GLOBAL, ...spec.options], "--") : "") || didYouMean(typed, all, "--");
  return `${message.split(". ")[0]}${hint}`;
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

function describe(error: unknown): string {
  if (isIncidentError(error) || error instanceof UsageError || error instanceof CliError) return plain(error.message);
  return `unexpected error: ${plain(error instanceof Error ? error.message : String(error))}`;
}
