import { createIncidents, type IncidentsOptions } from "agent-incidents";
import { fakeClock } from "agent-incidents/testing";

export const HOUR = 60 * 60 * 1000;

/** A fresh incident system on a fake clock, with the scope the API tests share. */
export function setup(options: IncidentsOptions = {}) {
  const clock = fakeClock("2026-06-01T09:00:00.000Z");
  const incidents = createIncidents({ clock, ...options });
  const report = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
  const ops = incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_acme" });
  return { clock, incidents, report, ops };
}

export const refund = { type: "refund.create", payload: { amount: 900, currency: "usd" } };
export const limitPolicy = { id: "pol_refund_limit", name: "Refund limit", effect: "block" as const, reason: "over 500" };
export const stripe = { id: "con_stripe", provider: "stripe" };
