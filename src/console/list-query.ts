/**
 * The console's list API: the URL query of `GET /api/incidents` as one page of incidents.
 *
 * Filters the library's `list()` takes (severity, status, kind, agent; `members=1` to include
 * group members, `group=<id>` for one group's members) go to the store. The ones
 * it does not take (assignee, environment, last seen, text in the title) are applied here, over
 * the library's pages in their order, so a match on a later page is never missed: the scan reads
 * pages until it has a page of matches or has read `SCAN_BUDGET` incidents, and answers the
 * cursor to go on from, so one request's cost stays bounded.
 */
import { z } from "zod";
import { EnvironmentSchema, IdSchema, parseOrThrow } from "../core/schemas.js";
import type { Incident } from "../core/incident.js";
import type { Operator } from "../operator.js";

/** Incidents one filtered request reads at most before it answers with the cursor to go on from. */
export const SCAN_BUDGET = 2000;

const ConsoleFiltersSchema = z
  .object({
    assignee: IdSchema.optional(),
    unassigned: z.literal("1").optional(),
    environment: z.array(EnvironmentSchema).min(1).optional(),
    seenSince: z
      .string()
      .refine((value) => {
        const time = Date.parse(value);
        return Number.isFinite(time) && time >= 0 && time <= Date.UTC(9999, 11, 31);
      }, "must be a time between 1970 and 9999")
      .optional(),
    q: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
type ConsoleFilters = z.infer<typeof ConsoleFiltersSchema>;

/** Group members: `members=1` includes them, `group=<id>` lists one group's. */
const GroupingSchema = z.object({ members: z.enum(["1", "0"]).optional(), group: IdSchema.optional() }).strict();

export interface ListAnswer {
  items: Incident[];
  nextCursor: string | null;
  /** How many incidents the filters were checked against; only when a console-side filter is set. */
  searched?: number;
}

export async function listIncidents(ops: Operator, params: URLSearchParams): Promise<ListAnswer> {
  const many = (name: string) => {
    const values = params.getAll(name).flatMap((v) => v.split(",")).filter((v) => v !== "");
    return values.length > 0 ? values : undefined;
  };
  const limit = params.get("limit");
  const grouping = parseOrThrow(
    GroupingSchema,
    defined({ members: params.get("members") || undefined, group: params.get("group") || undefined }),
    "list query",
  );
  const query = defined({
    members: grouping.members === "1" ? true : undefined,
    group: grouping.group,
    severity: many("severity"),
    status: many("status"),
    kind: many("kind"),
    agentId: many("agent"),
    cursor: params.get("cursor") ?? undefined,
    limit: limit === null ? undefined : Number(limit),
  });
  const filters = parseOrThrow(
    ConsoleFiltersSchema,
    defined({
      assignee: params.get("assignee") ?? undefined,
      unassigned: params.get("unassigned") ?? undefined,
      environment: many("environment"),
      seenSince: params.get("seenSince") ?? undefined,
      q: params.get("q") ?? undefined,
    }),
    "list query",
  );
  if (Object.keys(filters).length === 0) return ops.list(query as never);

  const wanted = typeof query["limit"] === "number" ? query["limit"] : 50;
  const matches = matcher(filters);
  const items: Incident[] = [];
  let cursor = query["cursor"] as string | undefined;
  let searched = 0;
  for (;;) {
    // pages of at least 50: a sparse match does not cost a round trip per few incidents
    const page = await ops.list({ ...query, cursor, limit: Math.max(wanted, 50) } as never);
    searched += page.items.length;
    items.push(...page.items.filter(matches));
    if (page.nextCursor === null || items.length >= wanted || searched >= SCAN_BUDGET) return { items, nextCursor: page.nextCursor, searched };
    cursor = page.nextCursor;
  }
}

function matcher(filters: ConsoleFilters): (incident: Incident) => boolean {
  const text = filters.q?.toLowerCase();
  const number = text && /^#?\d+$/.test(text) ? Number(text.replace("#", "")) : null;
  return (incident) =>
    (filters.assignee === undefined || incident.assignee === filters.assignee) &&
    (filters.unassigned === undefined || incident.assignee === null) &&
    (filters.environment === undefined || filters.environment.includes(incident.environment)) &&
    (filters.seenSince === undefined || Date.parse(incident.lastSeenAt) >= Date.parse(filters.seenSince)) &&
    (text === undefined || incident.title.toLowerCase().includes(text) || incident.number === number);
}

function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}
