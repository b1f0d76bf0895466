import { ValidationError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import { defineNotifier, type Notifier } from "./contract.js";

/** The pino-compatible part of a logger: `(object, message)`. */
export interface NotificationLogger {
  /** Receives notifications of medium and low severity incidents, and digests. */
  info(object: object, message?: string): unknown;
  /** Receives notifications of high severity incidents. */
  warn(object: object, message?: string): unknown;
  /** Receives notifications of critical incidents. */
  error(object: object, message?: string): unknown;
}

const LEVEL: Record<Incident["severity"], keyof NotificationLogger> = { critical: "error", high: "warn", medium: "info", low: "info" };

/** C0 and C1 controls (newlines and ANSI escapes among them) and bidi overrides: they forge log lines. */
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Agent text as a log may carry it: on one line, with nothing a terminal or a parser acts on, at most `max` characters. */
function safe(value: string | null, max = 200): string | null {
  if (value === null) return null;
  const text = String(value).replace(CONTROL, "").replace(LONE_SURROGATE, "\uFFFD");
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Logs each notification: critical as `error`, high as `warn`, the rest as `info`. Every string
 * is stripped of control characters and bidi overrides, and the message is kept to 1000 characters.
 */
export function loggerNotifier(logger: NotificationLogger, options: { name?: string } = {}): Notifier {
  if (typeof logger !== "object" || logger === null || ["info", "warn", "error"].some((m) => typeof (logger as unknown as Record<string, unknown>)[m] !== "function")) {
    throw new ValidationError("loggerNotifier", [{ path: ["logger"], message: "must have info, warn and error methods", code: "invalid_type" }]);
  }
  return defineNotifier({
    name: options.name ?? "logger",
    retry: { attempts: 1 },
    async send(batch) {
      for (const notification of batch) {
        const id = safe(notification.id);
        const type = safe(notification.type);
        if ("incidents" in notification.data) {
          logger.info({ notification: id, type, incidents: notification.data.incidents.map((i) => safe(i.id)) }, `${notification.data.incidents.length} incident update(s) for review`);
          continue;
        }
        const incident = notification.data.incident;
        logger[LEVEL[incident.severity] ?? "info"](
          {
            notification: id,
            type,
            incident: safe(incident.id),
            number: incident.number,
            severity: safe(incident.severity),
            status: safe(incident.status),
            agent: safe(incident.agentId),
            run: safe(incident.runId),
          },
          safe(`${type}: #${incident.number} ${incident.title}`, 1000)!,
        );
      }
    },
  });
}
