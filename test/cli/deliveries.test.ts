/**
 * `agent-incidents deliveries` as an admin runs it: the built bin against a SQLite file that a
 * runtime wrote while two of its notifiers refused everything, so there are dead letters.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, type DeliveryRecord } from "agent-incidents";
import { defineNotifier, DeliveryError, type Notification } from "agent-incidents/notifiers";
import { sqliteStore } from "agent-incidents/sqlite";

const BIN = join(import.meta.dirname, "..", "..", "dist", "cli.js");
const dir = mkdtempSync(join(tmpdir(), "agent-incidents-deliveries-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A notifier's name and error as a careless or hostile host could set them. */
const HOSTILE_NAME = "hook\u001b[31m\u202eevil\u009b2J";
const HOSTILE_ERROR = "no\u001b]0;PWNED\u0007 way\n\u001b[2Jforged line";
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env["PATH"] }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * A runtime's database: three incidents (two in ws_acme, one in ws_other), each routed to four
 * notifiers. "webhook:ops" and the hostile one refuse (dead), "slack:ok" takes it (delivered),
 * "flaky" fails and waits an hour for its next try (pending).
 */
async function runtimeDatabase(name: string): Promise<string> {
  const file = join(dir, `${name}.db`);
  const refusing = (notifier: string, message: string) =>
    defineNotifier({
      name: notifier,
      async send() {
        throw new DeliveryError(message, { retryable: false, status: 400 });
      },
    });
  const incidents = createIncidents({
    store: sqliteStore({ filename: file }),
    routes: [
      { notifier: refusing("webhook:ops", "receiver answered 400: bad payload") },
      { notifier: refusing(HOSTILE_NAME, HOSTILE_ERROR) },
      { notifier: defineNotifier({ name: "slack:ok", async send() {} }) },
      {
        notifier: defineNotifier({
          name: "flaky",
          retry: { minDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
          async send() {
            throw new Error("connection reset");
          },
        }),
      },
    ],
  });
  for (const [workspaceId, i] of [["ws_acme", 1], ["ws_acme", 2], ["ws_other", 3]] as const) {
    await incidents.reporter({ workspaceId, agentId: "agt_refunds", environment: "production" }).policyBlocked({
      runId: `run_${i}`,
      eventId: `evt_${i}`,
      action: { type: "refund.create" },
      policy: { id: `pol_${i}`, name: `Refund limit ${i}`, effect: "block" },
      impact: "low",
    });
  }
  await incidents.close(); // delivers what is due first
  return file;
}

const list = async (db: string, ...args: string[]) => {
  const run = await cli(["deliveries", "--json", "--db", db, ...args]);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as DeliveryRecord[];
};

describe("agent-incidents deliveries", { timeout: 60_000 }, () => {
  let db: string;
  beforeAll(async () => {
    db = await runtimeDatabase("runtime");
  }, 30_000);

  it("lists the outbox of every workspace as a readable table, newest first, one line each, for an admin by default", async () => {
    const run = await cli(["deliveries", "--db", db]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NOTIFIER\s+STATUS\s+TRIES\s+TYPE\s+INCIDENT\s+CREATED\s+LAST ERROR$/);
    expect(lines).toHaveLength(1 + 12);
    const rows = lines.slice(1);
    const statuses = rows.map((row) => / (pending|delivered|dead) /.exec(row)?.[1]);
    expect(statuses.filter((s) => s === "dead")).toHaveLength(6);
    expect(statuses.filter((s) => s === "delivered")).toHaveLength(3);
    expect(statuses.filter((s) => s === "pending")).toHaveLength(3);
    const refused = rows.find((row) => row.includes("webhook:ops"))!;
    expect(refused).toMatch(/^dlv_\S+\s+webhook:ops\s+dead\s+1\s+created\s+#\d in ws_(acme|other)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+.*receiver answered 400: bad payload$/);
    expect(rows.some((row) => /slack:ok\s+delivered\s+1\s+created\s+#1 in ws_other\s+\S+ \S+\s+-$/.test(row))).toBe(true);
    const flaky = rows.filter((row) => row.includes(" flaky "));
    expect(flaky.map((row) => / (pending|delivered|dead) /.exec(row)?.[1])).toEqual(["pending", "pending", "pending"]);
    expect(flaky.some((row) => /pending\s+1\s.*connection reset$/.test(row))).toBe(true);
    // the hostile notifier's name and error: shown, but nothing reaches the terminal as a command
    expect(run.stdout).not.toMatch(TERMINAL_UNSAFE);
    const hostile = rows.filter((row) => row.includes(" hook [31m evil 2J "));
    expect(hostile).toHaveLength(3);
    for (const row of hostile) expect(row).toMatch(/ dead .* no \]0;PWNED  way \[2Jforged line$/);
  });

  it("prints JSON with --json, and filters by --status, --notifier and --limit", async () => {
    const all = await list(db);
    expect(all).toHaveLength(12);
    expect(all[0]).toMatchObject({ id: expect.stringMatching(/^dlv_/), notification: { type: "incident.created" }, attempts: expect.any(Number), createdAt: expect.any(String) });
    expect(all.map((r) => r.createdAt)).toEqual(all.map((r) => r.createdAt).sort().reverse());
    const dead = await list(db, "--status", "dead");
    expect(dead).toHaveLength(6);
    expect(new Set(dead.map((r) => r.notifier))).toEqual(new Set(["webhook:ops", HOSTILE_NAME]));
    expect((await list(db, "--notifier", "webhook:ops")).map((r) => r.status)).toEqual(["dead", "dead", "dead"]);
    expect(await list(db, "--status", "delivered", "--notifier", "webhook:ops")).toEqual([]);
    expect(await list(db, "--limit", "2")).toEqual(all.slice(0, 2));
    // the hostile name and error survive in JSON, escaped so the terminal shows them as text
    const hostile = await cli(["deliveries", "--json", "--db", db, "--notifier", HOSTILE_NAME]);
    expect(hostile.stdout).not.toMatch(TERMINAL_UNSAFE);
    expect((JSON.parse(hostile.stdout) as DeliveryRecord[]).map((r) => [r.notifier, r.lastError])).toEqual(Array(3).fill([HOSTILE_NAME, expect.stringContaining(HOSTILE_ERROR)]));
    expect((await cli(["deliveries", "--db", db, "--notifier", "nobody"])).stdout).toBe("no deliveries match\n");
  });

  it("re-sends dead letters by id, from their first try, and says the runtime sends them", async () => {
    const file = await runtimeDatabase("by-id");
    const [first, second] = await list(file, "--notifier", "webhook:ops");
    const delivered = (await list(file, "--status", "delivered"))[0]!;
    const run = await cli(["deliveries", "retry", first!.id, second!.id, delivered.id, "--db", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe(
      "2 deliveries (of 3 named; the others are delivered or unknown) will be sent again from the first try.\nThis command sends nothing itself: the runtime delivering from this store sends them.\n",
    );
    const after = new Map((await list(file)).map((r) => [r.id, r]));
    expect(after.get(first!.id)).toMatchObject({ status: "pending", attempts: 0 });
    expect(after.get(second!.id)).toMatchObject({ status: "pending", attempts: 0 });
    expect(after.get(delivered.id)).toMatchObject({ status: "delivered" });
    expect(JSON.parse((await cli(["deliveries", "retry", "dlv_unknown", "--json", "--db", file])).stdout)).toEqual({ count: 0 });
    expect((await cli(["deliveries", "retry", "dlv_unknown", "--db", file])).stdout).toMatch(/^none of the delivery named is pending or dead .*: nothing to send again\n$/);
  });

  it("re-sends by filter to a renamed notifier with --to, and the runtime that has it sends them", async () => {
    const file = await runtimeDatabase("by-filter");
    const run = await cli(["deliveries", "retry", "--status", "dead", "--notifier", "webhook:ops", "--to", "webhook:renamed", "--db", file]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^3 deliveries will be sent again from the first try, to notifier "webhook:renamed"\.\nThis command sends nothing itself: the runtime delivering from this store sends them\.\n$/);
    expect((await list(file, "--notifier", "webhook:renamed")).map((r) => r.status)).toEqual(["pending", "pending", "pending"]);
    expect(await list(file, "--notifier", "webhook:ops")).toEqual([]);
    expect((await list(file, "--notifier", HOSTILE_NAME)).map((r) => r.status)).toEqual(["dead", "dead", "dead"]);

    // what the command said: the runtime, with a notifier of that name, sends them
    const received: Notification[] = [];
    const runtime = createIncidents({
      store: sqliteStore({ filename: file }),
      routes: [{ notifier: defineNotifier({ name: "webhook:renamed", async send(batch) { received.push(...batch); } }) }],
      delivery: { pollMs: 50 },
    });
    try {
      await expect.poll(() => received.length, { timeout: 30_000 }).toBe(3);
    } finally {
      await runtime.close();
    }
    expect((await list(file, "--notifier", "webhook:renamed")).map((r) => r.status)).toEqual(["delivered", "delivered", "delivered"]);
    // nothing pending or dead matches any more
    expect((await cli(["deliveries", "retry", "--notifier", "webhook:renamed", "--db", file])).stdout).toBe("no pending or dead delivery matches: nothing to send again\n");
  });

  it("prints a hostile --to name back safely", async () => {
    const file = await runtimeDatabase("hostile-to");
    const run = await cli(["deliveries", "retry", "--notifier", HOSTILE_NAME, "--to", "x\u001b[2J\u202ey", "--db", file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('to notifier "x [2J y"');
    expect(run.stdout).not.toMatch(TERMINAL_UNSAFE);
  });

  it("refuses anyone but an admin, with the CLI's refusal exit code 1, and changes nothing", async () => {
    const before = await list(db);
    for (const role of ["operator", "viewer", "approver"]) {
      for (const args of [["deliveries"], ["deliveries", "--json"], ["deliveries", "retry", "--status", "dead"]]) {
        const run = await cli([...args, "--db", db, "--role", role, "--as", "usr_bo"]);
        expect(run.code, `${role} ${args.join(" ")}`).toBe(1);
        expect(run.stdout).toBe("");
        expect(run.stderr).toBe(`agent-incidents: Actor usr_bo (role ${role}) may not see or re-send deliveries: they are for admins (--role admin)\n`);
      }
    }
    expect(await list(db)).toEqual(before);
    expect((await cli(["deliveries", "--db", db, "--role", "admin"])).code).toBe(0);
  });

  it("answers bad flags with usage and exit 2, pointing at what was meant, before opening the database", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["deliveries", "--status", "failed"], /--status for deliveries must be pending, delivered or dead, not "failed"/],
      [["deliveries", "--status", "daed"], /not "daed" \(did you mean "dead"\?\)/],
      [["deliveries", "--limit", "0"], /--limit must be a whole number from 1 to 500/],
      [["deliveries", "--limit", "lots"], /--limit must be a whole number from 1 to 500/],
      [["deliveries", "--to", "x"], /--to goes with deliveries retry/],
      [["deliveries", "retyr"], /unknown deliveries command "retyr" \(did you mean "retry"\?\)/],
      [["delivery"], /unknown command "delivery" \(did you mean "deliveries"\?\)/],
      [["deliveries", "--notifer", "x"], /Unknown option '--notifer' \(did you mean "--notifier"\?\)/],
      [["deliveries", "retry"], /deliveries retry needs delivery ids, or --status dead\|pending, or --notifier NAME/],
      [["deliveries", "retry", "--to", "x"], /deliveries retry needs delivery ids/],
      [["deliveries", "retry", "--status", "delivered"], /--status for deliveries retry must be pending or dead, not "delivered"/],
      [["deliveries", "retry", "dlv_1", "--status", "dead"], /takes delivery ids, or --status and --notifier, not both/],
      [["deliveries", "retry", "--status", "dead", "--limit", "3"], /deliveries retry does not take --limit/],
      [["deliveries", "--reason", "x"], /deliveries does not take --reason/],
      [["deliveries", "--role", "root"], /--role must be one of admin, operator, approver, viewer/],
      [["deliveries", "\u001b[2J"], /unknown deliveries command " \[2J"/],
    ];
    for (const [args, message] of cases) {
      // a database that does not exist: a usage error is found before it is looked for
      const run = await cli([...args, "--db", join(dir, "missing.db")]);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.stderr, args.join(" ")).toMatch(/\n\nUsage: agent-incidents[\s\S]*deliveries retry ID\.\.\./);
      expect(run.stderr).not.toMatch(TERMINAL_UNSAFE);
      expect(run.stdout).toBe("");
    }
    // a notifier name the library refuses: its message in one line, exit 1 as for every refused value
    const blank = await cli(["deliveries", "--db", db, "--notifier", "   "]);
    expect(blank.code).toBe(1);
    expect(blank.stderr).toMatch(/^agent-incidents: .*notifier.*must not be empty.*\n$/);
  });
});
