import { ValidationError } from "../core/errors.js";
import { defineNotifier, type Notification, type Notifier, type RetryPolicy, type SendContext } from "./contract.js";

/**
 * Hands each batch to your function; a rejection is retried like any failed delivery.
 *
 * @example
 * ```ts
 * routes: [{ notifier: callbackNotifier(async ([n]) => queue.publish(n)), minSeverity: "high" }]
 * ```
 */
export function callbackNotifier(
  fn: (batch: readonly Notification[], context: SendContext) => void | Promise<void>,
  options: { name?: string; timeoutMs?: number; retry?: Partial<RetryPolicy> } = {},
): Notifier {
  if (typeof fn !== "function") throw new ValidationError("callbackNotifier", [{ path: ["fn"], message: "must be a function", code: "invalid_type" }]);
  return defineNotifier({
    name: options.name ?? `callback:${fn.name || "anonymous"}`,
    timeoutMs: options.timeoutMs,
    retry: options.retry,
    async send(batch, context) {
      await fn(batch, context);
    },
  });
}
