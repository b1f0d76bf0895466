/**
 * Noise control from the command line: `silence add|list|expire`, `snooze`, and the badges `list`
 * and `show` print, run as users run them (the built bin) on a SQLite file a runtime wrote with a
 * grouping rule: seven agents failing alike on con_openai became group incident #9.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { fakeClock } from "agent-incidents/testing";
import { runCli, USAGE } from "../../src/cli/index.js";
import { cli, ONE_LINE } from "./run-bin.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-cli-noise-"));
const db = join(dir, "noise.db");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scoped = (...args: string[]) => cli([...args, "--db", db, "--workspace", "ws_acme", "--as", "usr_ana"]);
const json = async <T>(...args: string[]): Promise<T> => {
  const run = await scoped(...args, "--json");
  expect(run.stderr, args.join(" ")).toBe("");
  return JSON.parse(run.stdout) as T;
};
interface SilenceJson {
  id: string;
  state: string;
  match: Record<string, unknown>;
  comment: string;
  endsAt: string | null;
  untilResolved: string | null;
}
/** What no operator should read: a value printed as JavaScript rather than written on purpose. */
const RAW = /\bnull\b|\bundefined\b|\[object Object\]|\bNaN\b/;

beforeAll(async () => {
  // a runtime with a grouping rule, on a fake clock: the group forms when its window's timer fires
  const clock = fakeClock(new Date(Date.now() - 3_600_000).toISOString());
  const incidents = createIncidents({
    store: sqliteStore({ filename: db }),
    clock,
    noise: { groups: [{ name: "outage", by: ["connector.id", "error.code"], windowMs: 60_000, minIncidents: 2 }] },
  });
  for (let a = 1; a <= 7; a++) {
    await incidents.reporter({ workspaceId: "ws_acme", agentId: `agt_${a}`, environment: "production" }).executionFailed({
      runId: `run_${a}`,
      eventId: `evt_${a}`,
      action: { type: "chat" },
      connector: { id: "con_openai", provider: "openai" },
      error: { message: "rate limited", code: "rate_limited" },
    });
  }
  await incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" }).policyBlocked({
    runId: "run_p",
    eventId: "evt_p",
    action: { type: "refund.create" },
    policy: { id: "pol_1", name: "Refund limit", effect: "block" },
    impact: "low",
  });
  clock.advance(60_000);
  expect(await incidents.runDue()).toBeGreaterThan(0);
  await incidents.close();
}, 30_000);

