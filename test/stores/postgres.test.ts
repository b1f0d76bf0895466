import { postgresStore } from "agent-incidents/postgres";
import { describeStoreConformance } from "agent-incidents/testing";
import { PG_URL, reportSkipped, schemas } from "./pg-env.js";

if (PG_URL) {
  const url = PG_URL;
  const schema = schemas("conformance");
  describeStoreConformance("postgres", () => postgresStore({ connectionString: url, schema: schema() }), { concurrentReports: 60 });
} else {
  reportSkipped("IncidentStore conformance: postgres");
}
