import { createHash } from "node:crypto";
import { z } from "zod";
import type { Incident } from "../core/incident.js";
import { parseOrThrow } from "../core/schemas.js";
import { defineNotifier, type Notification, type Notifier } from "./contract.js";
import { HttpNotifierOptions, LinkToSchema, postJson, type HttpNotifierBaseOptions } from "./http.js";

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
    webhookUrl: z.string().url().refine((u) => u.startsWith("https://") || u.startsWith("http://"), "must be an http(s) URL"),
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
        // the URL holds the secret: errors name the notifier, not the URL
        await postJson(o.webhookUrl, JSON.stringify(slackMessage(notification, o.linkTo)), {}, signal).catch((error: Error) => {
          throw Object.assign(error, { message: error.message.replace(/POST \S+/, `POST slack:${tag}`) });
        });
      }
    },
  });
}

/** The Block Kit message for one notification (a digest lists its incidents). */
export function slackMessage(notification: Notification, linkTo?: (incident: Incident) => string): { text: string; blocks: unknown[] } {
  const plain = (text: string) => text.replace(/[<>&]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;" })[c]!);
  if ("incidents" in notification.data) {
    const incidents = notification.data.incidents;
    const lines = incidents.slice(0, 40).map((i) => `${MARK[i.severity]} #${i.number} ${plain(i.title)} (${i.agentId ?? "no agent"}, ${i.status})`);
    if (incidents.length > 40) lines.push(`…and ${incidents.length - 40} more`);
    const text = `${incidents.length} incident update(s) for review`;
    return { text, blocks: [{ type: "header", text: { type: "plain_text", text } }, { type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, 2900) } }] };
  }
  const incident = notification.data.incident;
  // Slack shows `text` in notifications and parses <...> in it: agent text goes in escaped
  const text = `${VERB[notification.type] ?? "Incident"}: #${incident.number} ${plain(incident.title)} (${incident.severity})`;
  const field = (label: string, value: string) => ({ type: "mrkdwn", text: `*${label}*\n${plain(value).slice(0, 500)}` });
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: `${VERB[notification.type] ?? "Incident"}: #${incident.number}`.slice(0, 150) } },
    { type: "section", text: { type: "mrkdwn", text: `${MARK[incident.severity]} *${plain(incident.title).slice(0, 2900)}*` } },
    {
      type: "section",
      fields: [
        field("Severity", incident.severity),
        field("Status", incident.status),
        field("Agent", incident.agentId ?? "none"),
        field("Run", incident.runId ?? "none"),
        field("Environment", incident.environment),
        field("Occurrences", String(incident.occurrences)),
      ],
    },
    { type: "context", elements: [{ type: "mrkdwn", text: plain(incident.severityReason.explanation).slice(0, 2900) }] },
  ];
  const url = linkTo ? safeLink(linkTo, incident) : null;
  if (url) blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open incident" }, url }] });
  return { text, blocks };
}

/** The host's link, if it gives a usable one; a linkTo that throws costs the button, not the message. */
export function safeLink(linkTo: (incident: Incident) => string, incident: Incident): string | null {
  try {
    const url = linkTo(incident);
    return typeof url === "string" && /^https?:\/\//.test(url) && url.length <= 3000 ? url : null;
  } catch {
    return null;
  }
}