describe("noise control in the CLI (the bin)", { timeout: 60_000 }, () => {
  it("lists a group with its agents and leaves its members out; --members and show list them, with badges", async () => {
    const list = await scoped("list");
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const rows = list.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^9\s+critical\s+open\s+7 agents\s+7\s+.*con_openai rate_limited failing for 7 agents$/);

    const members = (await scoped("list", "--members")).stdout.trim().split("\n").slice(1);
    expect(members).toHaveLength(9);
    expect(members.filter((r) => r.endsWith("[grouped in #9]"))).toHaveLength(7);

    const show = await scoped("show", "9");
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("  group        con_openai rate_limited · 7 members · agents agt_1, agt_2, agt_3, agt_4, agt_5, … (7 in all)\n");
    expect(show.stdout).toContain("  quiet        notifies as usual\n");
    const memberRows = show.stdout.split("Members:\n")[1]!.trim().split("\n").slice(1);
    expect(memberRows.map((r) => r.trim().split(/\s+/)[3]).sort()).toEqual(["agt_1", "agt_2", "agt_3", "agt_4", "agt_5", "agt_6", "agt_7"]);
    expect(show.stdout).not.toContain("Snapshot");
    expect(show.stdout).not.toMatch(RAW);

    // a member, named by its number although list leaves it out, says which group speaks for it
    const member = await scoped("show", "#3");
    expect(member.stdout).toContain("  quiet        grouped in #9: the group notifies for it\n");
    const detail = await json<{ quiet: unknown; members?: unknown[] }>("show", "9");
    expect(detail.quiet).toBeNull();
    expect(detail.members).toHaveLength(7);
  });

  it("silence add, list and expire: a round trip, with a badge on what it silences", async () => {
    const add = await scoped("silence", "add", "--match", "agent=agt_refunds", "--match", "connector=con_openai,con_azure", "--match", "tag=provider:openai", "--for", "2h", "--comment", "provider maintenance");
    expect(add).toMatchObject({ code: 0, stderr: "" });
    expect(add.stdout).toMatch(/^sil_\w+ {2}active {3}agent=agt_refunds connector=con_openai,con_azure tag=provider:openai {2}until [\d: -]+UTC {2}"provider maintenance" {2}by usr_ana\n$/);

    const policy = await scoped("silence", "add", "--match", "policy=pol_1", "--match", "severity=medium,low", "--until-resolved", "#9", "--comment", "until openai is back");
    expect(policy.stdout).toMatch(/ {2}active {3}severity=medium,low policy=pol_1 {2}until #9 resolves {2}"until openai is back" {2}by usr_ana\n$/);
    const pending = await scoped("silence", "add", "--match", "kind=anomaly", "--starts", "2099-12-24T00:00Z", "--ends", "2099-12-26T00:00+01:00", "--comment", "holidays");
    expect(pending.stdout).toMatch(/ {2}pending {2}kind=anomaly {2}from 2099-12-24 00:00 UTC until 2099-12-25 23:00 UTC {2}"holidays"/);

    const all = await json<SilenceJson[]>("silence", "list");
    expect(all.map((s) => [s.state, s.comment])).toEqual([["pending", "holidays"], ["active", "until openai is back"], ["active", "provider maintenance"]]);
    expect(all[2]!.match).toEqual({ agents: ["agt_refunds"], connectors: ["con_openai", "con_azure"], tags: { provider: "openai" } });
    expect(all[1]!.untilResolved).toMatch(/^inc_/);

    // the policy silence holds #8 (a medium policy block); the list and the detail say so
    const row = (await scoped("list")).stdout.split("\n").find((l) => l.startsWith("8 "));
    expect(row).toMatch(new RegExp(`\\[silenced ${all[1]!.id}\\]$`));
    expect((await scoped("show", "8")).stdout).toContain(`  quiet        silenced by ${all[1]!.id} until #9 resolves: "until openai is back" (usr_ana)\n`);

    const active = await scoped("silence", "list", "--state", "active");
    expect(active.stdout.trim().split("\n")).toHaveLength(2);
    expect(active.stdout).not.toMatch(RAW);

    const expired = await scoped("silence", "expire", all[1]!.id);
    expect(expired).toMatchObject({ code: 0, stderr: "" });
    expect(expired.stdout).toMatch(/ {2}expired {2}severity=medium,low policy=pol_1 {2}ended [\d: -]+UTC \(expired by usr_ana\)/);
    expect((await scoped("silence", "expire", all[1]!.id)).stdout).toMatch(/^already ended at .+: nothing changed\n/);
    expect((await json<SilenceJson[]>("silence", "list", "--state", "expired")).map((s) => s.id)).toEqual([all[1]!.id]);
    expect((await scoped("list")).stdout.split("\n").find((l) => l.startsWith("8 "))).not.toContain("[");

    const unknown = await scoped("silence", "expire", "sil_nope");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("agent-incidents: no silence sil_nope in workspace ws_acme (see silence list)\n");
  });

  it("snoozes an acknowledged incident, and shows until when and why", async () => {
    const open = await scoped("snooze", "8", "--for", "30m", "--reason", "known");
    expect(open.code).toBe(1);
    expect(open.stderr).toMatch(ONE_LINE);
    expect(open.stderr).toMatch(/only an acknowledged or investigating one can be snoozed/);

    expect((await scoped("ack", "8")).code).toBe(0);
    const until = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
    const snooze = await scoped("snooze", "8", "--until", `${until}Z`, "--reason", "waiting on the vendor");
    expect(snooze).toMatchObject({ code: 0, stderr: "" });
    const shown = `${until.replace("T", " ")} UTC`;
    expect(snooze.stdout).toBe(`#8 medium is snoozed until ${shown} (acknowledged, version 3): it notifies nobody until then, then it is open again\n`);
    expect((await scoped("list")).stdout.split("\n").find((l) => l.startsWith("8 "))).toMatch(new RegExp(`\\[snoozed until ${shown}\\]$`));
    expect((await scoped("show", "8")).stdout).toContain(`  quiet        snoozed until ${shown}: waiting on the vendor; then it is open again\n`);
    const incident = await json<{ noise: { snoozedUntil: string; snoozeReason: string } }>("snooze", "8", "--for", "1h", "--reason", "longer");
    expect(Date.parse(incident.noise.snoozedUntil) - Date.now()).toBeGreaterThan(3_500_000);
  });

  it("refuses a bad --match, duration or time, and an unknown incident, in one line, and writes nothing", async () => {
    const before = (await json<SilenceJson[]>("silence", "list")).length;
    const usage: Array<[string[], RegExp]> = [
      [["--match", "__proto__=x", "--for", "1h"], /--match "__proto__": unknown key; use one of severity, kind, agent/],
      [["--match", "constructor=x", "--for", "1h"], /--match "constructor": unknown key/],
      [["--match", "agnet=x", "--for", "1h"], /unknown key.*\(did you mean "agent"\?\)/],
      [["--match", "severity=urgent", "--for", "1h"], /--match severity must be one of critical, high, medium, low, not "urgent"/],
      [["--match", "tag=provider", "--for", "1h"], /write a tag as name:value/],
      [["--match", `connector=${"x".repeat(100_000)}`, "--for", "1h"], /--match connector: a value may be at most 1000 characters, not 100000 \("x{40}…"\)$/m],
      [["--match", "agent=a", "--for", "2y"], /--for must be a duration like 30m, 2h, 1h30m or 7d, not "2y"/],
      [["--match", "agent=a", "--for", "999d"], /--for may be at most 366 days/],
      [["--match", "agent=a", "--ends", "2020-01-01T00:00Z"], /--ends 2020-01-01T00:00Z is in the past/],
      [["--match", "agent=a", "--ends", "2099-01-01T00:00"], /--ends must be an ISO time with its zone.*\(which zone\?\)/],
      [["--match", "agent=a", "--ends", "2099-02-30T00:00Z"], /--ends must be an ISO time with its zone/],
      [["--match", "agent=a", "--for", "1h", "--ends", "2099-01-01T00:00Z"], /give one end, not --ends and --for/],
      [["--match", "agent=a"], /silence add needs an end/],
      [["--for", "1h"], /silence add needs --match key=value/],
    ];
    for (const [args, message] of usage) {
      const withComment = args.includes("--comment") ? args : [...args, "--comment", "x"];
      const run = await scoped("silence", "add", ...withComment);
      expect(run.code, args.join(" ").slice(0, 80)).toBe(2);
      expect(run.stderr, args.join(" ").slice(0, 80)).toMatch(message);
      expect(run.stderr.split("\n")[0]!.length).toBeLessThan(300);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    for (const args of [["silence", "add", "--match", "agent=a", "--for", "1h"], ["silence", "frob"], ["silence", "list", "--state", "over"], ["silence", "list", "--comment", "x"], ["snooze", "8", "--for", "1h"], ["snooze", "8", "--until", "2020-01-01T00:00Z", "--reason", "x"]]) {
      const run = await scoped(...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(/^agent-incidents: [^\n]+\n\nUsage: agent-incidents/);
    }
    for (const args of [["silence", "add", "--match", "agent=a", "--until-resolved", "999", "--comment", "x"], ["snooze", "999", "--for", "1h", "--reason", "x"], ["silence", "list", "--role", "viewer"]]) {
      const run = await scoped(...args);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr, args.join(" ")).toMatch(ONE_LINE);
    }
    expect((await json<SilenceJson[]>("silence", "list")).length).toBe(before);
  });

  it("takes hostile text: a NUL-only comment is refused, NUL and lone surrogates are cleaned, a __proto__ tag is kept", async () => {
    const run = async (...args: string[]) => {
      let stdout = "";
      let stderr = "";
      const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
      const code = await runCli([...args, "--db", db, "--workspace", "ws_acme", "--as", "usr_ana"], io);
      return { code, stdout, stderr };
    };
    const empty = await run("silence", "add", "--match", "agent=a", "--for", "1h", "--comment", "\u0000\u0000 ");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^agent-incidents: silence add needs --comment TEXT: say why/);

    const hostile = await run("silence", "add", "--match", "tag=__proto__:x", "--for", "1h", "--comment", "deploy\u0000 \ud800 \u001b[2J\u202eend", "--json");
    expect(hostile.stderr).toBe("");
    const created = JSON.parse(hostile.stdout) as SilenceJson;
    expect(created.comment).toBe("deploy \ufffd \u001b[2J\u202eend");
    expect(Object.keys(created.match["tags"] as object)).toEqual(["__proto__"]);
    const line = (await run("silence", "list")).stdout.split("\n").find((l) => l.startsWith(created.id))!;
    expect(line).toMatch(/ {2}tag=__proto__:x {2}until .*"deploy \ufffd {2}\[2J end" {2}by usr_ana$/);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    // it matches no incident: a __proto__ tag does not turn into "every incident"
    expect((await run("list", "--members")).stdout).not.toContain(created.id);
    expect((await run("silence", "expire", created.id)).code).toBe(0);
  });

  it("lists the new commands in --help", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(`${USAGE}\n`);
    for (const line of [
      "  snooze ID (--until ISO-TIME | --for 30m) --reason TEXT",
      "  silence add --match KEY=VALUE[,VALUE]... (--ends ISO-TIME | --for 2h | --until-resolved ID)",
      "  silence list [--state active|pending|expired] [--limit N]",
      "  silence expire ID",
      "[--members]",
      "[silenced ID] [inhibited by #N] [snoozed until T]",
    ]) {
      expect(help.stdout).toContain(line);
    }
  });
});
