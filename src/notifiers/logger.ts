import { ValidationError } from "../core/errors.js";
import type { Incident } from "../core/incident.js";
import { defineNotifier, type Notifier } from "./contract.js";

/** The pino-compatible part of a logger: `(object, message)`. */
export interface NotificationLogger {
  info(object: object, message?: string): unknown;
  warn(object: object, message?: string): unknown;
  error(object: object, message?: string): unknown;
}

const LEVEL: Record<Incident["severity"], keyof NotificationLogger> = { critical: "error", high: "warn", medium: "info", low: "info" };

/** Logs each notification: critical as `error`, high as `warn`, the rest as `info`. */
export function loggerNotifier(logger: NotificationLogger, options: { name?: string } = {}): Notifier {
  if (typeof logger !== "object" || logger === null || ["info", "warn", "error"].some((m) => typeof (logger as unknown as Record<string, unknown>)[m] !== "function")) {
    throw new ValidationError("loggerNotifier", [{ path: ["logger"], message: "must have info, warn and error methods", code: "invalid_type" }]);
  }
  return defineNotifier({
    name: options.name ?? "logger",
    retry: { attempts: 1 },
    async send(batch) {
      for (const notification of batch) {
        if ("incidents" in notification.data) {
          logger.info({ notification: notification.id, type: notification.type, incidents: notification.data.incidents.map((i) => i.id) }, `${notification.data.incidents.length} incident update(s) for review`);
          continue;
        }
        const incident = notification.data.incident;
        logger[LEVEL[incident.severity]](
          { notification: notification.id, type: notification.type, incident: incident.id, number: incident.number, severity: incident.severity, status: incident.status, agent: incident.agentId, run: incident.runId },
          `${notification.type}: #${incident.number} ${incident.title}`,
        );
      }
    },
  });
}
