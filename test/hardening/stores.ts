import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryStore, type IncidentStore } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";

export interface StoreTarget {
  name: string;
  make: () => IncidentStore;
}

/**
 * The three built-in stores, each fresh per call: memory, SQLite in a temporary file, and
 * PostgreSQL in a fresh schema when PG_URL is set (otherwise a visible skip says so).
 */
export function storeTargets(area: string): StoreTarget[] {
  const dir = mkdtempSync(join(tmpdir(), "agent-incidents-hardening-"));
  let files = 0;
  const targets: StoreTarget[] = [
    { name: "memory", make: () => memoryStore() },
    { name: "sqlite", make: () => sqliteStore({ filename: join(dir, `h-${++files}.db`) }) },
  ];
  if (PG_URL) {
    const schema = schemas(`h_${area}`);
    targets.push({ name: "postgres", make: () => postgresStore({ connectionString: PG_URL!, schema: schema(), max: 4 }) });
  } else {
    reportSkipped(`hardening (${area}) on postgres`);
  }
  return targets;
}

export const scope = { workspaceId: "ws_h", agentId: "agt_h", environment: "production" as const };
export const operator = { id: "usr_op", role: "operator" as const, workspaceId: "ws_h" };
export const refund = { type: "refund.create", payload: { amount: 900 } };
export const stripe = { id: "con_stripe", provider: "stripe" };
export const limit = { id: "pol_limit", name: "Refund limit", effect: "block" as const };
