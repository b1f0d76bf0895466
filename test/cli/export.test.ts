/**
 * Export and parity with the console (issue 17, item 15): every incident past one page, as NDJSON;
 * the filters and detail the console has; the review's period; a root cause never guessed; and
 * "did you mean" for a mistyped flag or value.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, KINDS, type Incident } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { cli } from "./run-bin.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-export-"));
const db = join(dir, "runtime.db");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ANOMALIES = 520;
const DAY = 86_400_000;

beforeAll(async () => {
  // one incident from 40 days ago: outside the console's default review period
  const past = createIncidents({ store: sqliteStore({ filename: db, synchronous: "normal" }), clock: { now: () => new Date(Date.now() - 40 * DAY) } });
  await past.reporter({ workspaceId: "ws_acme", agentId: "agt_old", environment: "production" }).anomaly({ runId: "run_old", eventId: "e", pattern: "long ago" });
  await past.close();

  const incidents = createIncidents({ store: sqliteStore({ filename: db, synchronous: "normal" }) });
  const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
  for (let i = 0; i < ANOMALIES; i += 52) {
    await Promise.all(Array.from({ length: Math.min(52, ANOMALIES - i) }, (_, j) => report.anomaly({ runId: `run_${i + j}`, eventId: "e", pattern: `pattern ${i + j}` })));
  }
  // recurring: one failure seen five times
  for (let n = 0; n < 5; n++) {
    await report.executionFailed({ runId: `run_stripe_${n}`, eventId: "e", action: { type: "refund.create" }, connector: { id: "stripe", provider: "stripe" }, error: { message: "api_unavailable" } });
  }
  await incidents.close();
}, 120_000);

const scoped = (args: string[]) => cli([...args, "--db", db, "--workspace", "ws_acme", "--as", "usr_ana"]);
const ndjson = (stdout: string) => (stdout === "" ? [] : stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as Incident));

describe("export and parity with the console", { timeout: 120_000 }, () => {
  it("lists every match past one page with --all: NDJSON with --json, one table without", async () => {
    const total = ANOMALIES + 2;
    const all = await scoped(["list", "--all", "--json"]);
    expect(all.stderr).toBe("");
    expect(all.code).toBe(0);
    const incidents = ndjson(all.stdout);
    expect(incidents).toHaveLength(total);
    expect(new Set(incidents.map((i) => i.number)).size).toBe(total);
    expect(incidents[0]).toMatchObject({ severity: "critical", kind: "execution_failed", occurrences: 5 });
    const table = await scoped(["list", "--all"]);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^#\s+SEVERITY\s+STATUS/);
    expect(lines).toHaveLength(total + 1);
  });

  it("pages with --limit and --cursor, and says on stderr when more match", async () => {
    const first = JSON.parse((await scoped(["list", "--json", "--limit", "500"])).stdout) as { items: Incident[]; nextCursor: string };
    expect(first.items).toHaveLength(500);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = JSON.parse((await scoped(["list", "--json", "--cursor", first.nextCursor])).stdout) as { items: Incident[]; nextCursor: string | null };
    const restAll = ndjson((await scoped(["list", "--all", "--json", "--cursor", first.nextCursor])).stdout);
    expect(restAll).toHaveLength(ANOMALIES + 2 - 500);
    expect(rest.items.map((i) => i.number)).toEqual(restAll.slice(0, 50).map((i) => i.number));
    const text = await scoped(["list"]);
    expect(text.code).toBe(0);
    expect(text.stdout.trimEnd().split("\n")).toHaveLength(51);
    expect(text.stderr).toMatch(/^agent-incidents: more incidents match: --cursor \S+ for the next page, or --all for every one\n$/);
  });

  it("filters by --kind and --status (all, or several), and shows the assignee and the resolution", async () => {
    const failures = ndjson((await scoped(["list", "--all", "--json", "--kind", "execution_failed"])).stdout);
    expect(failures.map((i) => i.kind)).toEqual(["execution_failed"]);
    const number = String(failures[0]!.number);
    expect((await scoped(["assign", number, "usr_bo"])).code).toBe(0);
    const resolved = await scoped(["resolve", number, "--note", "Stripe recovered", "--root-cause", "connector_failure", "--action", "connector_fixed", "--action", "customer_contacted", "--systemic"]);
    expect(resolved.code).toBe(0);
    expect(ndjson((await scoped(["list", "--all", "--json", "--kind", "execution_failed"])).stdout)).toEqual([]);
    expect(ndjson((await scoped(["list", "--all", "--json", "--kind", "execution_failed", "--status", "all"])).stdout).map((i) => i.status)).toEqual(["resolved"]);
    expect(ndjson((await scoped(["list", "--all", "--json", "--status", "resolved,open"])).stdout)).toHaveLength(ANOMALIES + 2);
    const show = await scoped(["show", number]);
    expect(show.stdout).toMatch(
      /\n  status       resolved\n  assignee     usr_bo\n[\s\S]*\n  resolved     \S+\n  root cause   connector_failure \(systemic: needs a lasting fix\)\n  actions      connector_fixed, customer_contacted\n  note         Stripe recovered\n/,
    );
    // the fields (the snapshot below them is JSON, where null is a value)
    expect(show.stdout.split("\nSnapshot")[0]).not.toMatch(/null|undefined|\[object Object\]/);
    expect((await scoped(["show", "1"])).stdout).toMatch(/\n  assignee     nobody\n/);
  });

  it("reviews the console's default period, the last 30 days, with counts by kind and the top recurring", async () => {
    const stats = await scoped(["stats"]);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(new RegExp(`^incidents    ${ANOMALIES + 1} \\(\\d+ unresolved\\) in the last 30 days \\(since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\\n`));
    expect(stats.stdout).toMatch(new RegExp(`\\nby kind      anomaly ${ANOMALIES}, execution_failed 1\\n`));
    expect(stats.stdout).toMatch(/\ntop recurring\n +5 seen in +1 incident +stripe failed to execute refund\.create: api_unavailable +\S+\n/);
    expect(stats.stdout).not.toMatch(/null|undefined|\[object Object\]/);
    expect((await scoped(["stats", "--since", "all"])).stdout).toMatch(new RegExp(`^incidents    ${ANOMALIES + 2} \\(\\d+ unresolved\\) of all time\\n`));
    const json = JSON.parse((await scoped(["stats", "--json"])).stdout) as { since: string; byKind: Record<string, number>; topRecurring: unknown[] };
    expect(Date.now() - Date.parse(json.since)).toBeGreaterThan(30 * DAY - 60_000);
    expect(json.byKind["anomaly"]).toBe(ANOMALIES);
  });

  it("does not guess a root cause: resolve without one is a usage error that lists them, and changes nothing", async () => {
    const run = await scoped(["resolve", "1", "--note", "fixed"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^agent-incidents: resolve needs --root-cause, one of policy_issue, connector_failure, [^\n]+ \(it is not guessed\)\n\nUsage:/);
    const shown = JSON.parse((await scoped(["show", "1", "--json"])).stdout) as { incident: Incident };
    expect(shown.incident.status).toBe("open");
  });

  it("says what was meant for a mistyped flag or value", async () => {
    const cases: Array<[string[], string]> = [
      [["list", "--staus", "open"], `Unknown option '--staus' (did you mean "--status"?)`],
      [["list", "-json"], `Unknown option '-j' (did you mean "--json"?)`],
      [["list", "--knd", "anomaly"], `Unknown option '--knd' (did you mean "--kind"?)`],
      [["resolve", "1", "--note", "x", "--root-cuase", "agent_bug"], `Unknown option '--root-cuase' (did you mean "--root-cause"?)`],
      [["list", "--kind", "anomoly"], `--kind must be one of ${KINDS.join(", ")}, not "anomoly" (did you mean "anomaly"?)`],
      [["list", "--status", "opne"], `not "opne" (did you mean "open"?)`],
      [["resolve", "1", "--note", "x", "--root-cause", "conector_failure"], `not "conector_failure" (did you mean "connector_failure"?)`],
      [["resolve", "1", "--note", "x", "--root-cause", "agent_bug", "--action", "agent_restart"], `not "agent_restart" (did you mean "agent_restarted"?)`],
      [["severity", "1", "hihg", "--reason", "x"], `not "hihg" (did you mean "high"?)`],
    ];
    for (const [args, message] of cases) {
      const run = await scoped(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr.split("\n")[0], args.join(" ")).toContain(message);
    }
  });
});
