import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { ListQuery } from "../../src/core/query.js";
import { sqliteStore } from "agent-incidents/sqlite";
import { listClause } from "../../src/stores/sql-rows.js";
import { describeStoreConformance } from "agent-incidents/testing";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-sqlite-"));
let n = 0;

describeStoreConformance("sqlite", () => sqliteStore({ filename: join(dir, `conformance-${++n}.db`) }));

describe("sqlite: noise control", () => {
  it("keeps the console's default list query, which leaves group members out, on an index in list order", () => {
    const file = join(dir, `plans-${++n}.db`);
    void sqliteStore({ filename: file }).close();
    const db = new Database(file);
    const plan = (query: Partial<ListQuery>) => {
      const { sql, params } = listClause("ws_a", { sort: "severity", limit: 50, ...query }, (i) => `@p${i}`);
      const named = Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
      return (db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM incidents ${sql}`).all(named) as Array<{ detail: string }>).map((r) => r.detail).join("; ");
    };
    const onIndex = /^SEARCH incidents USING INDEX (incidents_by_severity|incidents_by_group) \(workspace_id=\?/;
    const unresolved: ListQuery["status"] = ["open", "acknowledged", "investigating"];
    for (const query of [{}, { status: unresolved }, { after: { rank: 2, lastSeenAt: "2026-03-01T12:00:00.000Z", number: 9 } }, { members: true }, { groupId: "inc_g" }]) {
      expect(plan(query)).toMatch(onIndex);
      expect(plan(query)).not.toMatch(/TEMP B-TREE|SCAN incidents/);
    }
    expect(plan({})).toContain("group_id=?");
    expect(plan({ groupKey: "k", members: true })).toMatch(/USING INDEX incidents_by_group_key/);
    db.close();
  });

  it("hands a timer to one of two connections to one file claiming at once", async () => {
    const file = join(dir, `timers-${++n}.db`);
    const stores = [sqliteStore({ filename: file }), sqliteStore({ filename: file })];
    const due = "2026-03-01T12:00:00.000Z";
    await stores[0]!.timers!.schedule(Array.from({ length: 20 }, (_, i) => ({ id: `group:inc_${i}`, workspaceId: "ws_a", kind: "group" as const, subject: `inc_${i}`, dueAt: due })));
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.timers!.claim({ worker: `w${i}`, now: due, leaseUntil: "2026-03-01T12:01:00.000Z", limit: 2 })),
    );
    const ids = claims.flat().map((t) => t.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    await Promise.all(stores.map((s) => s.close()));
  });
});
