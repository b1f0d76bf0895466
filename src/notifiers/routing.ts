import { z } from "zod";
import type { Incident } from "../core/incident.js";
import { EnvironmentSchema, IdSchema, KindSchema, SeveritySchema, severityRank } from "../core/schemas.js";
import { RetryOptionsSchema } from "./http.js";
import { NOTIFICATION_EVENTS, type NotificationEvent, type Notifier, type Route } from "./contract.js";


const NotifierSchema = z.custom<Notifier>(
  (n) => typeof n === "object" && n !== null && typeof (n as Notifier).send === "function" && typeof (n as Notifier).name === "string",
  { message: "must be a Notifier { name, send(batch) }" },
);

/** One route, as `createIncidents({ routes })` validates it. */
export const RouteSchema = z
  .object({
    notifier: NotifierSchema,
    minSeverity: SeveritySchema.optional(),
    severities: z.array(SeveritySchema).min(1).optional(),
    kinds: z.array(KindSchema).min(1).optional(),
    agents: z.array(IdSchema).min(1).max(1000).optional(),
    environments: z.array(EnvironmentSchema).min(1).optional(),
    workspaces: z.array(IdSchema).min(1).max(1000).optional(),
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional(),
    digest: z.object({ everyMs: z.number().int().min(1000).max(7 * 86_400_000) }).strict().optional(),
    recurredEveryMs: z.number().int().min(0).max(7 * 86_400_000).optional(),
  })
  .strict();

export const RoutesSchema = z
  .array(RouteSchema)
  .max(100)
  .superRefine((routes, ctx) => {
    // a pending delivery finds its notifier by name after a restart: names must say which one
    const seen = new Map<string, Notifier>();
    routes.forEach((route, i) => {
      // the name is stored with every pending delivery and matched after a restart: an id's rules
      if (!IdSchema.safeParse(route.notifier.name).success || route.notifier.name !== route.notifier.name.trim()) {
        ctx.addIssue({ code: "custom", path: [i, "notifier", "name"], message: "must be 1 to 200 characters, without NUL, unpaired surrogates or surrounding spaces" });
      }
      const other = seen.get(route.notifier.name);
      if (other && other !== route.notifier) {
        ctx.addIssue({ code: "custom", path: [i, "notifier", "name"], message: `"${route.notifier.name}" names two different notifiers: give one a name of its own` });
      }
      seen.set(route.notifier.name, route.notifier);
      const retry = RetryOptionsSchema.safeParse(route.notifier.retry ?? {});
      for (const issue of retry.success ? [] : retry.error.issues) {
        ctx.addIssue({ code: "custom", path: [i, "notifier", "retry", ...issue.path.map(String)], message: `${issue.message} (a retry policy is { attempts 1-100000, minDelayMs, maxDelayMs, maxAgeMs up to 30 days })` });
      }
      const timeout = route.notifier.timeoutMs;
      if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1 && timeout <= 600_000)) {
        ctx.addIssue({ code: "custom", path: [i, "notifier", "timeoutMs"], message: "must be 1 to 600000 ms" });
      }
    });
  });

/** Whether a change of `incident` goes to `route`. A filter left out matches everything. Pure. */
export function routeMatches(route: Route, event: NotificationEvent, incident: Incident): boolean {
  return (
    (route.minSeverity === undefined || severityRank(incident.severity) >= severityRank(route.minSeverity)) &&
    (route.severities === undefined || route.severities.includes(incident.severity)) &&
    (route.kinds === undefined || route.kinds.includes(incident.kind)) &&
    (route.agents === undefined || (incident.agentId !== null && route.agents.includes(incident.agentId))) &&
    (route.environments === undefined || route.environments.includes(incident.environment)) &&
    (route.workspaces === undefined || route.workspaces.includes(incident.workspaceId)) &&
    eventPasses(route.events, event)
  );
}

/**
 * Whether a route's `events` filter lets `event` through. A notice that an incident is loud
 * again (a snooze or silence ended) passes where `created` or `reopened` does: it is the page that
 * was held back. A grouped member and flapping notices pass where `updated` does.
 */
export function eventPasses(events: readonly NotificationEvent[] | undefined, event: NotificationEvent): boolean {
  if (events === undefined || events.includes(event)) return true;
  switch (event) {
    case "unsilenced":
    case "unsnoozed":
      return events.includes("created") || events.includes("reopened");
    case "grouped":
    case "snoozed":
    case "flapping_started":
    case "flapping_stopped":
      return events.includes("updated");
    default:
      return false;
  }
}
