import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createIncidents, type IncidentStore } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { runChild } from "./spawn.js";

const WORKERS = 5;
const EVENTS = 20;
const SHARED = 5;

interface Target {
  name: string;
  spec: () => string;
  open: (spec: string) => IncidentStore;
}

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-mp-"));
const targets: Target[] = [
  { name: "sqlite", spec: () => `sqlite:${join(dir, `mp-${Date.now()}.db`)}`, open: (spec) => sqliteStore({ filename: spec.slice(7) }) },
];
if (PG_URL) {
  const schema = schemas("mp");
  targets.push({
    name: "postgres",
    spec: () => `postgres:${PG_URL}#${schema()}`,
    open: (spec) => {
      const [url, name] = spec.slice(9).split("#");
      return postgresStore({ connectionString: url!, schema: name! });
    },
  });
} else {
  reportSkipped("several processes sharing one PostgreSQL store");
}

describe.each(targets)("several processes sharing one $name store", { timeout: 60_000 }, (target) => {
  it("makes exactly one incident with one occurrence per distinct event, then lets one of two resolves win", async () => {
    const spec = target.spec();
    const barrier = String(Date.now() + 2500);
    const workers = await Promise.all(Array.from({ length: WORKERS }, (_, w) => runChild("report.mjs", [spec, String(w), String(EVENTS), barrier])));
    for (const w of workers) expect(w.stderr).toBe("");
    const outcomes = workers.flatMap((w) => (JSON.parse(w.stdout) as { outcomes: string[] }).outcomes);
    const ids = new Set(workers.flatMap((w) => (JSON.parse(w.stdout) as { ids: string[] }).ids));
    expect(ids.size).toBe(1);
    expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(WORKERS * SHARED - SHARED);

    const incidents = createIncidents({ store: target.open(spec) });
    const ops = incidents.as({ id: "usr_check", role: "admin", workspaceId: "ws_mp" });
    const { items } = await ops.list();
    expect(items).toHaveLength(1);
    const [id] = [...ids];
    const detail = await ops.get(id!);
    expect(detail.occurrences).toBe(WORKERS * EVENTS + SHARED);
    expect(detail.occurrenceLog).toHaveLength(WORKERS * EVENTS + SHARED);
    expect(detail.number).toBe(1);

    const resolveAt = String(Date.now() + 2000);
    const resolvers = await Promise.all(["first", "second"].map((note) => runChild("resolve.mjs", [spec, id!, note, resolveAt])));
    const results = resolvers.map((r) => JSON.parse(r.stdout) as { ok: boolean; code?: string });
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(["CONFLICT", "INVALID_TRANSITION"]).toContain(results.find((r) => !r.ok)!.code);
    const after = await ops.get(id!);
    const resolved = after.activity.filter((a) => a.type === "resolved");
    expect(resolved).toHaveLength(1);
    expect(after.resolution?.note).toBe(resolved[0]!.message);
    expect(after.version).toBe(2);
    await incidents.close();
  });
});
