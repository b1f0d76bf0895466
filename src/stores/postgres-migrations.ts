import type { Migration } from "./sqlite-migrations.js";

/** PostgreSQL schema changes; `{schema}` is replaced by the quoted schema name. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "create incidents, activity, occurrences, snapshots and counters",
    sql: `
      CREATE TABLE {schema}.incidents (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        agent_id TEXT,
        run_id TEXT,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
        severity_rank SMALLINT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'investigating', 'resolved')),
        fingerprint TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        version INTEGER NOT NULL,
        data JSONB NOT NULL,
        UNIQUE (workspace_id, number)
      );
      CREATE INDEX incidents_by_severity ON {schema}.incidents (workspace_id, severity_rank DESC, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_status ON {schema}.incidents (workspace_id, status, severity_rank DESC, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_recency ON {schema}.incidents (workspace_id, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_agent ON {schema}.incidents (workspace_id, agent_id, last_seen_at DESC);
      CREATE INDEX incidents_by_run ON {schema}.incidents (workspace_id, run_id);
      CREATE INDEX incidents_by_fingerprint ON {schema}.incidents (workspace_id, fingerprint, number);
      CREATE INDEX incidents_by_created ON {schema}.incidents (workspace_id, created_at);

      CREATE TABLE {schema}.activity (
        id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES {schema}.incidents (id),
        version INTEGER NOT NULL,
        data JSONB NOT NULL,
        UNIQUE (incident_id, version)
      );

      CREATE TABLE {schema}.occurrences (
        seq BIGSERIAL PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        incident_id TEXT NOT NULL REFERENCES {schema}.incidents (id),
        fingerprint TEXT NOT NULL,
        run_id TEXT,
        event_id TEXT,
        trace_id TEXT,
        at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX occurrences_idempotency ON {schema}.occurrences (workspace_id, run_id, event_id)
        WHERE run_id IS NOT NULL AND event_id IS NOT NULL;
      CREATE INDEX occurrences_by_fingerprint ON {schema}.occurrences (workspace_id, fingerprint, at);
      CREATE INDEX occurrences_by_incident ON {schema}.occurrences (incident_id, at);

      CREATE TABLE {schema}.snapshots (
        incident_id TEXT PRIMARY KEY REFERENCES {schema}.incidents (id),
        data JSONB NOT NULL
      );

      CREATE TABLE {schema}.workspace_counters (
        workspace_id TEXT PRIMARY KEY,
        last_number INTEGER NOT NULL
      );

      CREATE TABLE {schema}.incident_counts (
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
