import { z } from "zod";
import type { Permission } from "./core/access.js";
import { describeError, ForbiddenError, NotFoundError, ValidationError } from "./core/errors.js";
import type { Activity, ActivityActor, Counts, Incident, IncidentDetail, Occurrence, Snapshot } from "./core/incident.js";
import type { Operation } from "./core/operations.js";
import { decodeCursor, emptyCounts, ListQuerySchema, pageOf, type ListQueryInput, type Page } from "./core/query.js";
import {
  ActorSchema,
  EnvironmentSchema,
  IdSchema,
  nonEmptyText,
  parseArgument,
  TagSchema,
  parseOrThrow,
  ResolutionSchema,
  SeveritySchema,
  TimestampSchema,
  type Actor,
  type ResolutionInput,
  type Severity,
} from "./core/schemas.js";
import type { ManualSignal } from "./core/signals.js";
import { RunEventSchema } from "./core/signals.js";
import { toPlain } from "./core/plain.js";
import { cleanValue } from "./core/redact.js";
import { computeStats, type IncidentStats } from "./core/stats.js";
import { capRecord, type Engine } from "./engine.js";
import type { RunTimeline } from "./run-source.js";
import type { QuietReason } from "./core/noise.js";
import { createQuietReader, createSilences, required, SnoozeSchema, type Silences, type SnoozeInput } from "./noise/operator.js";
import { timer } from "./core/noise.js";


/** An optimistic-concurrency guard: fail with `ConflictError` unless the incident is at this version. */
export interface VersionGuard {
  expectedVersion?: number;
}

const VersionGuardSchema = z.object({ expectedVersion: z.number().int().positive().optional() }).strict().optional();

/**
 * Validates an operator's escalation: a title and severity, and optionally a summary, agent, run,
 * event, tags and environment (default `production`).
 */
export const EscalateSchema = z
  .object({
    title: nonEmptyText(300),
    summary: z.string().max(8192).optional(),
    severity: SeveritySchema,
    agentId: IdSchema.optional(),
    runId: IdSchema.optional(),
    eventId: IdSchema.optional(),
    environment: EnvironmentSchema.default("production"),
    tags: z.array(TagSchema).max(50).optional(),
  })
  .strict();
/**
 * What {@link Operator.escalate} accepts: the title and severity of a new manual incident, and
 * optionally where it happened.
 */
export type EscalateInput = z.input<typeof EscalateSchema>;

const ResolveSchema = ResolutionSchema.extend({ expectedVersion: z.number().int().positive().optional() }).strict();
/** What {@link Operator.resolve} accepts: the resolution, and optionally the version the incident must be at. */
export type ResolveInput = ResolutionInput & VersionGuard;

const StatsSchema = z
  .object({
    since: z
      .union([TimestampSchema, z.date()])
      // stored times are compared as strings: a year past 9999 ("+010000-...") would sort first
      .refine((since) => {
        const time = new Date(since).getTime();
        return time >= 0 && time <= Date.UTC(9999, 11, 31, 23, 59, 59, 999);
      }, "must be a time between 1970 and 9999")
      .optional(),
  })
  .strict()
  .optional();
const CountsSchema = z.object({ agentId: IdSchema.optional() }).strict().optional();
const ContextOptionsSchema = z.object({ runId: IdSchema.optional() }).strict().optional();
const NoteSchema = nonEmptyText(8192);
const ReasonSchema = nonEmptyText(2000);

/** What a `RunSource` must return; checked before anyone sees it. */
const RunTimelineSchema = z.object({
  runId: z.string(),
  agentId: z.string().nullish().transform((v) => v ?? undefined),
  status: z.enum(["running", "completed", "errored", "escalated"]).nullish().transform((v) => v ?? undefined),
  startedAt: z.string().nullish().transform((v) => v ?? undefined),
  endedAt: z.string().nullish().transform((v) => v ?? undefined),
  events: z.array(RunEventSchema.extend({ id: z.string(), type: z.string() })),
});

/** What `context(id)` returns. */
export interface IncidentContext {
  incident: Incident;
  snapshot: Snapshot | null;
  activity: Activity[];
  occurrenceLog: Occurrence[];
  /**
   * The run of the latest occurrence (or of `options.runId`) from the `RunSource`, validated and
   * redacted; `null` without a RunSource, or when it failed or timed out: see `runError`.
   */
  run: RunTimeline | null;
  /** Why `run` is `null` although a RunSource is configured; redacted. */
  runError?: string;
}

