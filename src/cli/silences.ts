/**
 * `silence add|list|expire` and `snooze`: noise control from the command line. Flags become a plan
 * before the database is opened (a mistake is a usage error, exit 2, and nothing is written); the
 * plan then runs on the operator's `ops.silences` / `ops.snooze`. The CLI schedules no timers of
 * its own: a silence's end and a snooze's end are durable timers the library writes.
 */
import { NotFoundError, type Incident, type MatcherInput, type Operator, type SilenceRecord } from "agent-incidents";
import { duration, instant, oneOf } from "./flags.js";
import { matchText, parseMatch } from "./match.js";
import { when } from "./quiet.js";
import { tag } from "./render.js";
import { cell, CliError, didYouMean, paint, plain, UsageError } from "./text.js";

const STATES = ["active", "pending", "expired"] as const;
const SUBCOMMANDS = ["add", "list", "expire"];

export interface NoiseValues {
  match?: string[] | undefined;
  starts?: string | undefined;
  ends?: string | undefined;
  for?: string | undefined;
  until?: string | undefined;
  "until-resolved"?: string | undefined;
  comment?: string | undefined;
  reason?: string | undefined;
  state?: string | undefined;
  limit?: string | undefined;
}

/** Each `silence` subcommand's own options: any other is a usage error. */
const OWN: Record<string, Array<keyof NoiseValues>> = {
  add: ["match", "starts", "ends", "for", "until-resolved", "comment"],
  list: ["state", "limit"],
  expire: [],
};

export type SilencePlan =
  /** `untilResolved`: an incident's id or number, resolved once the store is open. */
  | { action: "add"; match: MatcherInput; startsAt?: string; endsAt?: string; untilResolved?: string; comment: string }
  | { action: "list"; state?: (typeof STATES)[number]; limit?: number }
  | { action: "expire"; id: string };

/** Text that must say something once NUL characters (which the store drops) and blanks are gone. */
function said(flag: string, value: string | undefined, what: string): string {
  if (value === undefined || value.replace(/\u0000/g, "").trim() === "") throw new UsageError(`${what} needs ${flag} TEXT: say why (it is audited)`);
  if (value.length > 2000) throw new UsageError(`${flag} may be at most 2000 characters, not ${value.length}`);
  return value;
}

