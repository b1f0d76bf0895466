/**
 * The web console as one Fetch API handler: a self-contained page and the JSON API it calls, both
 * built only on the public `Incidents` API, so every role check, redaction and audit rule applies.
 * The actor comes from the host's `authenticate(request)` on every request. Live updates (the
 * event streams and the change-feed tailer behind them) live in `live.ts`; the list's filters
 * that the library's `list()` does not take yet, in `list-query.ts`; silences, snooze and the names
 * behind the noise badges, in `noise-api.ts`; the HTTP plumbing (same-origin POSTs, bounded JSON
 * bodies, errors as statuses), in `http.ts`.
 */
import { z } from "zod";
import type { Incidents } from "../incidents.js";
import { ActorSchema, EnvironmentSchema, KINDS, parseOrThrow, ResolutionActionSchema, RootCauseSchema, SEVERITIES, STATUSES, type Actor } from "../core/schemas.js";
import type { Incident } from "../core/incident.js";
import type { Operator } from "../operator.js";
import { body, crossSite, decoded, errorResponse, json, safeLink, securityHeaders } from "./http.js";
import { listIncidents } from "./list-query.js";
import { liveUpdates } from "./live.js";
import { createSilence, expireSilence, listSilences, membersOf, refsOf, SnoozeActionSchema, untilAfter } from "./noise-api.js";
import { consolePage } from "./page.js";

/** Options of {@link createConsoleHandler}: who is signed in, where the console is mounted, links out. */
export interface ConsoleOptions {
  /** The actor making the request (`{ id, role, workspaceId, name? }`), or `null`: 401 with no incident data. Called on every request. */
  authenticate: (request: Request) => Actor | null | Promise<Actor | null>;
  /** Where the handler is mounted (default `/`): the page is `basePath`, the API `basePath/api/...`. */
  basePath?: string;
  /**
   * A link to the host's own page for a run, shown in the detail view. Called with the incident
   * whose `runId` and `eventId` are those of the run the detail shows: its latest occurrence's,
   * or the occurrence the operator picked.
   */
  linkTo?: (incident: Incident) => string | null | undefined;
  /** The page title (default `Incidents`). */
  title?: string;
  /**
   * Called with what made a request fail with 500 (a throwing `authenticate`, a host bug), and
   * with a store error that stops live updates (once per outage; they resume when the store
   * answers). Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

const OptionsSchema = z
  .object({
    authenticate: z.custom<ConsoleOptions["authenticate"]>((f) => typeof f === "function", { message: "must be a function" }),
    basePath: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)*\/?$/, "must be a path like /incidents")
      .optional(),
    linkTo: z.custom<NonNullable<ConsoleOptions["linkTo"]>>((f) => typeof f === "function", { message: "must be a function" }).optional(),
    title: z.string().min(1).max(100).optional(),
    onError: z.custom<NonNullable<ConsoleOptions["onError"]>>((f) => typeof f === "function", { message: "must be a function" }).optional(),
  })
  .strict();

const ActionSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("acknowledge"), expectedVersion: z.number().int().positive().optional() }).strict(),
  z.object({ action: z.literal("investigate"), expectedVersion: z.number().int().positive().optional() }).strict(),
  z.object({ action: z.literal("assign"), assignee: z.string().nullable(), expectedVersion: z.number().int().positive().optional() }).strict(),
  z.object({ action: z.literal("note"), note: z.string(), expectedVersion: z.number().int().positive().optional() }).strict(),
  z.object({ action: z.literal("severity"), severity: z.string(), reason: z.string(), expectedVersion: z.number().int().positive().optional() }).strict(),
  z
    .object({
      action: z.literal("resolve"),
      note: z.string(),
      rootCause: z.string(),
      actions: z.array(z.string()).optional(),
      systemic: z.boolean().optional(),
      expectedVersion: z.number().int().positive().optional(),
    })
    .strict(),
  z.object({ action: z.literal("reopen"), reason: z.string().optional(), expectedVersion: z.number().int().positive().optional() }).strict(),
  SnoozeActionSchema,
]);

/**
 * A Fetch API request handler; `close()` ends the open event streams and stops reading the change
 * feed, and later event streams get 503 (call it before closing your server).
 */
/** The console as a Fetch handler: a `Request` in, a `Response` out. */
export type ConsoleHandler = ((request: Request) => Promise<Response>) & {
  /** Ends every open event stream and the feed tailer; later stream requests get 503. */
  close(): void;
};

/**
 * A Fetch API handler serving the console: mount it in Hono, a Next.js route handler, Bun, Deno,
 * or Node's `http` through `@hono/node-server`'s `getRequestListener`.
 */
export function createConsoleHandler(incidents: Incidents, options: ConsoleOptions): ConsoleHandler {
  parseOrThrow(OptionsSchema, options, "console options");
  const base = (options.basePath ?? "/").replace(/\/+$/, "");
  const title = options.title ?? "Incidents";
  const report = options.onError ?? ((error: unknown) => console.error("agent-incidents console:", error));
  const live = liveUpdates(incidents, (error) => {
    try {
      report(error);
    } catch {
      // a failing onError must not stop live updates
    }
  });

  const handler = async (request: Request): Promise<Response> => {
    try {
      return await handle(request);
    } catch (error) {
      const response = errorResponse(error);
      if (response.status === 500) {
        try {
          report(error);
        } catch {
          // a failing onError must not fail the response
        }
      }
      return response;
    }
  };
  return Object.assign(handler, {
    close() {
      live.close();
    },
  });

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) return json(404, { error: { code: "NOT_FOUND", message: "Not found" } });
    const path = url.pathname.slice(base.length) || "/";
    const actor = await authenticate(request);
    const isApi = path.startsWith("/api/");
    if (!actor) {
      return isApi
        ? json(401, { error: { code: "UNAUTHENTICATED", message: "Sign in to see incidents" } })
        : new Response("Sign in to see incidents.", { status: 401, headers: { "content-type": "text/plain; charset=utf-8", ...securityHeaders() } });
    }
    const ops = incidents.as(actor);

