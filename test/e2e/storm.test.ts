import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { createIncidents, type Incident, type IncidentStore } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { ROOT } from "./spawn.js";

const PROCESSES = 2;
const AGENTS = 50;
const FAILURES = 40;
const IN_FLIGHT = 32;
const T0 = "2026-03-01T09:00:00.000Z";
const WINDOW_MS = 60_000;
// the second process's clock runs a lease (60 s) ahead of the first's: a timer the first claimed
// looks abandoned to it, so both may fire the same group windows and form the group at once
const fireAt = (p: number) => WINDOW_MS + 1000 + p * (WINDOW_MS + 1000);

interface Target {
  name: string;
  spec: () => string;
  open: (spec: string) => IncidentStore;
}

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-storm-"));
const targets: Target[] = [{ name: "sqlite", spec: () => `sqlite:${join(dir, `storm-${Date.now()}.db`)}`, open: (spec) => sqliteStore({ filename: spec.slice(7) }) }];
if (PG_URL) {
  const schema = schemas("storm");
  targets.push({
    name: "postgres",
    spec: () => `postgres:${PG_URL}#${schema()}`,
    open: (spec) => {
      const [url, name] = spec.slice(9).split("#");
      return postgresStore({ connectionString: url!, schema: name!, max: 4 });
    },
  });
} else {
  reportSkipped("a failure storm from two processes on one PostgreSQL store");
}

interface Result {
  /** What its reports came to, a spooled one as what it was once written. */
  outcomes: Record<string, number>;
  /** Reports that met a store locked for longer than its busy timeout, and were written later. */
  spooled: number;
  /** Timers its own runDue() fired: its delivery poll may have fired them first (not counted). */
  fired: number;
  notifications: Array<{ type: string; id: string | null; kind: string | null }>;
}

/**
 * A child steered by stdin lines: `until(line)` waits for that line on its stdout (and rejects,
 * with its stderr, if it exits first); `done` is its exit.
 */
function start(spec: string, p: number) {
  const options = { process: p, processes: PROCESSES, agents: AGENTS, failures: FAILURES, inFlight: IN_FLIGHT, t0: T0, windowMs: WINDOW_MS, fireAtMs: fireAt(p) };
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [fileURLToPath(new URL("./children/storm.mjs", import.meta.url)), spec, JSON.stringify(options)], { cwd: ROOT });
  let stdout = "";
  let stderr = "";
  let exited = false;
  const waiters: Array<{ line: string; resolve: () => void; reject: (error: Error) => void }> = [];
  const seen = (line: string) => stdout.split("\n").includes(line);
  child.stdout.on("data", (d) => {
    stdout += d;
    for (const w of waiters.filter((w) => seen(w.line))) waiters.splice(waiters.indexOf(w), 1), w.resolve();
  });
  child.stderr.on("data", (d) => (stderr += d));
  // a child that died is reported by `until` and `done`, not by a write to its closed stdin
  child.stdin.on("error", () => undefined);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      exited = true;
      for (const w of waiters.splice(0)) w.reject(new Error(`storm child ${p} exited (${code}) before "${w.line}": ${stderr}`));
      resolve({ code, stdout, stderr });
    });
  });
  return {
    until: (line: string) =>
      new Promise<void>((resolve, reject) => {
        if (seen(line)) resolve();
        else if (exited) reject(new Error(`storm child ${p} exited before "${line}": ${stderr}`));
        else waiters.push({ line, resolve, reject });
      }),
    send: (line: string) => void child.stdin.write(`${line}\n`),
    kill: () => void (exited || child.kill()),
    done,
  };
}

describe.each(targets)("a failure storm from two processes on one $name store", { timeout: 180_000 }, (target) => {
  it(`groups ${AGENTS} agents x ${FAILURES} failures of one outage into one group incident that alone pages`, async () => {
    const spec = target.spec();
    const children = Array.from({ length: PROCESSES }, (_, p) => start(spec, p));
    onTestFinished(() => children.forEach((c) => c.kill()));
    // each phase starts in both processes once both finished the one before
    for (const [phase, next] of [["reported", "fire"], ["fired", "settle"]] as const) {
      await Promise.all(children.map((c) => c.until(phase)));
      for (const c of children) c.send(next);
    }
    const exits = await Promise.all(children.map((c) => c.done));
    for (const exit of exits) {
      expect(exit.stderr).toBe("");
      expect(exit.code).toBe(0);
    }
    const results = exits.map((exit) => JSON.parse(exit.stdout.trim().split("\n").at(-1)!) as Result);

    // every report counted once: one incident per agent, every other report a recurrence
    const outcomes: Record<string, number> = {};
    for (const r of results) for (const [name, n] of Object.entries(r.outcomes)) outcomes[name] = (outcomes[name] ?? 0) + n;
    expect(outcomes).toEqual({ created: AGENTS, recurred: AGENTS * FAILURES - AGENTS });

    const incidents = createIncidents({ store: target.open(spec) });
    try {
      const ops = incidents.as({ id: "usr_check", role: "admin", workspaceId: "ws_storm" });
      const all: Incident[] = [];
      let cursor: string | undefined;
      do {
        const page = await ops.list({ members: true, limit: 500, ...(cursor ? { cursor } : {}) });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const groups = all.filter((i) => i.kind === "group");
      expect(groups).toHaveLength(1);
      const group = groups[0]!;
      const members = all.filter((i) => i.kind !== "group");
      expect(members).toHaveLength(AGENTS);
      expect(new Set(members.map((m) => m.agentId)).size).toBe(AGENTS);
      expect(members.filter((m) => m.groupId !== group.id).map((m) => m.agentId)).toEqual([]);
      expect(members.map((m) => m.occurrences).reduce((a, b) => a + b, 0)).toBe(AGENTS * FAILURES);
      expect(group.occurrences).toBe(AGENTS);
      expect(group.group?.agents).toHaveLength(AGENTS);
      expect((await ops.list({ group: group.id, limit: 500 })).items).toHaveLength(AGENTS);

      // whichever process sent them: the group paged once, no member paged, nothing is left to send
      const sent = results.flatMap((r) => r.notifications);
      expect(sent.filter((n) => n.id !== group.id)).toEqual([]);
      expect(sent.filter((n) => n.type === "incident.created")).toHaveLength(1);
      // at most one `recurred` per interval and delivering process: the interval's memory is each
      // process's own (a known gap, noted in issue 18), so two processes may each send one
      for (const r of results) expect(r.notifications.filter((n) => n.type === "incident.recurred").length).toBeLessThanOrEqual(1);
      expect(sent.filter((n) => n.type !== "incident.created" && n.type !== "incident.recurred")).toEqual([]);
      expect(await incidents.deliveries.list({ status: "pending" })).toEqual([]);
      expect(await incidents.deliveries.list({ status: "dead" })).toEqual([]);
    } finally {
      await incidents.close();
    }
  });
});
