/**
 * Noise control as the CLI shows it: why an incident notifies nobody (`[silenced sil_…]`,
 * `[grouped in #7]`), what a group incident stands for, and times as an operator reads them.
 * A member's badge names its group by number, which the list does not carry: `groupNumbers` looks
 * each group up once.
 */
import type { Incident, Operator, QuietReason } from "agent-incidents";
import { plain } from "./text.js";

/** An ISO time, to the minute (seconds when it has them), in UTC: `10:30 UTC` today, else with its date. */
export function when(iso: string, now: number): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return plain(iso);
  const text = at.toISOString();
  const time = text.slice(11, text.slice(17, 23) === "00.000" ? 16 : 19);
  return text.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? `${time} UTC` : `${text.slice(0, 10)} ${time} UTC`;
}

/** The number of each group the incidents belong to, looked up once each (by id when it cannot be read). */
export async function groupNumbers(ops: Operator, incidents: readonly Incident[], known = new Map<string, string>()): Promise<Map<string, string>> {
  for (const groupId of new Set(incidents.map((i) => i.groupId).filter((g): g is string => g !== null))) {
    if (known.has(groupId)) continue;
    known.set(groupId, await ops.get(groupId).then((g) => `#${g.number}`, () => plain(groupId)));
  }
  return known;
}

/** `[silenced sil_…]`, `[inhibited by #12]`, `[snoozed until 10:30 UTC]`: why it is quiet, or "". */
export function badge(quiet: QuietReason | null | undefined, now: number, groups: ReadonlyMap<string, string>): string {
  if (!quiet) return "";
  switch (quiet.kind) {
    case "grouped":
      return `[grouped in ${groups.get(quiet.groupId) ?? plain(quiet.groupId)}]`;
    case "held":
      return `[held until ${when(quiet.until, now)}]`;
    case "snoozed":
      return `[snoozed until ${when(quiet.until, now)}]`;
    case "flapping":
      return "[flapping]";
    case "silenced":
      return `[silenced ${plain(quiet.silenceId)}]`;
    case "inhibited":
      return `[inhibited by #${quiet.by.number}]`;
  }
  return "";
}

/** The detail's line about the quiet: what holds its notifications back, and until when. */
export function quietText(incident: Incident, quiet: QuietReason | null | undefined, now: number, groups: ReadonlyMap<string, string>, silence = ""): string {
  if (!quiet) return "notifies as usual";
  switch (quiet.kind) {
    case "grouped":
      return `grouped in ${groups.get(quiet.groupId) ?? plain(quiet.groupId)}: the group notifies for it`;
    case "held":
      return `held until ${when(quiet.until, now)}, while its group window is open`;
    case "snoozed":
      return `snoozed until ${when(quiet.until, now)}${incident.noise.snoozeReason ? `: ${plain(incident.noise.snoozeReason)}` : ""}; then it is open again`;
    case "flapping":
      return "flapping: it resolves and comes back too often to page each time";
    case "silenced":
      return `silenced by ${plain(quiet.silenceId)}${silence ? ` ${silence}` : " (agent-incidents silence list)"}`;
    case "inhibited":
      return `inhibited by #${quiet.by.number}, an open incident that explains it`;
  }
  return "notifies as usual";
}

/** `con_openai rate_limited · 37 members · agents agt_1, agt_2, …`: what a group incident stands for. */
export function groupText(incident: Incident, shown = 5): string {
  const group = incident.group;
  if (!group) return "";
  const what = plain(Object.values(group.key).join(" ")) || plain(group.rule);
  const members = `${incident.occurrences} member${incident.occurrences === 1 ? "" : "s"}`;
  const agents = group.agents.map((a) => plain(a));
  const listed = agents.length === 0 ? "" : ` · agent${agents.length === 1 ? "" : "s"} ${agents.slice(0, shown).join(", ")}${agents.length > shown ? `, … (${agents.length}${agents.length >= 100 ? "+" : ""} in all)` : ""}`;
  return `${what} · ${members}${listed}`;
}