/** What `silence ...` asks for, or a usage error before the store is opened. */
export function planSilence(args: readonly string[], values: NoiseValues, now: number): SilencePlan {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new UsageError("silence needs a command: silence add, silence list or silence expire ID");
  if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown silence command ${JSON.stringify(sub)}${didYouMean(sub, SUBCOMMANDS)}: silence add, silence list or silence expire ID`);
  const stray = (Object.keys(OWN) as string[]).flatMap((s) => OWN[s]!).filter((k, i, all) => all.indexOf(k) === i && values[k] !== undefined && !OWN[sub]!.includes(k));
  if (stray.length > 0) throw new UsageError(`silence ${sub} does not take --${stray.join(", --")}`);
  if (sub === "expire") {
    if (rest.length !== 1) throw new UsageError(`silence expire takes one silence id (see silence list), got ${rest.length}`);
    return { action: "expire", id: rest[0]! };
  }
  if (rest.length > 0) throw new UsageError(`silence ${sub} takes no arguments, got ${rest.length}`);
  if (sub === "list") {
    if (values.limit !== undefined && !(/^\d{1,4}$/.test(values.limit) && Number(values.limit) >= 1 && Number(values.limit) <= 1000)) {
      throw new UsageError("--limit must be a whole number from 1 to 1000");
    }
    return {
      action: "list",
      ...(values.state !== undefined ? { state: oneOf("--state", values.state, STATES) } : {}),
      ...(values.limit !== undefined ? { limit: Number(values.limit) } : {}),
    };
  }
  const match = parseMatch(values.match);
  const comment = said("--comment", values.comment, "silence add");
  const ends = [values.ends !== undefined && "--ends", values.for !== undefined && "--for", values["until-resolved"] !== undefined && "--until-resolved"].filter(Boolean);
  if (ends.length !== 1) {
    throw new UsageError(ends.length === 0 ? "silence add needs an end: --ends ISO-TIME, --for 2h or --until-resolved INCIDENT" : `give one end, not ${ends.join(" and ")}`);
  }
  const startsAt = values.starts === undefined ? undefined : instant("--starts", values.starts);
  const from = startsAt === undefined ? now : Math.max(now, Date.parse(startsAt));
  const endsAt = values.ends !== undefined ? instant("--ends", values.ends) : values.for !== undefined ? new Date((startsAt === undefined ? now : Date.parse(startsAt)) + duration("--for", values.for)).toISOString() : undefined;
  if (endsAt !== undefined && Date.parse(endsAt) <= from) {
    throw new UsageError(`--ends ${values.ends ?? endsAt} is ${Date.parse(endsAt) <= now ? "in the past" : "not after --starts"}: a silence must end after it starts and after now`);
  }
  return {
    action: "add",
    match,
    ...(startsAt !== undefined ? { startsAt } : {}),
    ...(endsAt !== undefined ? { endsAt } : {}),
    ...(values["until-resolved"] !== undefined ? { untilResolved: values["until-resolved"] } : {}),
    comment,
  };
}

export interface SnoozePlan {
  until: string;
  reason: string;
}

/** What `snooze ID` asks for: until when, and why. */
export function planSnooze(values: NoiseValues, now: number): SnoozePlan {
  if ((values.until === undefined) === (values.for === undefined)) throw new UsageError("snooze needs --until ISO-TIME or --for 30m (one of them)");
  const until = values.until !== undefined ? instant("--until", values.until) : new Date(now + duration("--for", values.for!)).toISOString();
  if (Date.parse(until) <= now) throw new UsageError(`--until ${values.until} is in the past: a snooze must end after now`);
  return { until, reason: said("--reason", values.reason, "snooze") };
}

/** What a command prints (see commands.ts). */
interface Printed {
  json: unknown;
  text: (color: boolean) => string;
}

export async function runSilence(plan: SilencePlan, ops: Operator, resolveId: (name: string) => Promise<string>): Promise<Printed> {
  const now = Date.now();
  if (plan.action === "list") {
    const records = await ops.silences.list({ ...(plan.state ? { state: plan.state } : {}), ...(plan.limit ? { limit: plan.limit } : {}) });
    const numbers = await incidentNumbers(ops, records);
    const none = plan.state ? `no ${plan.state} silences` : "no silences";
    return { json: records, text: (color) => (records.length === 0 ? none : records.map((r) => silenceLine(r, now, numbers, color)).join("\n")) };
  }
  if (plan.action === "expire") {
    const record = await ops.silences.expire(plan.id).catch((error: unknown) => {
      throw error instanceof NotFoundError ? new CliError(`no silence ${plain(plan.id)} in workspace ${plain(ops.actor.workspaceId)} (see silence list)`) : error;
    });
    const numbers = await incidentNumbers(ops, [record]);
    // expired before this command ran (by someone, or at its end): nothing changed
    const endedAt = record.expiredAt ?? record.endsAt;
    const ended = endedAt !== null && Date.parse(endedAt) < now ? `already ended at ${when(endedAt, now)}: nothing changed\n` : "";
    return { json: record, text: (color) => `${ended}${silenceLine(record, now, numbers, color)}` };
  }
  const { action: _, untilResolved, ...input } = plan;
  const record = await ops.silences.create({ ...input, ...(untilResolved !== undefined ? { untilResolved: await resolveId(untilResolved) } : {}) });
  const numbers = await incidentNumbers(ops, [record]);
  return { json: record, text: (color) => silenceLine(record, now, numbers, color) };
}

export async function runSnooze(plan: SnoozePlan, ops: Operator, id: string): Promise<{ json: Incident; text: (color: boolean) => string }> {
  const incident = await ops.snooze(id, plan);
  const now = Date.now();
  return {
    json: incident,
    text: (color) => `${tag(incident, color)} is snoozed until ${when(plan.until, now)} (${incident.status}, version ${incident.version}): it notifies nobody until then, then it is open again`,
  };
}

/** The incident numbers of `untilResolved` silences, looked up once each. */
async function incidentNumbers(ops: Operator, records: readonly SilenceRecord[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(records.map((r) => r.untilResolved).filter((i): i is string => i !== null))) {
    out.set(id, await ops.get(id).then((i) => `#${i.number}`, () => plain(id)));
  }
  return out;
}

/** `until 10:30 UTC: "provider maintenance" (usr_ana)`: a silence for the detail's quiet line; "" when it cannot be read (a viewer may not). */
export async function silenceSummary(ops: Operator, id: string): Promise<string> {
  const found = await ops.silences.list({ limit: 1000 }).then((all) => all.find((s) => s.id === id), () => undefined);
  if (!found) return "";
  const numbers = await incidentNumbers(ops, [found]);
  const end = found.endsAt !== null ? `until ${when(found.endsAt, Date.now())}` : `until ${numbers.get(found.untilResolved ?? "") ?? plain(found.untilResolved)} resolves`;
  return `${end}: ${JSON.stringify(cell(found.comment, 120).trimEnd())} (${plain(found.createdBy.id)})`;
}

const STATE_STYLE = { active: "green", pending: "yellow", expired: "gray" } as const;

/** One silence on one line: id, state, what it matches, until when, why, and who. */
export function silenceLine(s: SilenceRecord, now: number, numbers: ReadonlyMap<string, string>, color: boolean): string {
  const state = paint(color, STATE_STYLE[s.state] ?? "reset", s.state.padEnd(7));
  let span: string;
  if (s.state === "expired") {
    const endedAt = s.expiredAt ?? s.endsAt;
    span = `ended ${endedAt ? when(endedAt, now) : "when its incident resolved"}${s.expiredBy ? ` (expired by ${plain(s.expiredBy.id)})` : ""}`;
  } else {
    const end = s.endsAt !== null ? `until ${when(s.endsAt, now)}` : `until ${numbers.get(s.untilResolved ?? "") ?? plain(s.untilResolved)} resolves`;
    span = s.state === "pending" ? `from ${when(s.startsAt, now)} ${end}` : end;
  }
  return `${plain(s.id)}  ${state}  ${matchText(s.match)}  ${span}  ${JSON.stringify(cell(s.comment, 120).trimEnd())}  by ${plain(s.createdBy.id)}`;
}
