/**
 * The console's side of noise control, on the public operator API only: silences (list, create,
 * expire), the snooze action's input, and what the list and the detail send beside incidents so a
 * badge can name things (a group's number, a silence's comment, the incident a silence waits for).
 * A duration from the page becomes a time here, on the server's clock, not the browser's.
 */
import { z } from "zod";
import { IncidentError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import { IdSchema, parseOrThrow } from "../core/schemas.js";
import type { SilenceRecord } from "../noise/operator.js";
import type { ListedIncident, Operator } from "../operator.js";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Incidents one answer looks up by id at most (groups of the listed members, incidents silences wait for). */
const MAX_LOOKUPS = 50;

/** Text an operator typed: no NUL or other control characters (newlines and tabs are fine). */
const Typed = z.string().refine((v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v), "must not contain NUL or other control characters");
const ExpectedVersion = z.number().int().positive().optional();

/** The detail's Snooze: for how long (a minute to a week), and why. */
export const SnoozeActionSchema = z
  .object({ action: z.literal("snooze"), forMs: z.number().int().min(MINUTE).max(7 * DAY), reason: Typed, expectedVersion: ExpectedVersion })
  .strict();

/** Until when a snooze of `forMs` lasts. */
export const untilAfter = (forMs: number) => new Date(Date.now() + forMs).toISOString();

const SilenceBodySchema = z
  .object({
    // passed on as sent: the library's matcher schema checks every field (and keeps a `__proto__` tag)
    match: z
      .custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "must be an object of fields to match" })
      .refine((m) => Object.keys(m).length > 0, "must name at least one field: a silence of everything would quiet every incident"),
    forMs: z.number().int().min(MINUTE).max(90 * DAY).optional(),
    untilResolved: IdSchema.optional(),
    comment: Typed,
  })
  .strict()
  .refine((b) => (b.forMs === undefined) !== (b.untilResolved === undefined), { message: "give either forMs (how long) or untilResolved (an incident id)", path: ["forMs"] });

const SilencesQuerySchema = z.object({ state: z.enum(["pending", "active", "expired"]).optional() }).strict();
const ExpireBodySchema = z.object({}).strict();

/** An incident as a badge or a silence names it. */
export interface IncidentRef {
  id: string;
  number: number;
  title: string;
  status: Incident["status"];
}
/** A silence as a badge names it. */
export type SilenceRef = Pick<SilenceRecord, "id" | "comment" | "endsAt" | "untilResolved" | "state">;
/** What a page of incidents refers to: the groups of its members, the silences that quiet it. */
export interface Refs {
  groups: IncidentRef[];
  silences: SilenceRef[];
}

export async function listSilences(ops: Operator, params: URLSearchParams): Promise<{ items: SilenceRecord[]; incidents: IncidentRef[] }> {
  const query = parseOrThrow(SilencesQuerySchema, Object.fromEntries([...params].filter(([, v]) => v !== "")), "silences query");
  const items = await ops.silences.list({ ...query, limit: 500 });
  return { items, incidents: await lookup(ops, items.map((s) => s.untilResolved)) };
}

export async function createSilence(ops: Operator, input: unknown): Promise<SilenceRecord> {
  const b = parseOrThrow(SilenceBodySchema, input, "silence");
  const end = b.forMs === undefined ? { untilResolved: b.untilResolved! } : { endsAt: new Date(Date.now() + b.forMs).toISOString() };
  return ops.silences.create({ match: b.match as never, comment: b.comment, ...end });
}

export async function expireSilence(ops: Operator, id: string, input: unknown): Promise<SilenceRecord> {
  parseOrThrow(ExpireBodySchema, input, "expire");
  return ops.silences.expire(id);
}

/** The groups and silences a page of incidents names in its badges. */
export async function refsOf(ops: Operator, items: readonly (Incident & { quiet?: ListedIncident["quiet"] })[]): Promise<Refs> {
  const shown = new Map(items.map((i) => [i.id, i]));
  const groupIds = items.flatMap((i) => (i.quiet?.kind === "grouped" ? [i.quiet.groupId] : i.groupId ? [i.groupId] : []));
  const silenceIds = new Set(items.flatMap((i) => (i.quiet?.kind === "silenced" ? [i.quiet.silenceId] : [])));
  const [looked, silences] = await Promise.all([
    lookup(ops, groupIds.filter((id) => !shown.has(id))),
    // a role without "silence" may not read silences: its badge names the silence by id only
    silenceIds.size > 0 && ops.can("silence") ? ops.silences.list({ limit: 1000 }) : Promise.resolve([]),
  ]);
  const groups = [...new Set(groupIds)].flatMap((id) => {
    const i = shown.get(id);
    return i ? [ref(i)] : looked.filter((g) => g.id === id);
  });
  return {
    groups,
    silences: silences.filter((s) => silenceIds.has(s.id)).map(({ id, comment, endsAt, untilResolved, state }) => ({ id, comment, endsAt, untilResolved, state })),
  };
}

/** A group's members for its detail: the newest 100, and whether there are more. */
export async function membersOf(ops: Operator, group: Incident): Promise<{ items: ListedIncident[]; more: boolean } | null> {
  if (group.kind !== "group") return null;
  const page = await ops.list({ group: group.id, sort: "recency", limit: 100 });
  return { items: page.items, more: page.nextCursor !== null };
}

const ref = (i: Incident): IncidentRef => ({ id: i.id, number: i.number, title: i.title, status: i.status });

/** Incidents by id, for naming them; one that is gone (or not the actor's) is left out. */
async function lookup(ops: Operator, ids: readonly (string | null)[]): Promise<IncidentRef[]> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))].slice(0, MAX_LOOKUPS);
  const found = await Promise.all(
    wanted.map((id) =>
      ops.get(id).then(ref, (error: unknown) => {
        if (error instanceof IncidentError && error.code === "NOT_FOUND") return null;
        throw error;
      }),
    ),
  );
  return found.filter((r): r is IncidentRef => r !== null);
}
