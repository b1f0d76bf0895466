import { sqliteStore } from "agent-incidents/sqlite";
import { postgresStore } from "agent-incidents/postgres";

/** Opens the store a parent test names: `sqlite:<file>` or `postgres:<url>#<schema>`. */
export async function openStore(spec) {
  if (spec.startsWith("sqlite:")) return sqliteStore({ filename: spec.slice("sqlite:".length) });
  const [url, schema] = spec.slice("postgres:".length).split("#");
  return postgresStore({ connectionString: url, schema, max: 4 });
}
