/** The usage text: every command, option and exit code, as `--help` prints it. */
export const USAGE = `Usage: agent-incidents <command> [options]

Commands:
  list                      unresolved incidents, by severity then recency, 50 at a time
                            [--status S|all] [--severity S] [--kind K] [--agent ID] (commas for several)
                            [--limit N] [--cursor C]: one page (N up to 500), from a page's nextCursor
                            [--all]: every match, page after page; with --json one incident per line
                            [--members]: group members too (left out: their group stands for them)
                            a quiet incident has a badge: [silenced ID] [inhibited by #N] [snoozed until T]
                            [flapping] [grouped in #N] [held until T] (it notifies nobody, it is still listed)
  show ID                   one incident: assignee, resolution, why it is quiet, a group's members,
                            activity and snapshot
  ack ID                    acknowledge
  investigate ID            start investigating
  assign ID USER            assign (USER "-" unassigns)
  note ID TEXT              add a note
  severity ID LEVEL --reason TEXT
  resolve ID --note TEXT --root-cause X [--action X]... [--systemic]
  reopen ID [--reason TEXT]
  escalate --title TEXT --severity LEVEL [--summary TEXT] [--agent ID]
  snooze ID (--until ISO-TIME | --for 30m) --reason TEXT
                            an acknowledged or investigating incident notifies nobody until then,
                            then it is open again
  silence add --match KEY=VALUE[,VALUE]... (--ends ISO-TIME | --for 2h | --until-resolved ID)
              --comment TEXT [--starts ISO-TIME]
                            matching incidents are still created and listed, but notify nobody;
                            KEY: agent, connector, severity, kind, environment, policy, error-code,
                            fingerprint, tag (tag=provider:openai); an incident must match every
                            --match, and any one of a KEY's values
  silence list [--state active|pending|expired] [--limit N]   newest first
  silence expire ID         end a silence now: what it held back is sent
  stats [--since 30d|24h|ISO-TIME|all]   the review, by default of the last 30 days as in the console
  serve [--port N] [--host H]   the web console, on 127.0.0.1, at a secret URL it prints
  deliveries                notifications in the outbox, newest first, of every workspace (admin)
                            [--status pending|delivered|dead] [--notifier NAME] [--limit N]
  deliveries retry ID...    send pending or dead ones again from their first try (admin)
  deliveries retry --status dead|pending [--notifier NAME] [--to NEW_NAME]
                            the runtime delivering from this store sends them; --to moves
                            them to a renamed notifier

Options:
  --db FILE         a SQLite file (or AGENT_INCIDENTS_DB); it must exist
  --pg URL          a PostgreSQL connection string, with --schema S (default agent_incidents); it must exist
  --workspace ID    the workspace (or AGENT_INCIDENTS_WORKSPACE)
  --as USER         who acts (default: $USER, or "cli")
  --role ROLE       viewer, approver, operator or admin (default admin: whoever holds the database)
  --json            machine-readable JSON on stdout
  -h, --help        this text

An incident is named by its id or by its number in the workspace (42 or #42).
Times: ISO with a zone (2026-03-01T10:00Z, 2026-03-01T11:00+01:00); durations: 30m, 2h, 1h30m, 7d.
list, show, stats, silence list and deliveries only read: they change nothing, not even the file's journal.
The CLI never creates or migrates a database: a runtime on the same version does.

Exit codes:
  0  done
  1  refused or failed: nothing was changed
  2  usage error: nothing was changed
  3  the change was made, but its output could not be written: do not run it again`;
