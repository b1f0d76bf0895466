import { z } from "zod";
import { ValidationError } from "./errors.js";
import type { Counts, Incident } from "./incident.js";
import {
  IdSchema,
  KINDS,
  KindSchema,
  SEVERITIES,
  SeveritySchema,
  STATUSES,
  StatusSchema,
  TimestampSchema,
  severityRank,
  type Kind,
  type Severity,
  type Status,
} from "./schemas.js";

/** Most values one filter may list. */
export const MAX_FILTER_VALUES = 100;

const oneOrMany = <T extends z.ZodType>(schema: T, what: string) =>
  z
    .union(
      [
        schema,
        z
          .array(schema)
          .min(1, "must list at least one value")
          .max(MAX_FILTER_VALUES, `must list at most ${MAX_FILTER_VALUES} values`),
      ],
      {
        // a union's own message says only "Invalid input": name the likely mistake instead
        error: (issue) => {
          if (Array.isArray(issue.input) && issue.input.length === 0) return "must list at least one value";
          if (Array.isArray(issue.input) && issue.input.length > MAX_FILTER_VALUES) return `must list at most ${MAX_FILTER_VALUES} values`;
          return `must be ${what}, or a list of them`;
        },
      },
    )
    // each value once: a repeated value must not repeat results
    .transform((v) => [...new Set(Array.isArray(v) ? v : [v])] as z.infer<T>[]);

/** Page size of `list()` when the query gives no `limit`. */
export const DEFAULT_LIMIT = 50;
/** Largest `limit` a `list()` query may ask for. */
export const MAX_LIMIT = 500;

/** Filters, sort and page of `list()`. A filter left out matches everything. */
export const ListQuerySchema = z
  .object({
    severity: oneOrMany(SeveritySchema, `one of ${SEVERITIES.join(", ")}`).optional(),
    status: oneOrMany(StatusSchema, `one of ${STATUSES.join(", ")}`).optional(),
    kind: oneOrMany(KindSchema, `one of ${KINDS.join(", ")}`).optional(),
    agentId: oneOrMany(IdSchema, "an agent id (1 to 200 characters, no NUL or unpaired surrogates)").optional(),
    runId: IdSchema.optional(),
    /** Only the members of this group incident. */
    group: IdSchema.optional(),
    /** Include group members (left out by default: their group stands for them). */
    members: z.boolean().optional(),
    sort: z.enum(["severity", "recency"]).default("severity"),
    limit: z.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
    cursor: z.string().min(1).max(1000).optional(),
  })
  .strict();
/** What `list()` accepts: filters, sort and page, every field optional (see {@link ListQuerySchema}). */
export type ListQueryInput = z.input<typeof ListQuerySchema>;

/** A validated list query, as stores receive it. */
export interface ListQuery {
  severity?: Severity[] | undefined;
  status?: Status[] | undefined;
  kind?: Kind[] | undefined;
  agentId?: string[] | undefined;
  runId?: string | undefined;
  /**
   * Members of groups (incidents with a `groupId`) are left out unless `members` is true or
   * `groupId` names their group.
   */
  members?: boolean | undefined;
  /** Only the members of this group incident. */
  groupId?: string | undefined;
  /** Only incidents with this `groupKey` (members, candidates and their group). */
  groupKey?: string | undefined;
  sort: "severity" | "recency";
  limit: number;
  /** Decoded position after which the page starts. */
  after?: CursorKey | undefined;
}

/** One page of incidents; pass `nextCursor` back as `cursor` for the next page (`null` at the end). */
export interface Page<T = Incident> {
  items: T[];
  nextCursor: string | null;
}

/** The sort position of an incident: severity rank, lastSeenAt, number. */
export interface CursorKey {
  rank: number;
  lastSeenAt: string;
  number: number;
}

export function cursorKeyOf(incident: Pick<Incident, "severity" | "lastSeenAt" | "number">): CursorKey {
  return { rank: severityRank(incident.severity), lastSeenAt: incident.lastSeenAt, number: incident.number };
}

/** Opaque, URL-safe cursor for the position after `key`. */
export function encodeCursor(key: CursorKey, sort: ListQuery["sort"]): string {
  const raw = JSON.stringify([sort === "severity" ? "s" : "r", key.rank, key.lastSeenAt, key.number]);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeCursor(cursor: string, sort: ListQuery["sort"]): CursorKey {
  const invalid = () =>
    new ValidationError("list query", [{ path: ["cursor"], message: "is not a cursor returned by list() with this sort", code: "custom" }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw invalid();
  const [tag, rank, lastSeenAt, number] = parsed as unknown[];
  // a forged cursor must not reach a store: every part is checked as strictly as stored values
  if (
    tag !== (sort === "severity" ? "s" : "r") ||
    typeof rank !== "number" || !Number.isInteger(rank) || rank < 0 || rank > 3 ||
    !TimestampSchema.safeParse(lastSeenAt).success ||
    typeof number !== "number" || !Number.isSafeInteger(number) || number < 1
  ) {
    throw invalid();
  }
  return { rank, lastSeenAt: lastSeenAt as string, number };
}

/** Orders two keys as `list()` does: negative when `a` comes first. */
export function compareKeys(a: CursorKey, b: CursorKey, sort: ListQuery["sort"]): number {
  if (sort === "severity" && a.rank !== b.rank) return b.rank - a.rank;
  if (a.lastSeenAt !== b.lastSeenAt) return a.lastSeenAt < b.lastSeenAt ? 1 : -1;
  return b.number - a.number;
}

/** Whether an incident passes the query's filters (not the cursor). */
export function matchesQuery(incident: Incident, query: Omit<ListQuery, "sort" | "limit">): boolean {
  return (
    (!query.severity || query.severity.includes(incident.severity)) &&
    (!query.status || query.status.includes(incident.status)) &&
    (!query.kind || query.kind.includes(incident.kind)) &&
    (!query.agentId || (incident.agentId !== null && query.agentId.includes(incident.agentId))) &&
    (!query.runId || incident.runId === query.runId) &&
    (query.groupId !== undefined ? incident.groupId === query.groupId : query.members === true || incident.groupId === null) &&
    (query.groupKey === undefined || incident.groupKey === query.groupKey)
  );
}

/** Builds a page from items already sorted and filtered, fetched with `limit + 1`. */
export function pageOf<T extends Incident>(items: T[], query: Pick<ListQuery, "limit" | "sort">): Page<T> {
  if (items.length <= query.limit) return { items, nextCursor: null };
  const page = items.slice(0, query.limit);
  const last = page[page.length - 1]!;
  return { items: page, nextCursor: encodeCursor(cursorKeyOf(last), query.sort) };
}

/** All sixteen severity x status cells, at zero. */
export function emptyCounts(): Counts {
  const counts = {} as Counts;
  for (const severity of SEVERITIES) {
    counts[severity] = {} as Counts[Severity];
    for (const status of STATUSES) counts[severity][status] = 0;
  }
  return counts;
}
