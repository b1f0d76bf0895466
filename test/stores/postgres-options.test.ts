/**
 * postgresStore's `migrate: false` and `readOnly`: a tool that must not create a schema from a
 * mistyped name, nor migrate one an older runtime still uses, nor write when it only looks.
 */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createIncidents, StorageError } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { migrationsFor } from "../../src/stores/sql-migrations.js";
import { PG_URL, queryOnce, reportSkipped, schemas } from "./pg-env.js";

const CURRENT = Math.max(...migrationsFor("postgres").map((m) => m.version));
const actor = { id: "usr_ana", role: "admin", workspaceId: "ws_acme" } as const;

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("options");
  const query = (text: string, params: unknown[] = []) => queryOnce(url, text, params);
  const exists = async (name: string) => (await query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [name])).length === 1;

  describe("postgresStore({ migrate: false }) and ({ readOnly: true })", () => {
    it("refuse a schema that does not exist, and create nothing", async () => {
      const name = schema();
      for (const options of [{ migrate: false }, { readOnly: true }]) {
        const store = postgresStore({ connectionString: url, schema: name, ...options });
        await expect(store.migrate()).rejects.toThrow(`postgres store: schema ${name} does not exist (it is not created without migrating: check the name)`);
        await expect(createIncidents({ store }).as(actor).list()).rejects.toThrow(StorageError);
        await store.close();
      }
      expect(await exists(name)).toBe(false);
    });

    it("refuse a schema an older runtime migrated, and leave it at its version", async () => {
      const name = schema();
      await postgresStore({ connectionString: url, schema: name }).migrate();
      await query(`DELETE FROM "${name}".schema_migrations WHERE version = $1`, [CURRENT]);
      const store = postgresStore({ connectionString: url, schema: name, migrate: false });
      await expect(store.migrate()).rejects.toThrow(`schema ${name} is at schema version ${CURRENT - 1}, older than this agent-incidents (${CURRENT})`);
      await store.close();
      expect((await query(`SELECT max(version) AS v FROM "${name}".schema_migrations`))[0].v).toBe(CURRENT - 1);
    });

    it("read a current schema; readOnly refuses every write in the server", async () => {
      const name = schema();
      const runtime = createIncidents({ store: postgresStore({ connectionString: url, schema: name }) });
      await runtime.reporter({ workspaceId: "ws_acme", agentId: "agt", environment: "test" }).anomaly({ runId: "r", eventId: "e", pattern: "p" });
      await runtime.close();
      const reader = createIncidents({ store: postgresStore({ connectionString: url, schema: name, readOnly: true }) });
      const [incident] = (await reader.as(actor).list()).items;
      expect(incident?.title).toBe("Anomaly: p");
      await expect(reader.as(actor).acknowledge(incident!.id)).rejects.toThrow(/read-only transaction/);
      await reader.close();
      const writer = createIncidents({ store: postgresStore({ connectionString: url, schema: name, migrate: false }) });
      expect((await writer.as(actor).acknowledge(incident!.id)).status).toBe("acknowledged");
      await writer.close();
    });

    it("refuse readOnly with a pool of the caller's, and readOnly with migrate: true", () => {
      const pool = new pg.Pool({ connectionString: url });
      expect(() => postgresStore({ pool, readOnly: true } as never)).toThrow(/postgresStore options/);
      expect(() => postgresStore({ connectionString: url, readOnly: true, migrate: true })).toThrow(/readOnly never migrates/);
      return pool.end();
    });
  });
} else {
  reportSkipped("postgresStore migrate: false and readOnly");
}
