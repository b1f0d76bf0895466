import type { Incident } from "../core/incident.js";
import { deepFreeze } from "../core/plain.js";
import { createIncidents } from "../incidents.js";
import type { Notification, Notifier } from "../notifiers/contract.js";
import { vitest } from "./vitest.js";

/** What a notifier's test gives the suite: the notifier, and what its receiver saw. */
export interface NotifierHarness {
  notifier: Notifier;
  /** The delivery ids (`notification.id`) the receiver has seen so far, if the suite can observe them. */
  received?: () => readonly string[] | Promise<readonly string[]>;
  /** Makes the receiver fail the next requests (e.g. answer 503), if the suite can arrange that. */
  failing?: (on: boolean) => void | Promise<void>;
  /** Releases what the harness holds (a server). */
  close?: () => void | Promise<void>;
}

/** Switches for {@link describeNotifierConformance}. */
export interface NotifierConformanceOptions {
  /** Per-test timeout in ms (default 10 000). */
  timeoutMs?: number;
}

/**
 * The notifier conformance suite, for vitest: checks what every route relies on. Call it at the
 * top level of a test file with a factory for a fresh harness per test.
 *
 * @example
 * ```ts
 * import { describeNotifierConformance } from "agent-incidents/testing";
 * describeNotifierConformance("teams", async () => {
 *   const server = await startFakeTeams();
 *   return { notifier: teamsNotifier({ url: server.url }), received: () => server.ids, close: () => server.close() };
 * });
 * ```
 */
export function describeNotifierConformance(
  name: string,
  factory: () => NotifierHarness | Promise<NotifierHarness>,
  options: NotifierConformanceOptions = {},
): void {
  const { afterEach, beforeEach, describe, expect, it } = vitest("describeNotifierConformance");
  const timeout = options.timeoutMs ?? 10_000;

  describe(`Notifier conformance: ${name}`, { timeout }, () => {
    let harness: NotifierHarness;
    beforeEach(async () => {
      harness = await factory();
    });
    afterEach(async () => {
      await harness.close?.();
    });

    const signal = () => new AbortController().signal;
    const sample = (id: string, type: Notification["type"] = "incident.created"): Notification => ({
      id,
      type,
      timestamp: "2026-01-01T00:00:00.000Z",
      data: { incident: sampleIncident() },
    });
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + timeout / 2;
      while (!(await check())) {
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 10));
      }
      return true;
    };

    it("has a name of 1 to 200 characters that names the same target the same way", async () => {
      expect(typeof harness.notifier.name).toBe("string");
      expect(harness.notifier.name.length).toBeGreaterThan(0);
      expect(harness.notifier.name.length).toBeLessThanOrEqual(200);
      const again = await factory();
      expect(again.notifier.name).toBe(harness.notifier.name);
      await again.close?.();
    });

    it("delivers a notification, and a digest, without changing what it was given", async () => {
      const one = deepFreeze(sample("dlv_conformance_1"));
      const digest = deepFreeze<Notification>({ id: "dlv_conformance_2_digest", type: "incident.digest", timestamp: one.timestamp, data: { incidents: [sampleIncident(), sampleIncident(2)] } });
      await harness.notifier.send([one], { attempt: 1, signal: signal() });
      await harness.notifier.send([digest], { attempt: 1, signal: signal() });
      if (harness.received) {
        expect(await until(async () => (await harness.received!()).includes("dlv_conformance_1"))).toBe(true);
      }
    });

    it("settles promptly once its signal is aborted", async () => {
      const controller = new AbortController();
      controller.abort(new Error("timeout"));
      const settled = await Promise.race([
        harness.notifier.send([sample("dlv_conformance_3")], { attempt: 1, signal: controller.signal }).then(() => "settled", () => "settled"),
        new Promise((r) => setTimeout(() => r("hung"), timeout / 2)),
      ]);
      expect(settled).toBe("settled");
    });

    it("rejects with an Error when its receiver fails, so the delivery is retried", async ({ skip }) => {
      if (!harness.failing) return skip();
      await harness.failing(true);
      const error = await harness.notifier.send([sample("dlv_conformance_4")], { attempt: 1, signal: signal() }).then(() => null, (e: unknown) => e);
      await harness.failing(false);
      expect(error).toBeInstanceOf(Error);
      expect((error as { retryable?: unknown }).retryable).not.toBe(false);
    });

    it("works as a route of createIncidents", async () => {
      const incidents = createIncidents({ routes: [{ notifier: harness.notifier }] });
      const failed: unknown[] = [];
      incidents.on("notification.failed", (e) => void failed.push(e.data.error));
      await incidents.reporter({ workspaceId: "ws_conformance", agentId: "agt", environment: "test" }).anomaly({ runId: "r", eventId: "e", pattern: "conformance" });
      await incidents.close();
      expect(failed).toEqual([]);
      if (harness.received) expect((await harness.received()).some((id) => id.startsWith("dlv_") && !id.startsWith("dlv_conformance"))).toBe(true);
    });
  });
}

function sampleIncident(number = 1): Incident {
  const at = "2026-01-01T00:00:00.000Z";
  return {
    id: `inc_conformance_${number}`,
    number,
    workspaceId: "ws_conformance",
    agentId: "agt_conformance",
    runId: "run_1",
    eventId: "evt_1",
    traceId: null,
    spanId: null,
    environment: "test",
    kind: "anomaly",
    trigger: { pattern: "conformance", detail: null },
    title: "Anomaly: conformance",
    summary: "A notifier conformance check.",
    severity: "high",
    severityReason: { rule: "anomaly", explanation: "An unusual pattern was detected." },
    severityPinned: false,
    status: "open",
    fingerprint: "agt_conformance:test:anomaly:conformance",
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
  };
}