    if (request.method === "POST") {
      const refused = crossSite(request, url);
      if (refused) return json(403, { error: { code: "CROSS_SITE", message: refused } });
    } else if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: { code: "METHOD", message: "Only GET and POST" } }, { allow: "GET, POST" });
    }

    if (path === "/" && request.method !== "POST") return page();
    if (path === "/api/session" && request.method === "GET") return json(200, session(ops));
    if (path === "/api/incidents" && request.method === "GET") return json(200, await list(ops, url.searchParams));
    if (path === "/api/stats" && request.method === "GET") {
      const since = url.searchParams.get("since");
      return json(200, await ops.stats(since ? { since } : {}));
    }
    if (path === "/api/events" && request.method === "GET") {
      if (!ops.can("read")) return json(403, { error: { code: "FORBIDDEN", message: "Your role may not read incidents" } });
      return await events(request, actor);
    }
    if (path === "/api/escalate" && request.method === "POST") return json(200, { incident: await ops.escalate((await body(request)) as never) });
    const detail = /^\/api\/incidents\/([^/]+)$/.exec(path);
    if (detail && request.method === "GET") return json(200, await context(ops, decoded(detail[1]!), url.searchParams));
    const action = /^\/api\/incidents\/([^/]+)\/actions$/.exec(path);
    if (action && request.method === "POST") return json(200, { incident: await act(ops, decoded(action[1]!), await body(request)) });
    if (path === "/api/silences" && request.method === "GET") return json(200, await listSilences(ops, url.searchParams));
    if (path === "/api/silences" && request.method === "POST") return json(200, { silence: await createSilence(ops, await body(request)) });
    const expire = /^\/api\/silences\/([^/]+)\/expire$/.exec(path);
    if (expire && request.method === "POST") return json(200, { silence: await expireSilence(ops, decoded(expire[1]!), await body(request)) });
    return json(404, { error: { code: "NOT_FOUND", message: "Not found" } });
  }

  async function authenticate(request: Request): Promise<Actor | null> {
    const actor = await options.authenticate(request);
    if (actor === null || actor === undefined) return null;
    const parsed = ActorSchema.safeParse(actor);
    // the host's authenticate returned something that is not an actor: its bug, a 500
    if (!parsed.success) throw new Error(`console authenticate() returned an invalid actor: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return parsed.data;
  }

  function page(): Response {
    const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    return new Response(consolePage({ nonce, title, base }), {
      status: 200,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": [
          "default-src 'none'",
          `script-src 'nonce-${nonce}'`,
          `style-src 'nonce-${nonce}'`,
          "connect-src 'self'",
          "img-src 'self' data:",
          "base-uri 'none'",
          "form-action 'self'",
          "frame-ancestors 'none'",
        ].join("; "),
        ...securityHeaders(),
      },
    });
  }

  function session(ops: Operator) {
    const can = (permission: Parameters<Operator["can"]>[0]) => ops.can(permission);
    return {
      actor: ops.actor,
      title,
      can: { read: can("read"), note: can("note"), triage: can("triage"), resolve: can("resolve"), escalate: can("escalate"), silence: can("silence") },
      values: { severities: SEVERITIES, statuses: STATUSES, kinds: KINDS, environments: EnvironmentSchema.options, rootCauses: RootCauseSchema.options, actions: ResolutionActionSchema.options },
    };
  }

  async function list(ops: Operator, params: URLSearchParams) {
    const agent = params.getAll("agent").flatMap((v) => v.split(",")).filter((v) => v !== "");
    const [page, counts] = await Promise.all([listIncidents(ops, params), ops.counts(agent.length === 1 ? { agentId: agent[0]! } : {})]);
    return { ...page, counts, refs: await refsOf(ops, page.items) };
  }

  /**
   * The detail: the incident, its context and the run of its latest occurrence (or of `run`), with
   * the newest `occurrences` (default 20) of its log: an incident that recurred for a month does
   * not send its whole log on every refresh.
   */
  async function context(ops: Operator, id: string, params: URLSearchParams) {
    const wanted = params.get("run");
    // get() says why the incident is quiet; context() has the run
    const [found, { quiet }] = await Promise.all([ops.context(id, wanted === null ? undefined : { runId: wanted }), ops.get(id)]);
    const [members, refs] = await Promise.all([membersOf(ops, found.incident), refsOf(ops, [{ ...found.incident, quiet }])]);
    const shown = Math.min(Math.max(Math.trunc(Number(params.get("occurrences") ?? 20)) || 20, 1), 1000);
    const log = found.occurrenceLog;
    const runs = log.map((o) => o.runId).filter((r): r is string => r !== null);
    const runId = wanted ?? runs.at(-1) ?? found.incident.runId;
    // the run shown is the one its occurrence's event triggered in
    const occurrence = log.findLast((o) => o.runId === runId);
    // a group's occurrences are its members joining, not runs: it has no run of its own
    const run = runId === null || found.incident.kind === "group" ? null : { runId, eventId: occurrence?.eventId ?? found.incident.eventId, latest: runId === (runs.at(-1) ?? found.incident.runId), runs: new Set(runs).size };
    const linkOf = (runId: string | null, eventId: string | null) => {
      if (!options.linkTo) return null;
      try {
        return safeLink(options.linkTo({ ...found.incident, runId, eventId }));
      } catch (error) {
        report(error); // a failing linkTo loses the link, not the page
        return null;
      }
    };
    return {
      ...found,
      quiet,
      members,
      refs,
      occurrenceLog: log.slice(-shown),
      occurrenceTotal: log.length,
      shownRun: run,
      link: run ? linkOf(run.runId, run.eventId) : found.incident.kind === "group" ? null : linkOf(found.incident.runId, found.incident.eventId),
    };
  }

  async function act(ops: Operator, id: string, input: unknown) {
    const a = parseOrThrow(ActionSchema, input, "action");
    const guard = a.expectedVersion === undefined ? undefined : { expectedVersion: a.expectedVersion };
    switch (a.action) {
      case "acknowledge":
        return ops.acknowledge(id, guard);
      case "investigate":
        return ops.startInvestigating(id, guard);
      case "assign":
        return ops.assign(id, a.assignee === "" ? null : a.assignee, guard);
      case "note":
        return ops.addNote(id, a.note, guard);
      case "severity":
        return ops.setSeverity(id, a.severity as never, a.reason, guard);
      case "resolve": {
        const { action: _, ...resolution } = a;
        return ops.resolve(id, resolution as never);
      }
      case "reopen":
        return ops.reopen(id, a.reason, guard);
      case "snooze":
        return ops.snooze(id, { until: untilAfter(a.forMs), reason: a.reason }, guard);
    }
  }

  /** Server-Sent Events of the actor's workspace: what changed (in any process), for the page to refresh. */
  async function events(request: Request, actor: Actor): Promise<Response> {
    const opened = await live.open(actor, request.signal);
    if ("refused" in opened) {
      const { status, code, message } = opened.refused;
      return json(status, { error: { code, message } }, status === 429 ? { "retry-after": "30" } : {});
    }
    return new Response(opened.stream, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", ...securityHeaders() },
    });
  }
}

