import { StorageError } from "../core/errors.js";

/** One schema change, applied once, in order, inside a transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export type Dialect = "sqlite" | "postgres";

const TYPES: Record<Dialect, { json: string; serial: string }> = {
  sqlite: { json: "TEXT", serial: "INTEGER PRIMARY KEY AUTOINCREMENT" },
  postgres: { json: "JSONB", serial: "BIGSERIAL PRIMARY KEY" },
};

/**
 * Both SQL stores share one schema; `{t}` is the table prefix, `{json}` and `{serial}` the
 * dialect's types. A migration whose SQL differs by dialect gives one template for each.
 */
const TEMPLATES: ReadonlyArray<Omit<Migration, "sql"> & { template: string | Record<Dialect, string> }> = [
  {
    version: 1,
    name: "create incidents, activity, occurrences, snapshots and counters",
    template: `
      CREATE TABLE {t}incidents (
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
        data {json} NOT NULL,
        UNIQUE (workspace_id, number)
      );
      -- the console's default query: severity, then recency, optionally by status
      CREATE INDEX incidents_by_severity ON {t}incidents (workspace_id, severity_rank DESC, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_status ON {t}incidents (workspace_id, status, severity_rank DESC, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_recency ON {t}incidents (workspace_id, last_seen_at DESC, number DESC);
      CREATE INDEX incidents_by_agent ON {t}incidents (workspace_id, agent_id, last_seen_at DESC);
      CREATE INDEX incidents_by_run ON {t}incidents (workspace_id, run_id);
      CREATE INDEX incidents_by_fingerprint ON {t}incidents (workspace_id, fingerprint, number);
      CREATE INDEX incidents_by_created ON {t}incidents (workspace_id, created_at);

      CREATE TABLE {t}activity (
        id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES {t}incidents (id),
        version INTEGER NOT NULL,
        data {json} NOT NULL,
        UNIQUE (incident_id, version)
      );

      CREATE TABLE {t}occurrences (
        seq {serial},
        workspace_id TEXT NOT NULL,
        incident_id TEXT NOT NULL REFERENCES {t}incidents (id),
        fingerprint TEXT NOT NULL,
        run_id TEXT,
        event_id TEXT,
        trace_id TEXT,
        at TEXT NOT NULL
      );
      -- (runId, eventId) is reported once per workspace: hooks get retried
      CREATE UNIQUE INDEX occurrences_idempotency ON {t}occurrences (workspace_id, run_id, event_id) WHERE run_id IS NOT NULL AND event_id IS NOT NULL;
      CREATE INDEX occurrences_by_fingerprint ON {t}occurrences (workspace_id, fingerprint, at);
      CREATE INDEX occurrences_by_incident ON {t}occurrences (incident_id, at);

      CREATE TABLE {t}snapshots (
        incident_id TEXT PRIMARY KEY REFERENCES {t}incidents (id),
        data {json} NOT NULL
      );

      CREATE TABLE {t}workspace_counters (
        workspace_id TEXT PRIMARY KEY,
        last_number INTEGER NOT NULL
      );

      -- severity x status counts per agent, kept in step with every write, so counts() reads a few rows
      CREATE TABLE {t}incident_counts (
        workspace_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, agent_id, severity, status)
      );
    `,
  },
  {
    version: 2,
    name: "idempotency key with the kind; one snapshot per episode",
    template: `
      -- a block and a rejection that share an event id are two signals
      ALTER TABLE {t}occurrences ADD COLUMN kind TEXT NOT NULL DEFAULT '';
      UPDATE {t}occurrences SET kind = (SELECT i.kind FROM {t}incidents i WHERE i.id = {t}occurrences.incident_id);
      DROP INDEX {t}occurrences_idempotency;
      CREATE UNIQUE INDEX occurrences_idempotency_by_kind ON {t}occurrences (workspace_id, kind, run_id, event_id)
        WHERE run_id IS NOT NULL AND event_id IS NOT NULL;

      -- a reopen keeps the context of the report that reopened it, next to the first one
      CREATE TABLE {t}episode_snapshots (
        incident_id TEXT NOT NULL REFERENCES {t}incidents (id),
        episode INTEGER NOT NULL,
        data {json} NOT NULL,
        PRIMARY KEY (incident_id, episode)
      );
      INSERT INTO {t}episode_snapshots (incident_id, episode, data) SELECT incident_id, 1, data FROM {t}snapshots;
      DROP TABLE {t}snapshots;
    `,
  },
  {
    version: 3,
    name: "notification outbox",
    template: `
      -- written in the same transaction as the change it announces; claimed by workers with a lease
      CREATE TABLE {t}outbox (
        seq {serial},
        id TEXT NOT NULL UNIQUE,
        notifier TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        incident_id TEXT NOT NULL,
        digest SMALLINT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        claimed_by TEXT,
        lease_until TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        settled_at TEXT,
        notification {json} NOT NULL
      );
      CREATE INDEX outbox_due ON {t}outbox (status, notifier, due_at, seq);
      CREATE INDEX outbox_by_incident ON {t}outbox (notifier, incident_id, seq);
      CREATE INDEX outbox_settled ON {t}outbox (settled_at);
    `,
  },
  {
    version: 4,
    name: "seal on incident rows: rows the library wrote are read without revalidation",
    // every write by the library sets a fresh seal; an UPDATE that leaves it as it was (a hand
    // edit) clears it, and so does an INSERT that does not set one: the store then checks such a
    // row against the schema when it reads it, as it checked every row before
    template: {
      sqlite: `
        ALTER TABLE incidents ADD COLUMN seal INTEGER;
        CREATE TRIGGER incidents_unseal_hand_edits AFTER UPDATE ON incidents FOR EACH ROW
          WHEN NEW.seal IS NOT NULL AND NEW.seal IS OLD.seal
        BEGIN
          UPDATE incidents SET seal = NULL WHERE rowid = NEW.rowid;
        END;
      `,
      postgres: `
        ALTER TABLE {t}incidents ADD COLUMN seal BIGINT;
        CREATE FUNCTION {t}unseal_hand_edits() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.seal IS NOT DISTINCT FROM OLD.seal THEN NEW.seal := NULL; END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER incidents_unseal_hand_edits BEFORE UPDATE ON {t}incidents
          FOR EACH ROW EXECUTE FUNCTION {t}unseal_hand_edits();
      `,
    },
  },
  {
    version: 5,
    name: "PostgreSQL: numbers from a sequence per workspace, counts in shards, the report's reads in one call",
    template: {
      // one writer at a time: nothing to spread
      sqlite: "SELECT 1;",
      postgres: `
        -- writers of one workspace no longer queue on its counter row until COMMIT: a number comes
        -- from the workspace's own sequence, created on its first incident and started after any
        -- number handed out before. Numbers stay unique and increasing per workspace; a report
        -- rolled back after taking one leaves a gap.
        CREATE FUNCTION {t}next_number(p_workspace TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
        DECLARE
          seq TEXT := format('%I.%I', '{schema}', 'number_' || md5(p_workspace));
          last BIGINT;
        BEGIN
          IF to_regclass(seq) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('agent-incidents numbers'), hashtext(p_workspace));
            BEGIN
              EXECUTE format('CREATE SEQUENCE %s', seq);
              SELECT greatest(
                (SELECT coalesce(max(number), 0) FROM {t}incidents WHERE workspace_id = p_workspace),
                (SELECT coalesce(max(last_number), 0) FROM {t}workspace_counters WHERE workspace_id = p_workspace)
              ) INTO last;
              IF last > 0 THEN PERFORM setval(seq, last); END IF;
            EXCEPTION WHEN duplicate_table OR unique_violation THEN
              NULL; -- created meanwhile by another writer
            END;
          END IF;
          RETURN nextval(seq);
        END $$;

        -- a report's reads, in one round trip after the lock that serializes its fingerprint:
        -- the incident its (kind, runId, eventId) already made, or else the fingerprint's latest
        -- incident and how often the fingerprint was seen since the window's start
        CREATE FUNCTION {t}ingest_lookup(p_workspace TEXT, p_fingerprint TEXT, p_kind TEXT, p_run TEXT, p_event TEXT, p_merge BOOLEAN, p_since TEXT)
        RETURNS TABLE (duplicate BOOLEAN, recent BIGINT, incident JSON) LANGUAGE plpgsql AS $$
        DECLARE
          found_row {t}incidents;
          has_row BOOLEAN;
        BEGIN
          PERFORM pg_advisory_xact_lock(hashtext(p_workspace), hashtext(p_fingerprint));
          IF p_run IS NOT NULL AND p_event IS NOT NULL THEN
            SELECT i.* INTO found_row FROM {t}occurrences o JOIN {t}incidents i ON i.id = o.incident_id
              WHERE o.workspace_id = p_workspace AND o.kind = p_kind AND o.run_id = p_run AND o.event_id = p_event;
            IF FOUND THEN
              RETURN QUERY SELECT TRUE, 0::BIGINT, row_to_json(found_row);
              RETURN;
            END IF;
          END IF;
          IF NOT p_merge THEN
            RETURN QUERY SELECT FALSE, 0::BIGINT, NULL::JSON;
            RETURN;
          END IF;
          SELECT * INTO found_row FROM {t}incidents WHERE workspace_id = p_workspace AND fingerprint = p_fingerprint
            ORDER BY (status = 'resolved'), CASE WHEN status = 'resolved' THEN resolved_at ELSE created_at END DESC, number DESC
            LIMIT 1 FOR UPDATE;
          has_row := FOUND;
          RETURN QUERY SELECT FALSE,
            (SELECT count(*) FROM {t}occurrences WHERE workspace_id = p_workspace AND fingerprint = p_fingerprint AND at >= p_since),
            CASE WHEN has_row THEN row_to_json(found_row) END;
        END $$;

        -- one agent's reports of one severity no longer queue on one counts row: each write adds
        -- to one of 16 shards, and reads sum them
        ALTER TABLE {t}incident_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
        ALTER TABLE {t}incident_counts DROP CONSTRAINT incident_counts_pkey;
        ALTER TABLE {t}incident_counts ADD PRIMARY KEY (workspace_id, agent_id, severity, status, shard);
      `,
    },
  },
  {
    version: 6,
    name: "SQLite: tables keyed by what they are read by, without a second index on the rowid",
    template: {
      // a report writes a row to each of these: as WITHOUT ROWID tables keyed by how they are
      // read, each is one b-tree instead of a table plus a primary-key index, and occurrences no
      // longer update sqlite_sequence (its seq only orders occurrences, which are never deleted)
      sqlite: `
        CREATE TABLE episode_snapshots_v6 (
          incident_id TEXT NOT NULL REFERENCES incidents (id),
          episode INTEGER NOT NULL,
          data TEXT NOT NULL,
          PRIMARY KEY (incident_id, episode)
        ) WITHOUT ROWID;
        INSERT INTO episode_snapshots_v6 (incident_id, episode, data) SELECT incident_id, episode, data FROM episode_snapshots;
        DROP TABLE episode_snapshots;
        ALTER TABLE episode_snapshots_v6 RENAME TO episode_snapshots;

        CREATE TABLE activity_v6 (
          incident_id TEXT NOT NULL REFERENCES incidents (id),
          version INTEGER NOT NULL,
          id TEXT NOT NULL UNIQUE,
          data TEXT NOT NULL,
          PRIMARY KEY (incident_id, version)
        ) WITHOUT ROWID;
        INSERT INTO activity_v6 (incident_id, version, id, data) SELECT incident_id, version, id, data FROM activity;
        DROP TABLE activity;
        ALTER TABLE activity_v6 RENAME TO activity;

        CREATE TABLE occurrences_v6 (
          seq INTEGER PRIMARY KEY,
          workspace_id TEXT NOT NULL,
          incident_id TEXT NOT NULL REFERENCES incidents (id),
          fingerprint TEXT NOT NULL,
          run_id TEXT,
          event_id TEXT,
          trace_id TEXT,
          at TEXT NOT NULL,
          kind TEXT NOT NULL DEFAULT ''
        );
        INSERT INTO occurrences_v6 (seq, workspace_id, incident_id, fingerprint, run_id, event_id, trace_id, at, kind)
          SELECT seq, workspace_id, incident_id, fingerprint, run_id, event_id, trace_id, at, kind FROM occurrences;
        DROP TABLE occurrences;
        ALTER TABLE occurrences_v6 RENAME TO occurrences;
        CREATE UNIQUE INDEX occurrences_idempotency_by_kind ON occurrences (workspace_id, kind, run_id, event_id)
          WHERE run_id IS NOT NULL AND event_id IS NOT NULL;
        CREATE INDEX occurrences_by_fingerprint ON occurrences (workspace_id, fingerprint, at);
        CREATE INDEX occurrences_by_incident ON occurrences (incident_id, at);

        CREATE TABLE incident_counts_v6 (
          workspace_id TEXT NOT NULL,
          agent_id TEXT NOT NULL,
          severity TEXT NOT NULL,
          status TEXT NOT NULL,
          n INTEGER NOT NULL,
          PRIMARY KEY (workspace_id, agent_id, severity, status)
        ) WITHOUT ROWID;
        INSERT INTO incident_counts_v6 SELECT workspace_id, agent_id, severity, status, n FROM incident_counts;
        DROP TABLE incident_counts;
        ALTER TABLE incident_counts_v6 RENAME TO incident_counts;

        -- ascending, read backwards: a new incident is then an append at the end of the index,
        -- which leaves full pages, where inserting at the front of a descending one left them half full
        DROP INDEX incidents_by_recency;
        CREATE INDEX incidents_by_recency ON incidents (workspace_id, last_seen_at, number);

        CREATE TABLE workspace_counters_v6 (workspace_id TEXT PRIMARY KEY, last_number INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO workspace_counters_v6 SELECT workspace_id, last_number FROM workspace_counters;
        DROP TABLE workspace_counters;
        ALTER TABLE workspace_counters_v6 RENAME TO workspace_counters;
      `,
      // PostgreSQL tables have no rowid: nothing to change
      postgres: "SELECT 1;",
    },
  },
  {
    version: 7,
    name: "change feed: every committed change in order, planned into the outbox by whichever process delivers",
    template: {
      sqlite: `
        CREATE TABLE changes (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          workspace_id TEXT NOT NULL,
          incident_id TEXT NOT NULL,
          event TEXT NOT NULL,
          at TEXT NOT NULL,
          planned INTEGER NOT NULL DEFAULT 0,
          -- wall-clock time of the write (the host's clock may be a fake one): what pruning goes by
          written_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
          incident TEXT NOT NULL,
          previous TEXT
        );
        CREATE INDEX changes_unplanned ON changes (seq) WHERE planned = 0;
        CREATE INDEX changes_written ON changes (written_at);
        -- which notifiers were ever sent something about an incident: they get its follow-ups
        CREATE TABLE notified (notifier TEXT NOT NULL, incident_id TEXT NOT NULL, PRIMARY KEY (incident_id, notifier)) WITHOUT ROWID;
        CREATE TABLE notifier_heartbeats (notifier TEXT PRIMARY KEY, seen_at TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX outbox_by_notifier ON outbox (notifier, status, seq);
      `,
      postgres: `
        CREATE TABLE {t}changes (
          seq BIGSERIAL PRIMARY KEY,
          workspace_id TEXT NOT NULL,
          incident_id TEXT NOT NULL,
          event TEXT NOT NULL,
          at TEXT NOT NULL,
          planned SMALLINT NOT NULL DEFAULT 0,
          written_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          incident JSONB NOT NULL,
          previous JSONB
        );
        CREATE INDEX changes_unplanned ON {t}changes (seq) WHERE planned = 0;
        CREATE INDEX changes_written ON {t}changes (written_at);
        CREATE TABLE {t}notified (notifier TEXT NOT NULL, incident_id TEXT NOT NULL, PRIMARY KEY (incident_id, notifier));
        CREATE TABLE {t}notifier_heartbeats (notifier TEXT PRIMARY KEY, seen_at TEXT NOT NULL);
        CREATE INDEX outbox_by_notifier ON {t}outbox (notifier, status, seq);
      `,
    },
  },
  {
    version: 8,
    name: "noise control: incidents' groups, durable timers, silences",
    template: {
      // SQLite takes group_id IS NULL as an equality: incidents_by_group, in list order after it,
      // serves the console's default query (members left out) as it is
      sqlite: noiseTables("{t}"),
      // PostgreSQL orders by an index only after equalities: the default query gets its own
      postgres: `${noiseTables("{t}")}
        CREATE INDEX incidents_ungrouped_by_severity ON {t}incidents (workspace_id, severity_rank DESC, last_seen_at DESC, number DESC)
          WHERE group_id IS NULL;
      `,
    },
  },
];

