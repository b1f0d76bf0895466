import type { Incident } from "agent-incidents";
import type { Notification, NotificationType } from "agent-incidents/notifiers";

/** Text an agent controls, at its worst. */
export const HOSTILE = {
  mention: "<!channel>",
  link: "<https://evil.example|click here>",
  entities: "&lt;b&gt; & <@U123>",
  loneSurrogates: "high \uD800 low \uDC00 end",
  nul: "nul\u0000here",
  controls: "red \u001b[31mALERT\u001b[0m\r\nlevel=error forged line\u0085c1 \u202Eevil\u202C \u2066iso\u2069 \u0007bell",
  huge: "<".repeat(200_000) + "x".repeat(800_000),
} as const;

/** A whole incident as the library would hand it over, with `overrides` on top. */
export function incident(overrides: Partial<Incident> = {}): Incident {
  const at = "2026-01-02T03:04:05.678Z";
  return {
    id: "inc_01HOSTILE",
    number: 7,
    workspaceId: "ws_hostile",
    agentId: "agt_refunds",
    runId: "run_1",
    eventId: "evt_1",
    traceId: null,
    spanId: null,
    environment: "production",
    kind: "execution_failed",
    trigger: {},
    title: "Refund failed",
    summary: "The refund connector failed.",
    severity: "critical",
    severityReason: { rule: "connector", explanation: "A connector failed while acting" },
    severityPinned: false,
    status: "open",
    fingerprint: "fp",
    occurrences: 1,
    firstSeenAt: at,
    lastSeenAt: at,
    assignee: null,
    resolution: null,
    createdAt: at,
    updatedAt: at,
    acknowledgedAt: null,
    resolvedAt: null,
    version: 1,
    tags: [],
    episodes: [{ openedAt: at, acknowledgedAt: null, resolvedAt: null }],
    groupId: null,
    groupKey: null,
    group: null,
    noise: { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] },
    ...overrides,
  };
}

/** A notification of one change of `subject`. */
export function notification(subject: Incident, type: NotificationType = "incident.created"): Notification {
  return { id: "ntf_1", type, timestamp: subject.updatedAt, data: { incident: subject } };
}

/** A digest of `subjects`. */
export function digest(subjects: Incident[]): Notification {
  return { id: "ntf_digest", type: "incident.digest", timestamp: "2026-01-02T03:04:05.678Z", data: { incidents: subjects } };
}

/** What `send` is given for one attempt. */
export function attempt(signal: AbortSignal = new AbortController().signal) {
  return { attempt: 1, signal };
}

const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every string anywhere in `value`. */
export function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

/** Whether `text` has a lone surrogate. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE.test(text);
}