/** An incident as `list()` returns it: with why it is quiet (noise control), or `quiet: null`. */
export type ListedIncident = Incident & { quiet: QuietReason | null };

/** The operator side, bound to one actor: scoped to its workspace, checked against its role. */
export interface Operator {
  /** The validated actor every call acts as. */
  readonly actor: Readonly<Actor>;
  /**
   * Whether the actor may do this (asks `authorize`), for showing only the actions that would
   * succeed. A check, not a guard: every call checks again. A throwing `authorize` is `false`.
   */
  can(permission: Permission): boolean;
  /**
   * One page of the workspace's incidents matching `query`, most severe first by default; pass its
   * `nextCursor` as `cursor` for the next. Needs `read`.
   */
  list(query?: ListQueryInput): Promise<Page<ListedIncident>>;
  /**
   * How many incidents there are of each severity in each status (every cell present), optionally
   * for one agent. Needs `read`.
   */
  counts(filter?: { agentId?: string }): Promise<Counts>;
  /**
   * One incident with its activity and occurrence logs; {@link NotFoundError} when the actor's
   * workspace has no such incident. Needs `read`.
   */
  get(id: string): Promise<IncidentDetail>;
  /** Incident, snapshot, activity, occurrences and the run; `runId` picks an earlier occurrence's run. */
  context(id: string, options?: { runId?: string }): Promise<IncidentContext>;
  /** Totals, MTTA, MTTR and breakdowns over the incidents created since `since` (all of them without it). Needs `read`. */
  stats(options?: { since?: string | Date }): Promise<IncidentStats>;
  /**
   * Opens a new `manual` incident with the operator's title and severity; never merged into an
   * existing one. Needs `escalate`.
   */
  escalate(input: EscalateInput): Promise<Incident>;
  /** Moves an open incident to `acknowledged`; {@link InvalidTransitionError} from any other status. Needs `triage`. */
  acknowledge(id: string, guard?: VersionGuard): Promise<Incident>;
  /** Moves an open or acknowledged incident to `investigating` (which counts as acknowledging it). Needs `triage`. */
  startInvestigating(id: string, guard?: VersionGuard): Promise<Incident>;
  /** Assign to a user id, or `null` to unassign. Assigning the current assignee changes nothing. */
  assign(id: string, assignee: string | null, guard?: VersionGuard): Promise<Incident>;
  /** Adds a note to the incident's activity log; the status does not change. Needs `note`. */
  addNote(id: string, note: string, guard?: VersionGuard): Promise<Incident>;
  /** Pins the severity: recurrences no longer change it until the incident is reopened. */
  setSeverity(id: string, severity: Severity, reason: string, guard?: VersionGuard): Promise<Incident>;
  /** Resolves an unresolved incident with a note, a root cause and the actions taken. Needs `resolve`. */
  resolve(id: string, resolution: ResolveInput): Promise<Incident>;
  /** Reopens a resolved incident as a new episode, optionally saying why; a pinned severity is unpinned. Needs `resolve`. */
  reopen(id: string, reason?: string, guard?: VersionGuard): Promise<Incident>;
  /**
   * Snoozes an acknowledged or investigating incident: it notifies nobody until `until`, when it
   * returns to open and is notified again (a durable timer). A resolve or a reassignment cancels
   * it. Audited with `reason`. Needs `triage`.
   */
  snooze(id: string, options: SnoozeInput, guard?: VersionGuard): Promise<Incident>;
  /** Silences: hold back the notifications of matching incidents for a while. Need `silence`. */
  readonly silences: Silences;
}

