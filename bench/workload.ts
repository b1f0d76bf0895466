/** The reports every section sends: one shape, varied enough to spread over severities and agents. */
import type { Incidents, PolicyBlockedInput, Reporter } from "agent-incidents";

export const WORKSPACE = "ws_bench";
export const AGENTS = ["agt_refunds", "agt_billing", "agt_support", "agt_crm", "agt_search", "agt_mail", "agt_ops", "agt_docs"];
const IMPACTS = ["low", "medium", "high", "critical"] as const;

/** A policy block with context: a distinct fingerprint per `policy` (by default `i`: a new incident each). */
export function signal(i: number, run: string, policy = i): PolicyBlockedInput {
  return {
    runId: run,
    eventId: `evt_${i}`,
    action: { type: "refund.create", payload: { amount: 100 + (i % 900), customer: `cus_${i % 5000}`, note: "customer asked twice" } },
    policy: { id: `pol_${policy}`, name: `Refund limit ${policy}`, effect: "block", reason: "amount above the agent's limit" },
    impact: IMPACTS[i % 4],
    context: {
      events: [
        { id: `re_${i}_1`, type: "message.user", at: "2026-11-29T10:00:00.000Z", data: { text: `please refund order ${i}` } },
        { id: `re_${i}_2`, type: "tool.call", at: "2026-11-29T10:00:01.000Z", data: { name: "refund.create", args: { order: i } } },
      ],
      data: { customerTier: "gold" },
    },
  };
}

export function reporters(incidents: Incidents): Reporter[] {
  return AGENTS.map((agentId) => incidents.reporter({ workspaceId: WORKSPACE, agentId, environment: "production" }));
}

/** Fills a store with `n` new incidents (every tenth report a recurrence), `inFlight` at a time. */
export async function fill(incidents: Incidents, n: number, inFlight: number, progress?: (done: number) => void, start = 0): Promise<void> {
  const rs = reporters(incidents);
  let next = start;
  n += start;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        // every tenth report recurs into the incident its agent opened eight reports earlier
        await rs[i % rs.length]!.policyBlocked(signal(i, `run_fill_${Math.floor(i / 100)}`, i % 10 === 9 ? i - rs.length : i));
        if (progress && i % 50_000 === 0) progress(i);
      }
    }),
  );
}
