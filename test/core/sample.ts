import type { Incident } from "agent-incidents";

/** A fresh open incident for pure unit tests. */
export function sampleIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    id: "inc_01",
    number: 1,
    workspaceId: "ws_a",
    agentId: "agt_a",
    runId: "run_1",
    eventId: "evt_1",
    traceId: null,
    spanId: null,
    environment: "production",
    kind: "anomaly",
    trigger: { pattern: "spike", detail: null },
    title: "Anomaly: spike",
    summary: "Anomalous pattern spike",
    severity: "medium",
    severityReason: { rule: "anomaly", explanation: "An unusual pattern was detected." },
    severityPinned: false,
    status: "open",
    fingerprint: "agt_a:production:anomaly:spike",
    occurrences: 1,
    firstSeenAt: "2026-01-01T00:00:00.000Z",
    lastSeenAt: "2026-01-01T00:00:00.000Z",
    assignee: null,
    resolution: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    acknowledgedAt: null,
    resolvedAt: null,
    version: 1,
    tags: [],
    episodes: [{ openedAt: "2026-01-01T00:00:00.000Z", acknowledgedAt: null, resolvedAt: null }],
    ...overrides,
  };
}