export function createOperator(engine: Engine, actorInput: unknown): Operator {
  const actor = Object.freeze(parseOrThrow(ActorSchema, actorInput, "actor"));
  const ws = actor.workspaceId;
  const who: ActivityActor = { type: "user", id: actor.id, role: actor.role };

  const can = (permission: Permission): boolean => {
    try {
      return engine.allowed(actor, permission);
    } catch {
      return false;
    }
  };

  const guarded = <T>(permission: Permission, body: () => Promise<T>): Promise<T> =>
    engine.run(async () => {
      if (!engine.allowed(actor, permission)) throw new ForbiddenError(actor.id, actor.role, permission);
      return body();
    });

  /** The incident with its activity and occurrences; the common part of `get` and `context`. */
  const load = async (id: string) => {
    const { store } = engine;
    if (store.detail) {
      const detail = await store.detail(ws, id);
      if (!detail) throw new NotFoundError(id);
      return { incident: detail.incident, activity: detail.activity, occurrenceLog: detail.occurrences };
    }
    // all three at once: over a network that is one round trip instead of two (the reads are
    // scoped to the workspace, so an unknown id just finds nothing)
    const [incident, activity, occurrenceLog] = await Promise.all([store.get(ws, id), store.activity(ws, id), store.occurrences(ws, id)]);
    if (!incident) throw new NotFoundError(id);
    return { incident, activity, occurrenceLog };
  };

  /** Runs one operator operation; `build` validates the arguments after the role check. */
  const mutate = (permission: Permission, idInput: unknown, build: () => { op: Operation; expectedVersion?: number | undefined }, after?: (incident: Incident, changed: boolean) => Promise<void>) =>
    guarded(permission, async () => {
      const id = parseArgument(IdSchema, idInput, "id");
      const { op, expectedVersion } = build();
      const { incident, change } = await engine.apply(ws, id, op, who, expectedVersion);
      if (after) await after(incident, change !== null);
      return incident;
    });
  const quiet = createQuietReader(engine);
  const silences = createSilences(engine, ws, who);
  const silenceGuard = <A extends unknown[], T>(body: (...args: A) => Promise<T>) => (...args: A) => guarded("silence", () => body(...args));

  /**
   * After a resolve: a group's open members resolve with it (each audited, by the same operator),
   * and silences that last until this incident resolves end (their re-send is a timer due now).
   */
  const afterResolve = async (incident: Incident, changed: boolean): Promise<void> => {
    if (!changed || !incident.resolution) return;
    const ending = (await engine.silences.list({ workspaceId: ws, limit: 1000 })).filter((s) => s.untilResolved === incident.id && s.expiredAt === null);
    if (ending.length > 0) await engine.timers.schedule(ending.map((s) => timer("silence", ws, s.id, engine.now())));
    if (incident.kind !== "group") return;
    for (;;) {
      const members = await engine.store.list(ws, { groupId: incident.id, status: ["open", "acknowledged", "investigating"], sort: "recency", limit: 500 });
      if (members.length === 0) return;
      for (const member of members) {
        await engine.apply(ws, member.id, { type: "resolve", resolution: incident.resolution }, who).catch((error: unknown) => {
          // a member resolved or changed meanwhile is left as it is
          if ((error as { code?: unknown } | null)?.code !== "INVALID_TRANSITION") throw error;
        });
      }
      if (members.length < 500) return;
    }
  };
  /** The RunSource's answer, bounded, checked and redacted; never a rejection, never a hang. */
  const loadRun = async (runId: string, agentId: string | null): Promise<Pick<IncidentContext, "run" | "runError">> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not answer within ${engine.runTimeoutMs} ms`)), engine.runTimeoutMs);
      });
      const loaded: unknown = await Promise.race([Promise.resolve().then(() => engine.runs!.loadRun(runId, { workspaceId: ws, agentId })), timeout]);
      if (loaded === null || loaded === undefined) return { run: null };
      const parsed = RunTimelineSchema.safeParse(toPlain(loaded, "run timeline"));
      if (!parsed.success) {
        const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(timeline)"}: ${i.message}`);
        return { run: null, runError: `RunSource.loadRun returned an invalid timeline: ${problems.join("; ")}` };
      }
      const run = cleanValue(parsed.data, engine.redact) as RunTimeline;
      run.events = run.events.map((event) => (event.data ? { ...event, data: capRecord(event.data) } : event));
      return { run };
    } catch (error) {
      return { run: null, runError: engine.text(`RunSource.loadRun failed: ${describeError(error)}`) };
    } finally {
      clearTimeout(timer);
    }
  };

  const nullableText = (value: string | undefined) => (value === undefined ? null : engine.text(value));
  const withGuard = (op: Operation, guard: unknown) => ({ op, expectedVersion: parseOrThrow(VersionGuardSchema, guard, "options")?.expectedVersion });

  return {
    actor,
    can,
    list: (query) =>
      guarded("read", async () => {
        const q = parseOrThrow(ListQuerySchema, query ?? {}, "list query");
        const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, q.sort);
        const { group, ...rest } = q;
        const items = await engine.store.list(ws, { ...rest, groupId: group, after });
        const page = pageOf(items, q);
        const reasons = await quiet(ws, page.items);
        return { ...page, items: page.items.map((item) => ({ ...item, quiet: reasons.get(item.id) ?? null })) };
      }),
    counts: (filter) =>
      guarded("read", async () => {
        const f = parseOrThrow(CountsSchema, filter, "counts filter");
        const partial = await engine.store.counts(ws, { agentId: f?.agentId });
        const counts = emptyCounts();
        for (const [severity, row] of Object.entries(partial)) Object.assign(counts[severity as Severity], row);
        return counts;
      }),
    get: (idInput) =>
      guarded("read", async () => {
        const { incident, activity, occurrenceLog } = await load(parseArgument(IdSchema, idInput, "id"));
        const reasons = await quiet(ws, [incident]);
        return { ...incident, activity, occurrenceLog, quiet: reasons.get(incident.id) ?? null };
      }),
    context: (idInput, options) =>
      guarded("read", async () => {
        const id = parseArgument(IdSchema, idInput, "id");
        const wanted = parseOrThrow(ContextOptionsSchema, options, "context options")?.runId;
        const [{ incident, activity, occurrenceLog }, snapshot] = await Promise.all([load(id), engine.store.snapshot(ws, id)]);
        const runs = occurrenceLog.map((o) => o.runId).filter((r): r is string => r !== null);
        if (wanted !== undefined && !runs.includes(wanted) && wanted !== incident.runId) {
          throw new ValidationError("context options", [{ path: ["runId"], message: "is not the run of any occurrence of this incident", code: "custom" }]);
        }
        const runId = wanted ?? runs.at(-1) ?? incident.runId;
        const context: IncidentContext = { incident, snapshot, activity, occurrenceLog, run: null };
        if (engine.runs && runId) Object.assign(context, await loadRun(runId, incident.agentId));
        return context;
      }),
    stats: (options) =>
      guarded("read", async () => {
        const o = parseOrThrow(StatsSchema, options, "stats options");
        const since = o?.since === undefined ? null : new Date(o.since).toISOString();
        return computeStats(await engine.store.scan(ws, { createdSince: since }), since);
      }),
    escalate: (input) =>
      guarded("escalate", async () => {
        const e = parseOrThrow(EscalateSchema, toPlain(input, "escalation"), "escalation");
        const signal: ManualSignal = { ...e, kind: "manual", workspaceId: ws };
        return (await engine.ingest(signal, who)).incident;
      }),
    acknowledge: (id, guard) => mutate("triage", id, () => withGuard({ type: "acknowledge" }, guard)),
    startInvestigating: (id, guard) => mutate("triage", id, () => withGuard({ type: "startInvestigating" }, guard)),
    assign: (id, assignee, guard) =>
      mutate("triage", id, () => withGuard({ type: "assign", assignee: parseArgument(IdSchema.nullable(), assignee, "assignee") }, guard)),
    addNote: (id, note, guard) =>
      mutate("note", id, () => withGuard({ type: "addNote", note: engine.text(parseArgument(NoteSchema, note, "note")) }, guard)),
    setSeverity: (id, severity, reason, guard) =>
      mutate("triage", id, () =>
        withGuard(
          {
            type: "setSeverity",
            severity: parseArgument(SeveritySchema, severity, "severity"),
            reason: engine.text(parseArgument(ReasonSchema, reason, "reason")),
          },
          guard,
        ),
      ),
    resolve: (id, input) =>
      mutate(
        "resolve",
        id,
        () => {
          const { expectedVersion, ...resolution } = parseOrThrow(ResolveSchema, input, "resolution");
          return { op: { type: "resolve", resolution: { ...resolution, note: engine.text(resolution.note) } }, expectedVersion };
        },
        afterResolve,
      ),
    snooze: (idInput, options, guard) =>
      guarded("triage", async () => {
        const id = parseArgument(IdSchema, idInput, "id");
        const s = parseOrThrow(SnoozeSchema, toPlain(options, "snooze options"), "snooze options");
        const expectedVersion = parseOrThrow(VersionGuardSchema, guard, "options")?.expectedVersion;
        if (s.until <= engine.now()) throw new ValidationError("snooze options", [{ path: ["until"], message: "is in the past: a snooze must end after now", code: "custom" }]);
        // the timer first: a snooze written without one would never end (one left over from a failed write finds nothing to do)
        await engine.timers.schedule([timer("snooze", ws, id, s.until)]);
        const { incident } = await engine.apply(ws, id, { type: "snooze", until: s.until, reason: required(engine.text(s.reason), "snooze options", "reason") }, who, expectedVersion);
        return incident;
      }),
    silences: {
      create: silenceGuard(silences.create),
      list: silenceGuard(silences.list),
      expire: silenceGuard(silences.expire),
    },
    reopen: (id, reason, guard) =>
      mutate("resolve", id, () =>
        withGuard({ type: "reopen", reason: nullableText(parseArgument(ReasonSchema.optional(), reason, "reason")) }, guard),
      ),
  };
}
