/**
 * A pool whose every connection is a read-only session (`default_transaction_read_only`), set on
 * each new connection before its first use: any write is then refused by the server itself.
 * Only for the store's own pool: on a pool someone else also uses, the setting would stay on
 * their connections too.
 */
import type { PgClient, PgPool } from "./postgres.js";

export function readOnlyPool(pool: PgPool): PgPool {
  const ready = new WeakSet<PgClient>();
  const connect = async (): Promise<PgClient> => {
    const client = await pool.connect();
    if (!ready.has(client)) {
      try {
        await client.query("SET default_transaction_read_only = on");
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      ready.add(client);
    }
    return client;
  };
  const query = async (text: string | { name?: string; text: string; values: unknown[] }, params?: unknown[]) => {
    const client = await connect();
    let broken: Error | undefined;
    try {
      return typeof text === "string" ? await client.query(text, params) : await client.query(text);
    } catch (error) {
      // a statement the server refused (a SQLSTATE) leaves the connection usable; a lost one is not handed out again
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  };
  return { connect, query: query as PgPool["query"], end: () => pool.end() };
}
