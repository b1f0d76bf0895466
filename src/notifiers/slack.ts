import { createHash } from "node:crypto";
import { z } from "zod";
import type { Incident } from "../core/incident.js";
import { parseOrThrow } from "../core/schemas.js";
import { defineNotifier, type Notification, type Notifier } from "./contract.js";
import { hasCredentials, HttpNotifierOptions, LinkToSchema, NO_CREDENTIALS, postJson, type HttpNotifierBaseOptions } from "./http.js";

/**
 * Options of {@link slackNotifier}: the incoming-webhook URL, an optional console link, and the
 * HTTP settings every notifier shares.
 */
export interface SlackNotifierOptions extends HttpNotifierBaseOptions {
  /** A Slack incoming-webhook URL. It is a secret: it never appears in names or errors. */
  webhookUrl: string;
  /** A link to the incident in your own console, shown as a button. */
  linkTo?: (incident: Incident) => string;
  /** Default: `slack:` and a short hash of the URL. */
  name?: string;
}

const OptionsSchema = z
  .object({
    webhookUrl: z
      .string()
      .url()
      .refine((u) => u.startsWith("https://") || u.startsWith("http://"), "must be an http(s) URL")
      .refine((u) => !hasCredentials(u), NO_CREDENTIALS),
    linkTo: LinkToSchema.optional(),
    ...HttpNotifierOptions,
  })
  .strict();

const MARK: Record<Incident["severity"], string> = { critical: ":red_circle:", high: ":large_orange_circle:", medium: ":large_yellow_circle:", low: ":white_circle:" };
const VERB: Record<string, string> = {
  "incident.created": "New incident",
  "incident.recurred": "Recurring",
  "incident.acknowledged": "Acknowledged",
  "incident.severity_changed": "Severity changed",
  "incident.updated": "Updated",
  "incident.resolved": "Resolved",
  "incident.reopened": "Reopened",
};

/** Posts each notification to a Slack incoming webhook as a Block Kit message. */
export function slackNotifier(options: SlackNotifierOptions): Notifier {
  const o = parseOrThrow(OptionsSchema, options, "slackNotifier options");
  const tag = createHash("sha256").update(o.webhookUrl).digest("hex").slice(0, 8);
  return defineNotifier({
    name: o.name ?? `slack:${tag}`,
    timeoutMs: o.timeoutMs,
    retry: o.retry,
    async send(batch, { signal }) {
      for (const notification of batch) {
        // the URL's path is the secret: errors name the notifier, not the URL
        await postJson(o.webhookUrl, JSON.stringify(slackMessage(notification, o.linkTo)), {}, signal, undefined, `slack:${tag}`);
      }
    },
  });
}

/** The Block Kit message for one notification (a digest lists its incidents). */
export function slackMessage(notification: Notification, linkTo?: (incident: Incident) => string): { text: string; blocks: unknown[] } {
  if ("incidents" in notification.data) return digestMessage(notification.data.incidents);
  const incident = notification.data.incident;
  const verb = VERB[notification.type] ?? "Incident";
  const number = inline(String(incident.number));
  const title = orNone(inline(incident.title));
  const mark = MARK[incident.severity] ?? MARK.low;
  // Slack shows `text` in notifications and parses <...> in it: agent text goes in escaped
  const text = fit(`${verb}: #${number} ${title} (${inline(incident.severity)})`, LIMIT.text);
  const field = (label: string, value: string | null) => ({ type: "mrkdwn", text: fit(`*${label}*\n${value === null ? "none" : orNone(inline(value))}`, LIMIT.field) });
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: fit(`${verb}: #${number}`, LIMIT.header) } },
    { type: "section", text: { type: "mrkdwn", text: `${mark} *${fit(title, LIMIT.section - mark.length - 3)}*` } },
    {
      type: "section",
      fields: [
        field("Severity", incident.severity),
        field("Status", incident.status),
        field("Agent", incident.agentId),
        field("Run", incident.runId),
        field("Environment", incident.environment),
        field("Occurrences", String(incident.occurrences)),
      ],
    },
  ];
  const reason = inline(incident.severityReason.explanation);
  // Slack refuses an empty text element: no explanation, no context block
  if (reason.trim()) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: fit(reason, LIMIT.context) }] });
  const url = linkTo ? safeLink(linkTo, incident) : null;
  if (url) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open incident" }, url }] });
  return { text, blocks };
}

function digestMessage(incidents: readonly Incident[]): { text: string; blocks: unknown[] } {
  const text = `${incidents.length} incident update(s) for review`;
  const lines: string[] = [];
  let size = 0;
  for (const i of incidents.slice(0, 40)) {
    const agent = i.agentId === null ? "no agent" : orNone(inline(i.agentId));
    const line = `${MARK[i.severity] ?? MARK.low} #${inline(String(i.number))} ${fit(orNone(inline(i.title)), 200)} (${fit(agent, 100)}, ${inline(i.status)})`;
    // room is kept for the "…and N more" line
    if (size + line.length + 1 > LIMIT.section - 40) break;
    lines.push(line);
    size += line.length + 1;
  }
  if (lines.length < incidents.length) lines.push(`…and ${incidents.length - lines.length} more`);
  return {
    text,
    blocks: [
      { type: "header", text: { type: "plain_text", text: fit(text, LIMIT.header) } },
      { type: "section", text: { type: "mrkdwn", text: lines.length > 0 ? lines.join("\n") : "(none)" } },
    ],
  };
}

/** Slack's limits, in characters: a header's text, a section's text, one field, a context element; `text` kept short. */
const LIMIT = { header: 150, section: 3000, field: 2000, context: 3000, text: 3000 };

/** Control characters, bidi overrides and lone surrogates: they forge lines or break the JSON's text. */
const UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * Agent text on one line as Slack may show it: unsafe characters replaced, and `&`, `<`, `>`
 * escaped, so `<!channel>` cannot mention and `<https://evil|click>` cannot link.
 */
function inline(value: string): string {
  return String(value).replace(UNSAFE, "\uFFFD").replace(/[\r\n\t]+/g, " ").replace(/[&<>]/g, (c) => ENTITY[c]!);
}

/** Slack answers 400 for an empty text: say so instead. */
function orNone(text: string): string {
  return text.trim() ? text : "(none)";
}

/** Escaped text cut to `max` characters with "…", never inside an entity or a surrogate pair. */
function fit(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const amp = text.lastIndexOf("&", end - 1);
  if (amp >= 0 && amp > end - 5 && !text.slice(amp, end).includes(";")) end = amp;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The host's link, if it gives a usable one; a linkTo that throws costs the button, not the message. */
export function safeLink(linkTo: (incident: Incident) => string, incident: Incident): string | null {
  try {
    const url = linkTo(incident);
    if (typeof url !== "string" || url.length > 3000 || !/^https?:\/\/[^\s\u0000-\u001F\u007F-\u009F]+$/.test(url)) return null;
    return URL.canParse(url) ? url : null;
  } catch {
    return null;
  }
}
