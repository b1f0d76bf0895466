/**
 * The PostgreSQL store against raw `pg` doing the same job: a report against one INSERT of the
 * incident row (same columns, same indexes), with one client and with eight in one workspace;
 * get and paging on a freshly migrated schema, as a user's first day would be.
 */
import pg from "pg";
import { createIncidents } from "agent-incidents";
import { postgresStore } from "agent-incidents/postgres";
import { alternate, comparisons, log, micro, results, throughput } from "./lib.js";
import { reporters, signal, WORKSPACE } from "./workload.js";

const atMost = (x: number) => (library: number, floor: number) => library <= x * floor;
const atLeast = (x: number) => (library: number, floor: number) => library >= x * floor;

export async function postgresBench(options: { url: string; n: number; rounds: number }): Promise<void> {
  const { url, n } = options;
  const prefix = `bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Pool({ connectionString: url, max: 8 });
  const schemas: string[] = [];
  let round = 0;
  log(`postgres: writes, ${n} reports x ${options.rounds} rounds`);

  const reportRun = (clients: number) => async () => {
    const schema = `${prefix}_r${round++}`;
    schemas.push(schema);
    const store = postgresStore({ connectionString: url, schema, max: clients });
    await store.migrate();
    const incidents = createIncidents({ store });
    const [report] = reporters(incidents);
    const ops = await throughput(n, (i) => report!.policyBlocked(signal(i, "run_a")), clients);
    await incidents.close();
    return ops;
  };
  // the same incident row, as the library writes it, inserted into a table with the same indexes
  let template: Record<string, unknown> | null = null;
  const floorRun = (clients: number) => async () => {
    const schema = `${prefix}_f${round++}`;
    schemas.push(schema);
    const store = postgresStore({ connectionString: url, schema });
    const incidents = createIncidents({ store });
    await reporters(incidents)[0]!.policyBlocked(signal(0, "run_template"));
    await incidents.close();
    template ??= (await admin.query(`SELECT * FROM "${schema}".incidents`)).rows[0];
    const columns = Object.keys(template!);
    const text = `INSERT INTO "${schema}".incidents (${columns.join(", ")}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(", ")})`;
    const pool = new pg.Pool({ connectionString: url, max: clients });
    const ops = await throughput(
      n,
      (i) => pool.query(text, columns.map((c) => (c === "id" ? `inc_floor_${i}` : c === "number" ? i + 2 : c === "fingerprint" ? `fp_${i}` : template![c]))),
      clients,
    );
    await pool.end();
    return ops;
  };
  const writes = await alternate(options.rounds, { report: reportRun(1), floor: floorRun(1), report8: reportRun(8), floor8: floorRun(8) });
  results["postgres.report.ops"] = writes.report;
  results["postgres.floor_insert.ops"] = writes.floor;
  results["postgres.report_x8.ops"] = writes.report8;
  results["postgres.floor_insert_x8.ops"] = writes.floor8;
  comparisons.push(
    { section: "postgres", path: "report, 1 client", key: "postgres.report.ops", floorKey: "postgres.floor_insert.ops", floor: "one INSERT of the incident row", better: "higher", target: ">= 0.4x", met: atLeast(0.4) },
    { section: "postgres", path: "report, 8 clients, one workspace", key: "postgres.report_x8.ops", floorKey: "postgres.floor_insert_x8.ops", floor: "the INSERT from 8 clients", better: "higher", target: ">= 0.3x", met: atLeast(0.3) },
  );

  // reads on the schema the first report run wrote: freshly migrated, n incidents
  const schema = schemas[0]!;
  log(`postgres: reads on ${schema}`);
  const store = postgresStore({ connectionString: url, schema });
  const incidents = createIncidents({ store });
  const ops = incidents.as({ id: "usr_bench", role: "viewer", workspaceId: WORKSPACE });
  const ids = (await admin.query(`SELECT id FROM "${schema}".incidents ORDER BY number`)).rows.map((r) => r.id as string);
  const s = `"${schema}"`;
  const getFloor = {
    name: `${prefix}_get`,
    text: `SELECT i.*,
        (SELECT json_agg(a.data ORDER BY a.version) FROM ${s}.activity a WHERE a.incident_id = i.id) AS activity,
        (SELECT json_agg(json_build_object('run_id', o.run_id, 'event_id', o.event_id, 'trace_id', o.trace_id, 'at', o.at) ORDER BY o.at, o.seq)
           FROM ${s}.occurrences o WHERE o.incident_id = i.id) AS occurrences
      FROM ${s}.incidents i WHERE i.workspace_id = $1 AND i.id = $2`,
  };
  const order = "ORDER BY severity_rank DESC, last_seen_at DESC, number DESC LIMIT 51";
  const first = { name: `${prefix}_p1`, text: `SELECT * FROM ${s}.incidents WHERE workspace_id = $1 ${order}` };
  const after = { name: `${prefix}_pn`, text: `SELECT * FROM ${s}.incidents WHERE workspace_id = $1 AND (severity_rank, last_seen_at, number) < ($2, $3, $4) ${order}` };
  const client = await admin.connect();
  let g = 0;
  const reads = await micro({
    get: () => ops.get(ids[g++ % ids.length]!),
    getFloor: () => client.query({ ...getFloor, values: [WORKSPACE, ids[g++ % ids.length]] }),
    page5: async () => {
      let page = await ops.list();
      for (let p = 1; p < 5; p++) page = await ops.list({ cursor: page.nextCursor! });
    },
    page5Floor: async () => {
      let rows = (await client.query({ ...first, values: [WORKSPACE] })).rows;
      for (let p = 1; p < 5; p++) {
        const last = rows[49];
        rows = (await client.query({ ...after, values: [WORKSPACE, last.severity_rank, last.last_seen_at, last.number] })).rows;
      }
    },
  });
  client.release();
  await incidents.close();
  results["postgres.get.us"] = reads.get * 1000;
  results["postgres.get_floor.us"] = reads.getFloor * 1000;
  results["postgres.page5.ms"] = reads.page5;
  results["postgres.page5_floor.ms"] = reads.page5Floor;
  comparisons.push(
    { section: "postgres", path: "get with activity", key: "postgres.get.us", floorKey: "postgres.get_floor.us", floor: "one named statement with json_agg", better: "lower", target: "<= 2x", met: atMost(2) },
    { section: "postgres", path: `page 5 by cursor (${Math.round(ids.length / 1000)}k, fresh schema)`, key: "postgres.page5.ms", floorKey: "postgres.page5_floor.ms", floor: "the same SQL x5, named", better: "lower", target: "<= 2x", met: atMost(2) },
  );
  for (const schema of schemas) await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
}
