import { describe, expect, it } from "vitest";
import { createIncidents, defaultSeverityRules, type SeverityRule } from "agent-incidents";
import { storeTargets } from "../hardening/stores.js";

const scope = { workspaceId: "ws_c", environment: "production" as const };
const failure = (agent: string, n: number) => ({
  runId: `run_${agent}_${n}`,
  eventId: `evt_${n}`,
  action: { type: "llm.complete" },
  connector: { id: "con_openai", provider: "openai" },
  error: { name: "ProviderError", message: "429", code: "rate_limited" },
});

for (const target of storeTargets("coalesce")) {
  describe(`concurrent recurrences of one incident on ${target.name}`, () => {
    it("share transactions yet record every occurrence once, and each report resolves with its own outcome", async () => {
      const store = target.make();
      const batches: number[] = [];
      const many = store.ingestMany?.bind(store);
      if (many) (store as { ingestMany: typeof many }).ingestMany = (requests) => (batches.push(requests.length), many(requests));
      const incidents = createIncidents({ store });
      try {
        const report = incidents.reporter({ ...scope, agentId: "agt_1" });
        // 200 reports, 32 in flight at a time, each sent twice (a retried hook): 200 occurrences
        const outcomes: string[] = [];
        for (let start = 0; start < 200; start += 32) {
          const wave = Array.from({ length: Math.min(32, 200 - start) }, (_, i) => start + i);
          const results = await Promise.all(wave.flatMap((n) => [report.executionFailed(failure("agt_1", n)), report.executionFailed(failure("agt_1", n))]));
          outcomes.push(...results.map((r) => r.outcome));
        }
        const { items } = await incidents.as({ id: "usr", role: "viewer", workspaceId: "ws_c" }).list();
        expect(items).toHaveLength(1);
        expect(items[0]!.occurrences).toBe(200);
        expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
        expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(200);
        expect(outcomes.filter((o) => o === "recurred")).toHaveLength(199);
        const detail = await incidents.as({ id: "usr", role: "viewer", workspaceId: "ws_c" }).get(items[0]!.id);
        expect(new Set(detail.occurrenceLog.map((o) => o.runId)).size).toBe(200);
        // a store that takes batches got the waves' reports together, not one by one
        if (many) expect(Math.max(...batches)).toBeGreaterThan(1);
      } finally {
        await incidents.close();
      }
    });

    it("a report whose severity rule throws fails alone; the others in its batch are written", async () => {
      const picky: SeverityRule = {
        name: "picky",
        explanation: "throws for run 7",
        match: (signal) => {
          if ("runId" in signal && signal.runId === "run_agt_1_7") throw new Error("rule broke");
          return null;
        },
      };
      const incidents = createIncidents({ store: target.make(), severityRules: [picky, ...defaultSeverityRules], spool: false });
      try {
        const report = incidents.reporter({ ...scope, agentId: "agt_1" });
        await report.executionFailed(failure("agt_1", 0));
        const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => report.executionFailed(failure("agt_1", i + 1))));
        const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i + 1] : []));
        expect(failed).toEqual([7]);
        expect((results[6] as PromiseRejectedResult).reason).toMatchObject({ code: "CALLBACK" });
        const { items } = await incidents.as({ id: "usr", role: "viewer", workspaceId: "ws_c" }).list();
        expect(items[0]!.occurrences).toBe(16);
      } finally {
        await incidents.close();
      }
    });
  });
}
