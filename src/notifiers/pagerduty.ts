import { createHash } from "node:crypto";
import { z } from "zod";
import type { Incident } from "../core/incident.js";
import { parseOrThrow } from "../core/schemas.js";
import { defineNotifier, type Notification, type Notifier } from "./contract.js";
import { hasCredentials, HttpNotifierOptions, LinkToSchema, NO_CREDENTIALS, postJson, type HttpNotifierBaseOptions } from "./http.js";
import { safeLink } from "./slack.js";

/**
 * Options of {@link pagerdutyNotifier}: the service's routing key, an optional console link, and
 * the HTTP settings every notifier shares.
 */
export interface PagerdutyNotifierOptions extends HttpNotifierBaseOptions {
  /** The Events API v2 integration key of a PagerDuty service. */
  routingKey: string;
  /** Default: `https://events.pagerduty.com/v2/enqueue`. */
  url?: string;
  /** A link to the incident in your own console, sent as a PagerDuty link. */
  linkTo?: (incident: Incident) => string;
  /** Default: `pagerduty:` and a short hash of the routing key. */
  name?: string;
}

const OptionsSchema = z
  .object({
    routingKey: z.string().min(1).max(100),
    url: z
      .string()
      .url()
      .refine((u) => /^https?:/.test(u), "must be an http or https URL")
      .refine((u) => !hasCredentials(u), NO_CREDENTIALS)
      .optional(),
    linkTo: LinkToSchema.optional(),
    ...HttpNotifierOptions,
  })
  .strict();

const SEVERITY: Record<Incident["severity"], "critical" | "error" | "warning" | "info"> = { critical: "critical", high: "error", medium: "warning", low: "info" };

/** An Events API v2 request body. */
export interface PagerdutyEvent {
  routing_key: string;
  event_action: "trigger" | "acknowledge" | "resolve";
  dedup_key: string;
  payload?: { summary: string; source: string; severity: string; timestamp: string; component?: string; group?: string; class?: string; custom_details: Record<string, unknown> };
  links?: Array<{ href: string; text: string }>;
}

/**
 * Pages through the PagerDuty Events API v2: a new, reopened, recurring or re-rated incident
 * triggers (dedup key = incident id, so PagerDuty keeps one alert), acknowledging acknowledges,
 * resolving resolves. Only 429 and 5xx are retried.
 */
export function pagerdutyNotifier(options: PagerdutyNotifierOptions): Notifier {
  const o = parseOrThrow(OptionsSchema, options, "pagerdutyNotifier options");
  const url = o.url ?? "https://events.pagerduty.com/v2/enqueue";
  const tag = createHash("sha256").update(o.routingKey).digest("hex").slice(0, 8);
  return defineNotifier({
    name: o.name ?? `pagerduty:${tag}`,
    timeoutMs: o.timeoutMs,
    retry: o.retry,
    async send(batch, { signal }) {
      for (const notification of batch) {
        for (const event of pagerdutyEvents(notification, o.routingKey, o.linkTo)) {
          await postJson(url, JSON.stringify(event), {}, signal, (status) => status === 429 || status >= 500);
        }
      }
    },
  });
}

/** The Events API requests for one notification (none for notes and assignments). */
export function pagerdutyEvents(notification: Notification, routingKey: string, linkTo?: (incident: Incident) => string): PagerdutyEvent[] {
  const incidents = "incidents" in notification.data ? notification.data.incidents : [notification.data.incident];
  const action = ACTION[notification.type];
  if (!action) return [];
  return incidents.map((incident) => {
    const event: PagerdutyEvent = { routing_key: routingKey, event_action: action(incident), dedup_key: incident.id };
    if (event.event_action === "trigger") {
      event.payload = {
        // PagerDuty keeps 1024 characters of a summary and shows it on one line
        summary: text(`#${incident.number} ${incident.title}`.replace(/[\r\n\t]+/g, " "), 1024),
        source: text(incident.agentId ?? `workspace ${incident.workspaceId}`, 255),
        severity: SEVERITY[incident.severity],
        timestamp: incident.lastSeenAt,
        component: incident.agentId === null ? undefined : text(incident.agentId, 255),
        group: text(incident.workspaceId, 255),
        class: incident.kind,
        custom_details: {
          incident: incident.id,
          number: incident.number,
          workspace: incident.workspaceId,
          environment: incident.environment,
          run: incident.runId,
          event: incident.eventId,
          trace: incident.traceId,
          occurrences: incident.occurrences,
          severity_reason: text(incident.severityReason.explanation, 2000),
          summary: text(incident.summary, 2000),
        },
      };
      if (event.payload.component === undefined) delete event.payload.component;
      const href = linkTo ? safeLink(linkTo, incident) : null;
      if (href) event.links = [{ href, text: `Incident #${incident.number}` }];
    }
    return event;
  });
}

/** Control characters, bidi overrides and lone surrogates: PagerDuty would show them garbled. */
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `value` with unsafe characters replaced, cut to `max` characters with "…", never inside a surrogate pair. */
function text(value: string, max: number): string {
  const clean = String(value).replace(UNSAFE, "\uFFFD");
  if (clean.length <= max) return clean;
  let end = max - 1;
  const last = clean.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${clean.slice(0, end)}…`;
}

const ACTION: Partial<Record<Notification["type"], (incident: Incident) => PagerdutyEvent["event_action"]>> = {
  "incident.created": () => "trigger",
  "incident.reopened": () => "trigger",
  "incident.recurred": () => "trigger",
  "incident.severity_changed": () => "trigger",
  "incident.acknowledged": () => "acknowledge",
  "incident.resolved": () => "resolve",
  // a digest brings each incident up to date: open ones trigger, resolved ones resolve
  "incident.digest": (incident) => (incident.status === "resolved" ? "resolve" : "trigger"),
};
