/**
 * The SQLite store against raw better-sqlite3 doing the same job on the same schema: durable
 * writes (group commit against one autocommit insert each; one report against the minimal
 * transaction), and the console's reads on a cached data set of `large` incidents.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createIncidents, type IncidentStore } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { alternate, comparisons, latencies, log, median, micro, results, throughput } from "./lib.js";
import { fill, reporters, signal, WORKSPACE } from "./workload.js";

const atMost = (x: number) => (library: number, floor: number) => library <= x * floor;

type Row = Record<string, unknown>;

/** A fresh database file with the library's schema, and one incident written by the library. */
async function freshDatabase(dir: string, tag: string): Promise<{ file: string; template: { incident: Row; activity: Row; occurrence: Row } }> {
  const file = join(dir, `${tag}.db`);
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  const incidents = createIncidents({ store: sqliteStore({ filename: file }) });
  await reporters(incidents)[0]!.policyBlocked(signal(0, "run_template"));
  await incidents.close();
  const db = new Database(file);
  const template = {
    incident: db.prepare("SELECT * FROM incidents").get() as Row,
    activity: db.prepare("SELECT * FROM activity").get() as Row,
    occurrence: db.prepare("SELECT * FROM occurrences").get() as Row,
  };
  db.close();
  return { file, template };
}

function rawDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  return db;
}

