import type { Signal } from "./signals.js";
import { cleanText } from "./text.js";

/**
 * The default fingerprint of a signal: which incident it belongs to. Scoped by agent and
 * environment (the store scopes by workspace). Approvals and manual escalations get a
 * fingerprint of their own and are never merged.
 */
export function fingerprintOf(signal: Signal): string {
  return scoped(signal, defaultParts(signal));
}

/** Scopes a host-supplied fingerprint the same way the defaults are. */
export function scopeFingerprint(signal: Signal, custom: string): string {
  return scoped(signal, ["custom", custom]);
}

/** Approvals and manual escalations are never merged into an existing incident. */
export function mergesByFingerprint(signal: Signal): boolean {
  return signal.kind !== "approval_rejected" && signal.kind !== "manual";
}

function defaultParts(signal: Signal): string[] {
  switch (signal.kind) {
    case "policy_blocked":
      return [signal.kind, signal.policy.id, signal.action.type];
    case "execution_failed":
      return [signal.kind, signal.connector.id, signal.action.type, signal.error.code ?? ""];
    case "approval_rejected":
      return [signal.kind, signal.approval.id, signal.runId, signal.eventId];
    case "agent_error":
      return [signal.kind, signal.error.name];
    case "anomaly":
      return [signal.kind, signal.pattern];
    case "manual":
      return [signal.kind, signal.runId ?? "", signal.eventId ?? "", signal.title];
  }
}

function scoped(signal: Signal, parts: string[]): string {
  // cleanText first: encodeURIComponent throws on an unpaired surrogate
  return [signal.agentId ?? "", signal.environment, ...parts].map((part) => encodeURIComponent(cleanText(part))).join(":");
}
