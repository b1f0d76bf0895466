import { MAX_STRING, truncateString } from "./redact.js";
import { cleanText } from "./text.js";
import type { Signal } from "./signals.js";

const TITLE_MAX = 200;

/** A one-line title for the incident a signal creates. */
export function titleOf(signal: Signal): string {
  switch (signal.kind) {
    case "policy_blocked":
      return line(`Policy "${signal.policy.name}" blocked ${signal.action.type}`);
    case "execution_failed":
      return line(
        `${signal.connector.provider} failed to execute ${signal.action.type}: ${signal.error.code ?? signal.error.name ?? signal.error.message}`,
      );
    case "approval_rejected":
      return line(`${signal.approval.decidedBy} rejected ${signal.action.type}`);
    case "agent_error":
      return line(`Run ended in error: ${signal.error.name}: ${signal.error.message}`);
    case "anomaly":
      return line(`Anomaly: ${signal.pattern}`);
    case "manual":
      return line(signal.title);
  }
}

/** A few sentences for the incident's detail view, at most 8 KiB. */
export function summaryOf(signal: Signal): string {
  return cleanText(truncateString(summaryText(signal), MAX_STRING));
}

function summaryText(signal: Signal): string {
  const where = `agent ${signal.agentId ?? "(none)"} in ${signal.environment}${signal.runId ? `, run ${signal.runId}` : ""}`;
  switch (signal.kind) {
    case "policy_blocked":
      return `Policy ${signal.policy.name} (${signal.policy.id}) blocked ${signal.action.type} for ${where}` +
        `${signal.impact ? ` with ${signal.impact} impact` : ""}.${signal.policy.reason ? ` Reason: ${signal.policy.reason}` : ""}`;
    case "execution_failed":
      return `Connector ${signal.connector.id} (${signal.connector.provider}) failed to execute ${signal.action.type} for ${where}: ` +
        `${signal.error.message}${signal.error.retryable === undefined ? "" : signal.error.retryable ? " (retryable)" : " (not retryable)"}`;
    case "approval_rejected":
      return `Approval ${signal.approval.id} for ${signal.action.type} was rejected by ${signal.approval.decidedBy} for ${where}.` +
        `${signal.approval.reason ? ` Reason: ${signal.approval.reason}` : ""}`;
    case "agent_error":
      return `A run of ${where} ended in error: ${signal.error.name}: ${signal.error.message}`;
    case "anomaly":
      return `Anomalous pattern ${signal.pattern} for ${where}.${typeof signal.detail === "string" ? ` ${signal.detail}` : ""}`;
    case "manual":
      return signal.summary ?? signal.title;
  }
}

function line(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= TITLE_MAX) return cleanText(flat);
  // never split a surrogate pair: half an emoji is an unpaired surrogate
  const end = /[\uD800-\uDBFF]/.test(flat.charAt(TITLE_MAX - 2)) ? TITLE_MAX - 2 : TITLE_MAX - 1;
  return cleanText(`${flat.slice(0, end)}…`);
}
