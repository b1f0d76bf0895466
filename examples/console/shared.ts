/** What the three console examples share: incidents with something in them, and a sign-in. */
import { createIncidents, memoryStore, type Actor } from "agent-incidents";

export async function exampleIncidents() {
  const incidents = createIncidents({ store: memoryStore() });
  const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
  await report.policyBlocked({
    runId: "run_1",
    eventId: "evt_1",
    action: { type: "refund.create", payload: { amount: 1800 } },
    policy: { id: "pol_limit", name: "Refund limit", effect: "block", reason: "above $1000" },
    impact: "high",
  });
  return incidents;
}

/**
 * Your own sign-in goes here: read your session cookie or token and return the actor, or null.
 * This example trusts a header, which is only good enough on your own machine.
 */
export function authenticate(request: Request): Actor | null {
  const user = request.headers.get("x-demo-user") ?? "usr_ana";
  return { id: user, role: "operator", workspaceId: "ws_acme", name: "Ana" };
}