export async function sqliteBench(options: { n: number; large: number; rounds: number; dir: string; cache: string }): Promise<void> {
  const { n, dir } = options;
  log(`sqlite: durable writes, ${n} reports x ${options.rounds} rounds`);
  let round = 0;

  // 32 reports in flight (group commit) against one durable autocommit insert after another
  const grouped = async () => {
    const file = join(dir, `grouped-${round++}.db`);
    const incidents = createIncidents({ store: sqliteStore({ filename: file }) });
    const [report] = reporters(incidents);
    const ops = await throughput(n, (i) => report!.policyBlocked(signal(i, "run_a")), 32);
    await incidents.close();
    return ops;
  };
  const autocommit = async () => {
    const { file, template } = await freshDatabase(dir, `autocommit-${round++}`);
    const db = rawDatabase(file);
    const insert = db.prepare(`INSERT INTO incidents (${Object.keys(template.incident).join(", ")}) VALUES (${Object.keys(template.incident).map((k) => `@${k}`).join(", ")})`);
    const ops = await throughput(n, (i) => insert.run({ ...template.incident, id: `inc_floor_${i}`, number: i + 2, fingerprint: `fp_${i}` }));
    db.close();
    return ops;
  };
  // one report at a time against the least a report must write, in one transaction
  const serial = async () => {
    const file = join(dir, `serial-${round++}.db`);
    const incidents = createIncidents({ store: sqliteStore({ filename: file }) });
    const [report] = reporters(incidents);
    const times = await latencies(Math.ceil(n / 4), (i) => report!.policyBlocked(signal(i, "run_a")));
    await incidents.close();
    return median(times) * 1000;
  };
  const minimalTx = async () => {
    const { file, template } = await freshDatabase(dir, `tx-${round++}`);
    const db = rawDatabase(file);
    const st = {
      byKey: db.prepare("SELECT incident_id FROM occurrences WHERE workspace_id = ? AND kind = ? AND run_id = ? AND event_id = ?"),
      byFingerprint: db.prepare("SELECT * FROM incidents WHERE workspace_id = ? AND fingerprint = ? AND status <> 'resolved' ORDER BY number DESC LIMIT 1"),
      incident: db.prepare(`INSERT INTO incidents (${Object.keys(template.incident).join(", ")}) VALUES (${Object.keys(template.incident).map((k) => `@${k}`).join(", ")})`),
      activity: db.prepare("INSERT INTO activity (id, incident_id, version, data) VALUES (?, ?, ?, ?)"),
      occurrence: db.prepare("INSERT INTO occurrences (workspace_id, incident_id, kind, fingerprint, run_id, event_id, trace_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      count: db.prepare(`INSERT INTO incident_counts (workspace_id, agent_id, severity, status, n) VALUES (?, ?, ?, ?, 1)
        ON CONFLICT (workspace_id, agent_id, severity, status) DO UPDATE SET n = n + excluded.n`),
    };
    const t = template;
    const write = db.transaction((i: number) => {
      const id = `inc_floor_${i}`;
      const fp = `fp_${i}`;
      st.byKey.get(WORKSPACE, t.incident["kind"], "run_a", `evt_${i}`);
      st.byFingerprint.get(WORKSPACE, fp);
      st.incident.run({ ...t.incident, id, number: i + 2, fingerprint: fp });
      st.activity.run(`act_floor_${i}`, id, 1, t.activity["data"]);
      st.occurrence.run(WORKSPACE, id, t.incident["kind"], fp, "run_a", `evt_${i}`, null, t.occurrence["at"]);
      st.count.run(WORKSPACE, t.incident["agent_id"], t.incident["severity"], "open");
    });
    const times = await latencies(Math.ceil(n / 4), (i) => write.immediate(i));
    db.close();
    return median(times) * 1000;
  };
  const writes = await alternate(options.rounds, { grouped, autocommit, serial, minimalTx });
  results["sqlite.report.ops"] = writes.grouped;
  results["sqlite.floor_autocommit.ops"] = writes.autocommit;
  results["sqlite.report_serial.us"] = writes.serial;
  results["sqlite.floor_tx.us"] = writes.minimalTx;
  comparisons.push(
    {
      section: "sqlite",
      path: "report, 32 in flight (synchronous full)",
      key: "sqlite.report.ops",
      floorKey: "sqlite.floor_autocommit.ops",
      floor: "raw autocommit insert of the incident row",
      better: "higher",
      target: ">= 1.5x",
      met: (library, floor) => library >= 1.5 * floor,
    },
    {
      section: "sqlite",
      path: "report, one at a time",
      key: "sqlite.report_serial.us",
      floorKey: "sqlite.floor_tx.us",
      floor: "raw minimal transaction (2 lookups, 4 writes)",
      better: "lower",
      target: "<= 1.2x",
      met: atMost(1.2),
    },
  );

  // the console's reads on a large data set, built once and cached
  // named by schema version: a data set from an older schema would be migrated, not representative
  const file = join(options.cache, `sqlite-${options.large}-schema6.db`);
  if (!existsSync(file)) {
    mkdirSync(options.cache, { recursive: true });
    log(`sqlite: building ${file} (once; kept for later runs)`);
    const building = `${file}.building`;
    for (const suffix of ["", "-wal", "-shm"]) rmSync(building + suffix, { force: true });
    const incidents = createIncidents({ store: sqliteStore({ filename: building, synchronous: "normal" }) });
    await fill(incidents, options.large, 64, (done) => log(`sqlite: ${done} reports`));
    await incidents.close();
    const db = new Database(building);
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    renameSync(building, file);
  }
  log(`sqlite: reads on ${file}`);
  const store: IncidentStore = sqliteStore({ filename: file });
  const incidents = createIncidents({ store });
  const ops = incidents.as({ id: "usr_bench", role: "viewer", workspaceId: WORKSPACE });
  const raw = new Database(file, { readonly: true });
  const total = (raw.prepare("SELECT count(*) AS n FROM incidents").get() as { n: number }).n;
  const ids = (raw.prepare("SELECT id FROM incidents WHERE rowid % 997 = 0").all() as Array<{ id: string }>).map((r) => r.id);
  const listRaw = raw.prepare(
    "SELECT * FROM incidents WHERE workspace_id = ? AND status IN (?) ORDER BY severity_rank DESC, last_seen_at DESC, number DESC LIMIT ?",
  );
  const allFirst = raw.prepare("SELECT * FROM incidents WHERE workspace_id = ? ORDER BY severity_rank DESC, last_seen_at DESC, number DESC LIMIT ?");
  const allAfter = raw.prepare(
    "SELECT * FROM incidents WHERE workspace_id = ? AND (severity_rank, last_seen_at, number) < (?, ?, ?) ORDER BY severity_rank DESC, last_seen_at DESC, number DESC LIMIT ?",
  );
  const countsRaw = raw.prepare("SELECT severity, status, sum(n) AS n FROM incident_counts WHERE workspace_id = ? GROUP BY severity, status");
  const getRaw = {
    incident: raw.prepare("SELECT * FROM incidents WHERE workspace_id = ? AND id = ?"),
    activity: raw.prepare("SELECT a.data FROM activity a JOIN incidents i ON i.id = a.incident_id WHERE i.workspace_id = ? AND a.incident_id = ? ORDER BY a.version"),
    occurrences: raw.prepare("SELECT incident_id, run_id, event_id, trace_id, at FROM occurrences WHERE workspace_id = ? AND incident_id = ? ORDER BY at, seq"),
  };
  let g = 0;
  const reads = await micro({
    list: () => ops.list({ status: ["open"] }),
    listFloor: () => listRaw.all(WORKSPACE, "open", 51),
    page5: async () => {
      let page = await ops.list();
      for (let p = 1; p < 5; p++) page = await ops.list({ cursor: page.nextCursor! });
    },
    page5Floor: () => {
      let rows = allFirst.all(WORKSPACE, 51) as Row[];
      for (let p = 1; p < 5; p++) {
        const last = rows[49]!;
        rows = allAfter.all(WORKSPACE, last["severity_rank"], last["last_seen_at"], last["number"], 51) as Row[];
      }
    },
    counts: () => ops.counts(),
    countsFloor: () => countsRaw.all(WORKSPACE),
    get: () => ops.get(ids[g++ % ids.length]!),
    getFloor: () => {
      const id = ids[g++ % ids.length]!;
      getRaw.incident.get(WORKSPACE, id);
      getRaw.activity.all(WORKSPACE, id);
      getRaw.occurrences.all(WORKSPACE, id);
    },
  });
  const k = `${Math.round(total / 1000)}k`;
  results["sqlite.incidents"] = total;
  results["sqlite.list_1m.ms"] = reads.list;
  results["sqlite.list_1m_floor.ms"] = reads.listFloor;
  results["sqlite.page5_1m.ms"] = reads.page5;
  results["sqlite.page5_1m_floor.ms"] = reads.page5Floor;
  results["sqlite.counts_1m.ms"] = reads.counts;
  results["sqlite.counts_1m_floor.ms"] = reads.countsFloor;
  results["sqlite.get_1m.us"] = reads.get * 1000;
  results["sqlite.get_1m_floor.us"] = reads.getFloor * 1000;
  const sameSql = "the same SQL, raw";
  comparisons.push(
    { section: "sqlite", path: `list(open, 50) at ${k}`, key: "sqlite.list_1m.ms", floorKey: "sqlite.list_1m_floor.ms", floor: sameSql, better: "lower", target: "<= 2x", met: atMost(2) },
    { section: "sqlite", path: `page 5 by cursor at ${k}`, key: "sqlite.page5_1m.ms", floorKey: "sqlite.page5_1m_floor.ms", floor: "the same SQL x5, raw", better: "lower", target: "<= 2x", met: atMost(2) },
    { section: "sqlite", path: `counts at ${k}`, key: "sqlite.counts_1m.ms", floorKey: "sqlite.counts_1m_floor.ms", floor: sameSql, better: "lower", target: "<= 2x", met: atMost(2) },
    { section: "sqlite", path: `get with activity at ${k}`, key: "sqlite.get_1m.us", floorKey: "sqlite.get_1m_floor.us", floor: "the same 3 selects, raw", better: "lower", target: "<= 2x", met: atMost(2) },
  );

  // bytes on disk per incident against the JSON of what is kept for one
  let jsonBytes = 0;
  const sample = ids.slice(0, 1000);
  for (const id of sample) {
    const detail = await ops.get(id);
    const snapshot = await store.snapshot(WORKSPACE, id);
    jsonBytes += Buffer.byteLength(JSON.stringify({ ...detail, snapshot }));
  }
  // the change feed keeps each change for an hour after it is planned (longer while nobody
  // delivers): what it holds is counted on its own, and the lasting bytes without it
  const feedBytes = (raw.prepare("SELECT coalesce(sum(pgsize), 0) AS n FROM dbstat WHERE name = 'changes' OR name LIKE 'changes_%'").get() as { n: number }).n;
  const changes = (raw.prepare("SELECT count(*) AS n FROM changes").get() as { n: number }).n;
  raw.close();
  await incidents.close();
  results["sqlite.bytes_per_incident"] = (statSync(file).size - feedBytes) / total;
  results["sqlite.feed_bytes_per_change"] = changes > 0 ? feedBytes / changes : 0;
  results["json.bytes_per_incident_records"] = jsonBytes / sample.length;
  comparisons.push({
    section: "sqlite",
    path: `file bytes per incident, the change feed apart (${k})`,
    key: "sqlite.bytes_per_incident",
    floorKey: "json.bytes_per_incident_records",
    floor: "JSON of the incident, activity, occurrences, snapshot",
    better: "lower",
    target: "<= 1.5x",
    met: atMost(1.5),
  });
  if (changes > 0) {
    comparisons.push({
      section: "sqlite",
      path: `change feed bytes per change (${changes}, kept an hour)`,
      key: "sqlite.feed_bytes_per_change",
      floorKey: "json.bytes_per_incident_records",
      floor: "JSON of the incident, activity, occurrences, snapshot",
      better: "lower",
      target: "<= 1.5x",
      met: atMost(1.5),
    });
  }
}
