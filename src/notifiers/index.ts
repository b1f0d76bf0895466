/**
 * Notifiers (webhook, Slack, PagerDuty, callback, logger), routes and the notifier contract.
 *
 * @packageDocumentation
 * @module agent-incidents/notifiers
 */
export { defineNotifier, DeliveryError, NOTIFICATION_EVENTS } from "./contract.js";
export type { Notification, NotificationEvent, NotificationType, Notifier, RetryPolicy, Route, SendContext } from "./contract.js";
export { webhookNotifier, verifyWebhook, WebhookVerificationError } from "./webhook.js";
export type { WebhookNotifierOptions } from "./webhook.js";
export { slackNotifier, slackMessage } from "./slack.js";
export type { SlackNotifierOptions } from "./slack.js";
export { pagerdutyNotifier, pagerdutyEvents } from "./pagerduty.js";
export type { PagerdutyEvent, PagerdutyNotifierOptions } from "./pagerduty.js";
export { callbackNotifier } from "./callback.js";
export { loggerNotifier } from "./logger.js";
export type { NotificationLogger } from "./logger.js";
export { routeMatches, RouteSchema } from "./routing.js";
export { backoff, DEFAULT_RETRY } from "./delivery.js";
