/** One schema change, applied once, in order, inside a transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "create incidents, activity, occurrences, snapshots and counters",
    sql: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        agent_id TEXT,
        run_id TEXT,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
        severity_rank INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'investigating', 'resolved')),
        fingerprint TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (workspace_id, number)
      );
      -- the console's default query: severity, then recency, optionally by status
      CREATE INDEX incidents_by_severity ON incidents (workspace_id, severity_rank DESC, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_status ON incidents (workspace_id, status, severity_rank DESC, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_recency ON incidents (workspace_id, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_agent ON incidents (workspace_id, agent_id, last_seen_at DESC);
      CREATE INDEX incidents_by_run ON incidents (workspace_id, run_id);
      CREATE INDEX incidents_by_fingerprint ON incidents (workspace_id, fingerprint, number);
      CREATE INDEX incidents_by_created ON incidents (workspace_id, created_at);

      CREATE TABLE activity (
        id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (incident_id, version)
      );

      CREATE TABLE occurrences (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace_id TEXT NOT NULL,
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        fingerprint TEXT NOT NULL,
        run_id TEXT,
        event_id TEXT,
        trace_id TEXT,
        at TEXT NOT NULL
      );
      -- (runId, eventId) is reported once per workspace: hooks get retried
      CREATE UNIQUE INDEX occurrences_idempotency ON occurrences (workspace_id, run_id, event_id) WHERE run_id IS NOT NULL AND event_id IS NOT NULL;
      CREATE INDEX occurrences_by_fingerprint ON occurrences (workspace_id, fingerprint, at);
      CREATE INDEX occurrences_by_incident ON occurrences (incident_id, at);

      CREATE TABLE snapshots (
        incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
        data TEXT NOT NULL
      );

      CREATE TABLE workspace_counters (
        workspace_id TEXT PRIMARY KEY,
        last_number INTEGER NOT NULL
      );

      -- severity x status counts per agent, kept in step with every write, so counts() reads a few rows
      CREATE TABLE incident_counts (
        workspace_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, agent_id, severity, status)
      );
    `,
  },
];
