/**
 * The `agent-incidents` command as users run it: the built bin (dist/cli.js, what `npx
 * agent-incidents` starts) against a SQLite file that a runtime wrote.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { runCli } from "../../src/cli/index.js";

const BIN = join(import.meta.dirname, "..", "..", "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "agent-incidents-cli-"));
const db = join(dir, "runtime.db");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env["PATH"], ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const scoped = (args: string[], env: Record<string, string> = {}) => cli([...args, "--db", db, "--workspace", "ws_acme"], env);

beforeAll(async () => {
  // a runtime's database: three incidents of different severities, one with a hostile title
  const incidents = createIncidents({ store: sqliteStore({ filename: db }) });
  const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
  await report.policyBlocked({ runId: "run_1", eventId: "evt_1", action: { type: "refund.create" }, policy: { id: "pol_1", name: "Refund limit", effect: "block" }, impact: "low" });
  await report.executionFailed({ runId: "run_2", eventId: "evt_2", action: { type: "refund.create" }, connector: { id: "stripe", provider: "stripe" }, error: { message: "api_unavailable" } });
  await report.policyBlocked({
    runId: "run_3",
    eventId: "evt_3",
    action: { type: "email.send" },
    policy: { id: "pol_2", name: "Evil\u001b[2J\nname", effect: "block" },
    impact: "low",
  });
  await incidents.reporter({ workspaceId: "ws_other", agentId: "agt_x", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "other workspace" });
  await incidents.close();
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("agent-incidents (the bin)", { timeout: 60_000 }, () => {
  it("lists open incidents sorted as the console sorts, plain when piped, one line each", async () => {
    const { code, stdout, stderr } = await scoped(["list"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^#\s+SEVERITY\s+STATUS/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(["critical", "medium", "medium"]);
    // piped: no colour; an agent's control characters cannot reach the terminal or break a row
    expect(stdout).not.toContain("\u001b");
    expect(lines).toHaveLength(4);
    expect(stdout).not.toContain("other workspace");
  });

  it("prints JSON with --json, and shows an incident by number with its activity and snapshot", async () => {
    const list = await scoped(["list", "--json", "--severity", "critical"]);
    const page = JSON.parse(list.stdout) as { items: Array<{ number: number; severity: string }> };
    expect(page.items.map((i) => [i.number, i.severity])).toEqual([[2, "critical"]]);
    const show = await scoped(["show", "#2"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("#2 critical");
    expect(show.stdout).toContain("Activity:");
    expect(show.stdout).toContain("Snapshot (redacted):");
    const json = JSON.parse((await scoped(["show", "2", "--json"])).stdout) as { incident: { number: number }; activity: unknown[] };
    expect(json.incident.number).toBe(2);
    expect(json.activity).toHaveLength(1);
  });

  it("acts as --as with --role (admin unless given), and records it in the activity", async () => {
    const ack = await scoped(["ack", "2", "--as", "usr_ana", "--role", "operator"]);
    expect(ack).toMatchObject({ code: 0, stderr: "" });
    expect(ack.stdout).toMatch(/#2 critical is acknowledged/);
    expect((await scoped(["assign", "2", "usr_bo", "--as", "usr_ana", "--role", "operator"])).code).toBe(0);
    expect((await scoped(["note", "2", "Stripe status page says degraded", "--as", "usr_ana"])).code).toBe(0);
    expect((await scoped(["severity", "1", "high", "--reason", "customers noticed", "--as", "usr_ana"])).code).toBe(0);
    const resolved = await scoped(["resolve", "2", "--note", "Stripe recovered", "--root-cause", "connector_failure", "--action", "connector_fixed", "--action", "customer_contacted", "--systemic", "--as", "usr_ana"]);
    expect(resolved.code).toBe(0);
    const detail = JSON.parse((await scoped(["show", "2", "--json"])).stdout) as {
      incident: { status: string; assignee: string; resolution: { rootCause: string; actions: string[]; systemic: boolean } };
      activity: Array<{ type: string; actor: { id: string; role: string } }>;
    };
    expect(detail.incident).toMatchObject({ status: "resolved", assignee: "usr_bo", resolution: { rootCause: "connector_failure", actions: ["connector_fixed", "customer_contacted"], systemic: true } });
    expect(detail.activity.slice(1).map((a) => [a.type, a.actor.id, a.actor.role])).toEqual([
      ["acknowledged", "usr_ana", "operator"],
      ["assigned", "usr_ana", "operator"],
      ["note_added", "usr_ana", "admin"],
      ["resolved", "usr_ana", "admin"],
    ]);
    expect((await scoped(["reopen", "2", "--reason", "back again", "--as", "usr_ana"])).stdout).toMatch(/is open/);
    const escalated = await scoped(["escalate", "--title", "Manual page", "--severity", "high", "--as", "usr_ana"]);
    expect(escalated.stdout).toMatch(/escalated: #4 high Manual page/);
    const stats = await scoped(["stats", "--since", "7d"]);
    expect(stats.stdout).toMatch(/incidents\s+4 /);
  });

  it("refuses a viewer's change with a message and exit 1, and writes nothing", async () => {
    const before = JSON.parse((await scoped(["show", "1", "--json"])).stdout) as { incident: { version: number } };
    const run = await scoped(["ack", "1", "--role", "viewer"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^agent-incidents: Actor .* \(role viewer\) may not triage\n$/);
    const after = JSON.parse((await scoped(["show", "1", "--json"])).stdout) as { incident: { version: number } };
    expect(after.incident.version).toBe(before.incident.version);
  });

  it("reports user mistakes in one line, never a stack trace; usage and exit 2 for unknown commands, flags and values", async () => {
    const unknown = await scoped(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"[\s\S]*Usage: agent-incidents/);
    const flag = await scoped(["list", "--colour"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--colour'[\s\S]*Usage:/);
    const misplaced = await scoped(["ack", "1", "--note", "x"]);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/ack does not take --note/);
    // a value that is not one of the allowed ones: a usage error, before the database is opened
    for (const args of [["severity", "1", "urgent", "--reason", "x"], ["resolve", "1", "--note", "x", "--root-cause", "gremlins"], ["list", "--limit", "9999"], ["stats", "--since", "yesterday"]]) {
      const run = await scoped(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(/^agent-incidents: [^\n]+\n\nUsage: agent-incidents/);
    }
    for (const args of [["show", "999"], ["note", "1", " "]]) {
      const run = await scoped(args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr, args.join(" ")).toMatch(/^agent-incidents: .+\n$/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await cli(["list", "--db", db])).stderr).toMatch(/which workspace\?/);
  });

  it("keeps an agent's control characters out of the terminal in every output", async () => {
    const hostile = join(dir, "hostile.db");
    const incidents = createIncidents({ store: sqliteStore({ filename: hostile }) });
    const evil = "agt_\u001b]0;PWNED\u0007\u001b[31mRED\u009b2J\u202e";
    await incidents.reporter({ workspaceId: "ws_acme", agentId: evil, environment: "production" }).runEnded({
      runId: "run_\u001b[2J",
      status: "errored",
      error: { name: "Error", message: "boom \u009b31m \u001b[5m" },
    });
    await incidents.close();
    for (const args of [["list"], ["show", "1"], ["show", "1", "--json"], ["stats"]]) {
      const run = await cli([...args, "--db", hostile, "--workspace", "ws_acme"]);
      expect(run.code, args.join(" ")).toBe(0);
      expect(run.stdout, args.join(" ")).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    }
  });

  it("refuses a SQLite file that is not an agent-incidents database, and leaves it as it was", async () => {
    const foreign = join(dir, "foreign.db");
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(foreign);
    db.exec("CREATE TABLE users (id TEXT)");
    db.close();
    const run = await cli(["list", "--db", foreign, "--workspace", "ws_acme"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is not an agent-incidents database/);
    const after = new Database(foreign, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all()).toEqual([{ name: "users" }]);
    after.close();
  });

  it("does not create a database for a mistyped --db path", async () => {
    const missing = join(dir, "typo.db");
    const run = await cli(["list", "--db", missing, "--workspace", "ws_acme"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no database at");
    expect(existsSync(missing)).toBe(false);
  });

  it("takes the database and workspace from AGENT_INCIDENTS_DB and AGENT_INCIDENTS_WORKSPACE", async () => {
    const run = await cli(["list", "--json"], { AGENT_INCIDENTS_DB: db, AGENT_INCIDENTS_WORKSPACE: "ws_other" });
    expect((JSON.parse(run.stdout) as { items: Array<{ workspaceId: string }> }).items.map((i) => i.workspaceId)).toEqual(["ws_other"]);
  });

  it("colours by severity on a terminal, and not with NO_COLOR", async () => {
    const output = async (env: Record<string, string | undefined>) => {
      let stdout = "";
      const code = await runCli(["list", "--db", db, "--workspace", "ws_acme"], { stdout: { write: (t: string) => (stdout += t), isTTY: true }, stderr: { write: () => true }, env });
      expect(code).toBe(0);
      return stdout;
    };
    expect(await output({})).toMatch(/\u001b\[31m/);
    expect(await output({ NO_COLOR: "1" })).not.toContain("\u001b");
  });
});
