import type { Snapshot } from "./incident.js";
import { cleanValue, type RedactOptions } from "./redact.js";
import type { RunEvent, Signal } from "./signals.js";
import { jsonFits, utf8Length } from "./text.js";

/** Most bytes of JSON one snapshot may take (64 KiB). */
export const MAX_SNAPSHOT_BYTES = 64 * 1024;
/** How many of a run's last events a snapshot keeps unless `snapshotEvents` says otherwise. */
export const DEFAULT_SNAPSHOT_EVENTS = 20;
/** An event larger than this keeps only its id, type and time when the snapshot is over its cap. */
const MAX_EVENT_BYTES = 2 * 1024;

export interface SnapshotOptions {
  /** How many of the last run events to keep. */
  maxEvents?: number;
  /** `false` keeps values as they are, for a signal that is already clean (size caps still apply). */
  redact?: RedactOptions | false;
}

/**
 * The bounded, redacted context stored with a new incident: the last N run events, the action and
 * policy of the signal, and the data context. Over the 64 KiB cap, large events keep only their
 * id, type and time, then the action's payload goes, then the data context, then the oldest
 * events; `truncated` and `droppedEvents` say what was left out.
 */
export function buildSnapshot(signal: Signal, options: SnapshotOptions = {}): Snapshot {
  const maxEvents = options.maxEvents ?? DEFAULT_SNAPSHOT_EVENTS;
  const clean = <T>(value: T): T => (options.redact === false ? value : (cleanValue(value, options.redact ?? {}) as T));
  const allEvents: RunEvent[] = signal.context?.events ?? [];
  const events = clean(allEvents.slice(Math.max(0, allEvents.length - maxEvents)));
  const snapshot: Snapshot = {
    events,
    action: "action" in signal ? clean(signal.action) : null,
    policy: signal.kind === "policy_blocked" ? clean(signal.policy) : null,
    data: signal.context?.data ? clean(signal.context.data) : null,
    truncated: false,
    droppedEvents: allEvents.length - events.length,
  };
  // most snapshots are far under the cap: one measure decides, and only a large one is cut down
  if (jsonFits(snapshot, MAX_SNAPSHOT_BYTES)) return snapshot;
  // first the bulk of large events goes, keeping what happened (id, type, time) for every one
  snapshot.events = snapshot.events.map((event) => {
    const size = byteSize(event);
    if (size <= MAX_EVENT_BYTES || event.data === undefined) return event;
    snapshot.truncated = true;
    return { ...event, data: { "…truncated": `event data left out: ${size} bytes` } };
  });
  // then the action's payload (the incident's trigger keeps it anyway), then the data context
  if (!jsonFits(snapshot, MAX_SNAPSHOT_BYTES) && snapshot.action?.payload) {
    snapshot.action = { ...snapshot.action, payload: { truncated: "action payload left out: too large (the incident's trigger has it)" } };
    snapshot.truncated = true;
  }
  if (!jsonFits(snapshot, MAX_SNAPSHOT_BYTES) && snapshot.data !== null) {
    snapshot.data = { truncated: `data context left out: larger than ${MAX_SNAPSHOT_BYTES} bytes` };
    snapshot.truncated = true;
  }
  while (!jsonFits(snapshot, MAX_SNAPSHOT_BYTES) && snapshot.events.length > 0) {
    snapshot.events.shift();
    snapshot.droppedEvents += 1;
    snapshot.truncated = true;
  }
  return snapshot;
}

function byteSize(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}