/** Migration 8's part both dialects share; `t` prefixes tables. */
function noiseTables(t: string): string {
  return `
    -- both also live in the JSON document; as columns they filter lists. Rows written before
    -- noise control are in no group: null, as the new columns start
    ALTER TABLE ${t}incidents ADD COLUMN group_id TEXT;
    ALTER TABLE ${t}incidents ADD COLUMN group_key TEXT;
    -- in list order, so a group's page is a range of its own however large the workspace
    CREATE INDEX incidents_by_group ON ${t}incidents (workspace_id, group_id, severity_rank DESC, last_seen_at DESC, number DESC);
    CREATE INDEX incidents_by_group_key ON ${t}incidents (workspace_id, group_key, severity_rank DESC, last_seen_at DESC, number DESC);

    -- group windows, snooze and silence ends: claimed with a lease by whichever process delivers
    CREATE TABLE ${t}timers (
      id TEXT PRIMARY KEY,
      workspace_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      subject TEXT NOT NULL,
      due_at TEXT NOT NULL,
      worker TEXT,
      lease_until TEXT
    );
    CREATE INDEX timers_due ON ${t}timers (due_at, id);

    CREATE TABLE ${t}silences (
      id TEXT PRIMARY KEY,
      workspace_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      starts_at TEXT NOT NULL,
      ends_at TEXT,
      expired_at TEXT,
      data {json} NOT NULL
    );
    CREATE INDEX silences_by_created ON ${t}silences (workspace_id, created_at);
  `;
}

