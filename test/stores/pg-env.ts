import pg from "pg";
import { afterAll, describe, it } from "vitest";

/** The PostgreSQL server for tests, from `PG_URL`; unset means the PostgreSQL tests skip. */
export const PG_URL = process.env["PG_URL"];

export const SKIP_REASON = "PG_URL is not set: skipping the PostgreSQL tests (set PG_URL=postgres://postgres@127.0.0.1:5432/test to run them)";

/** Registers a visible skipped test saying why, when PostgreSQL is not configured. */
export function reportSkipped(name: string): void {
  describe(name, () => {
    it.skip(SKIP_REASON, () => undefined);
  });
  console.warn(`[${name}] ${SKIP_REASON}`);
}

/** Fresh schema names for this file, dropped after it. */
export function schemas(prefix: string): () => string {
  const made: string[] = [];
  const tag = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  afterAll(async () => {
    if (!PG_URL || made.length === 0) return;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const schema of made) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  return () => {
    const name = `${tag}_${made.length + 1}`;
    made.push(name);
    return name;
  };
}

/** One statement on a connection of its own, opened and closed around it. */
export async function queryOnce(url: string, text: string, params: unknown[] = []): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}
