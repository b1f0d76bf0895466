/**
 * Flag values checked before the database is opened: a mistyped value is a usage error (exit 2)
 * that names what was meant, never a guess.
 */
import { KINDS, ResolutionActionSchema, RootCauseSchema, SEVERITIES, STATUSES, type ListQueryInput, type ResolveInput } from "agent-incidents";
import { didYouMean, UsageError } from "./text.js";

const ROOT_CAUSES = RootCauseSchema.options;
const ACTIONS = ResolutionActionSchema.options;
/** What `list` shows without `--status`: what still needs someone. */
const UNRESOLVED = ["open", "acknowledged", "investigating"] as const;

/** `value`, one of `allowed`, or a usage error naming the closest. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, not "${value}"${didYouMean(value, allowed)}`);
}

/** A comma-separated list of values, each one of `allowed`. */
export function manyOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const values = value.split(",").map((v) => v.trim()).filter(Boolean);
  if (values.length === 0) throw new UsageError(`${flag} needs a value: one of ${allowed.join(", ")} (several with commas)`);
  return values.map((v) => oneOf(flag, v, allowed));
}

export interface ListValues {
  status?: string | undefined;
  severity?: string | undefined;
  kind?: string | undefined;
  agent?: string | undefined;
  limit?: string | undefined;
  cursor?: string | undefined;
  all?: boolean | undefined;
}

/** The query `list` runs, and whether it pages through every match (`--all`). */
export function listQuery(values: ListValues): { query: ListQueryInput; all: boolean } {
  if (values.all && values.limit !== undefined) throw new UsageError("--all lists every match, page after page: leave out --limit");
  if (values.limit !== undefined && !(/^\d{1,3}$/.test(values.limit) && Number(values.limit) >= 1 && Number(values.limit) <= 500)) {
    throw new UsageError("--limit must be a whole number from 1 to 500 (--all for every match)");
  }
  const status = values.status === undefined ? [...UNRESOLVED] : values.status === "all" ? [...STATUSES] : manyOf("--status", values.status, [...STATUSES, "all"]);
  if (status.includes("all")) throw new UsageError('--status all stands alone: it means every status');
  return {
    all: values.all === true,
    query: {
      status: status as ListQueryInput["status"],
      ...(values.severity !== undefined ? { severity: manyOf("--severity", values.severity, SEVERITIES) } : {}),
      ...(values.kind !== undefined ? { kind: manyOf("--kind", values.kind, KINDS) } : {}),
      ...(values.agent !== undefined ? { agentId: values.agent.split(",").filter(Boolean) } : {}),
      ...(values.limit !== undefined ? { limit: Number(values.limit) } : values.all ? { limit: 500 } : {}),
      ...(values.cursor !== undefined ? { cursor: values.cursor } : {}),
    },
  };
}

export interface ResolveValues {
  note?: string | undefined;
  "root-cause"?: string | undefined;
  action?: string[] | undefined;
  systemic?: boolean | undefined;
}

/** A resolution as typed: the root cause is never guessed. */
export function resolution(values: ResolveValues): ResolveInput {
  if (values.note === undefined) throw new UsageError("resolve needs --note TEXT");
  const rootCause = values["root-cause"];
  if (rootCause === undefined) throw new UsageError(`resolve needs --root-cause, one of ${ROOT_CAUSES.join(", ")} (it is not guessed)`);
  return {
    note: values.note,
    rootCause: oneOf("--root-cause", rootCause, ROOT_CAUSES),
    actions: (values.action ?? []).map((a) => oneOf("--action", a, ACTIONS)),
    systemic: values.systemic ?? false,
  };
}

/** `stats --since`: the console's default period (the last 30 days) unless told; `all` for all time. */
export function statsPeriod(since: string | undefined, now: number): { since: string | null; label: string } {
  const value = since ?? "30d";
  if (value === "all") return { since: null, label: "of all time" };
  const relative = /^(\d{1,5})([dh])$/.exec(value);
  if (relative) {
    const amount = Number(relative[1]);
    const iso = new Date(now - amount * (relative[2] === "d" ? 86_400_000 : 3_600_000)).toISOString();
    return { since: iso, label: `in the last ${amount} ${relative[2] === "d" ? "day" : "hour"}${amount === 1 ? "" : "s"} (since ${iso})` };
  }
  if (Number.isNaN(Date.parse(value))) throw new UsageError(`--since must be 7d, 24h, all or an ISO time, not "${value}"`);
  return { since: value, label: `since ${value}` };
}