/** The migrations for one dialect; `schema` (PostgreSQL) prefixes every table. */
export function migrationsFor(dialect: Dialect, schema?: string): Migration[] {
  const prefix = schema ? `"${schema}".` : "";
  return TEMPLATES.map(({ template, ...m }) => ({
    ...m,
    sql: (typeof template === "string" ? template : template[dialect]).replaceAll("{t}", prefix).replaceAll("{schema}", schema ?? "").replaceAll("{json}", TYPES[dialect].json).replaceAll("{serial}", TYPES[dialect].serial),
  }));
}

/**
 * The migrations still to apply, in order. Refuses a database that a newer version of the library
 * migrated: this one would misread it. `where` names the database in the message.
 */
export function pendingMigrations(dialect: Dialect, applied: ReadonlySet<number>, where: string, schema?: string): Migration[] {
  const migrations = migrationsFor(dialect, schema);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new StorageError(dialect, `${where} is at schema version ${newest}, newer than this library knows (${known}); upgrade agent-incidents`);
  }
  return migrations.filter((m) => !applied.has(m.version));
}

/** The error for a migration that failed: which one, and the database's words. */
export function migrationFailed(dialect: Dialect, migration: Migration, error: unknown): StorageError {
  return new StorageError(dialect, `migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, { cause: error });
}

/**
 * For a store told not to migrate (SQLite `readOnly` or either store's `migrate: false`): refuses a
 * database whose schema is not this library's, saying whether it has none, an older or a newer one.
 * `applied` is null when the database has no migrations table.
 */
export function requireCurrentSchema(dialect: Dialect, applied: ReadonlySet<number> | null, where: string): void {
  if (applied === null || applied.size === 0) {
    throw new StorageError(dialect, `${where} has no agent-incidents tables: it is not an agent-incidents database, or no store has created them yet (this one was told not to)`);
  }
  const pending = pendingMigrations(dialect, applied, where);
  if (pending.length > 0) {
    const known = Math.max(...migrationsFor(dialect).map((m) => m.version));
    throw new StorageError(
      dialect,
      `${where} is at schema version ${Math.max(...applied)}, older than this agent-incidents (${known}); opened without migrating, it is left as it is: a store that migrates (a runtime on this version, when it starts) upgrades it`,
    );
  }
}
