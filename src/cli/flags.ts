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
  members?: boolean | undefined;
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
      ...(values.members ? { members: true } : {}),
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

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
/** The longest `--for`: past it, a typo (`--for 30d` meant as minutes) would quiet things for years. */
const MAX_FOR_MS = 366 * 86_400_000;

/** `--for 2h`, `30m`, `1h30m`, `7d`: milliseconds, or a usage error. */
export function duration(flag: string, value: string): number {
  const parts = /^(?:\d{1,6}[wdhms])+$/.test(value) ? [...value.matchAll(/(\d+)([wdhms])/g)] : [];
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS], 0);
  if (parts.length === 0) throw new UsageError(`${flag} must be a duration like 30m, 2h, 1h30m or 7d, not ${shortValue(value)}`);
  if (ms < 1000) throw new UsageError(`${flag} must be at least 1s`);
  if (ms > MAX_FOR_MS) throw new UsageError(`${flag} may be at most 366 days, not ${shortValue(value)}`);
  return ms;
}

/**
 * An ISO time with its time zone (`2026-03-01T10:00Z`, `...+01:00`) as the library stores it (UTC);
 * a time without a zone is refused rather than read in whichever zone this machine is in.
 */
export function instant(flag: string, value: string): string {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.exec(value);
  const ms = iso ? Date.parse(value) : NaN;
  // Date.parse rolls 2026-02-30 over to March: the time must read back as typed, in its own zone
  const offset = iso?.[3]?.toUpperCase() === "Z" ? "+00:00" : (iso?.[3] ?? "+00:00");
  const zone = (offset.startsWith("-") ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  if (Number.isNaN(ms) || new Date(ms + zone * 60_000).toISOString().slice(0, 16) !== value.slice(0, 16).toUpperCase()) {
    const zoneless = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(value);
    throw new UsageError(`${flag} must be an ISO time with its zone, like 2026-03-01T10:00Z or 2026-03-01T11:00+01:00, not ${shortValue(value)}${zoneless ? " (which zone?)" : ""}`);
  }
  return new Date(ms).toISOString();
}

/** What was typed, quoted and cut: a huge value is not printed back whole. */
export const shortValue = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
