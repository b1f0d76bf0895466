/**
 * `--pg` (issue 17, item 12): a mistyped --schema is an error that creates nothing; a server that
 * cannot be reached is named by host and port, never with the password in the URL.
 */
import { describe, expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { PG_URL, queryOnce, reportSkipped, schemas } from "../stores/pg-env.js";
import { cli, ONE_LINE } from "./run-bin.js";

describe("agent-incidents --pg, without a server", { timeout: 60_000 }, () => {
  it("says it cannot connect, to which host and port, without the password", async () => {
    const refused = await cli(["list", "--pg", "postgres://postgres:s3cret@127.0.0.1:1/test", "--workspace", "ws_acme"]);
    expect(refused).toMatchObject({ code: 1, stdout: "", stderr: "agent-incidents: cannot connect to PostgreSQL at 127.0.0.1:1 (connection refused)\n" });
    const write = await cli(["ack", "1", "--pg", "postgresql://admin:s3cret@127.0.0.1:1/prod", "--workspace", "ws_acme"]);
    expect(write).toMatchObject({ code: 1, stderr: "agent-incidents: cannot connect to PostgreSQL at 127.0.0.1:1 (connection refused)\n" });
    for (const run of [refused, write]) expect(run.stderr).not.toContain("s3cret");
  });
});

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("cli");
  const query = (text: string, params: unknown[] = []) => queryOnce(url, text, params);

  describe("agent-incidents --pg", { timeout: 60_000 }, () => {
    it("refuses a --schema that does not exist, for reads and changes, and creates nothing", async () => {
      const typo = schema();
      for (const args of [["list"], ["stats"], ["ack", "1"], ["deliveries"]]) {
        const run = await cli([...args, "--pg", url, "--schema", typo, "--workspace", "ws_acme"]);
        expect(run.code, args.join(" ")).toBe(1);
        expect(run.stdout).toBe("");
        expect(run.stderr).toMatch(ONE_LINE);
        expect(run.stderr).toBe(`agent-incidents: schema ${typo} does not exist (it is not created without migrating: check the name)\n`);
      }
      expect(await query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [typo])).toEqual([]);
    });

    it("works on a runtime's schema, and refuses one at an older version without migrating it", async () => {
      const name = schema();
      const runtime = createIncidents({ store: postgresStore({ connectionString: url, schema: name }) });
      await runtime.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "loop" });
      await runtime.close();
      const list = await cli(["list", "--pg", url, "--schema", name, "--workspace", "ws_acme"]);
      expect(list).toMatchObject({ code: 0, stderr: "" });
      expect(list.stdout).toMatch(/\n1\s+medium\s+open\s+agt_refunds .*Anomaly: loop\n$/);
      expect((await cli(["ack", "1", "--pg", url, "--schema", name, "--workspace", "ws_acme"])).stdout).toMatch(/^#1 medium is acknowledged/);

      const [{ v }] = await query(`SELECT max(version) AS v FROM "${name}".schema_migrations`);
      await query(`DELETE FROM "${name}".schema_migrations WHERE version = $1`, [v]);
      const older = await cli(["list", "--pg", url, "--schema", name, "--workspace", "ws_acme"]);
      expect(older.code).toBe(1);
      expect(older.stderr).toBe(`agent-incidents: schema ${name} is at schema version ${v - 1}, older than this agent-incidents (${v}); opened without migrating, it is left as it is: a store that migrates (a runtime on this version, when it starts) upgrades it\n`);
      expect(await query(`SELECT max(version) AS v FROM "${name}".schema_migrations`)).toEqual([{ v: v - 1 }]);
    });
  });
} else {
  reportSkipped("agent-incidents --pg");
}
