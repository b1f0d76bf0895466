/**
 * `agent-incidents deliveries`: the store's outbox for an admin, the dead letters among it, and
 * sending them again. The CLI has no notifiers, so it sends nothing itself: `retry` makes the
 * deliveries due again, and the runtime delivering from this store sends them.
 */
import type { DeliveryRecord, Incidents } from "agent-incidents";
import { cell, didYouMean, paint, plain, shortTime, UsageError } from "./text.js";

const LIST_STATUSES = ["pending", "delivered", "dead"] as const;
const RETRY_STATUSES = ["pending", "dead"] as const;
const SUBCOMMANDS = ["retry"];

export interface DeliveriesValues {
  status?: string | undefined;
  notifier?: string | undefined;
  limit?: string | undefined;
  to?: string | undefined;
}

export type DeliveriesPlan =
  | { action: "list"; query: { status?: DeliveryRecord["status"]; notifier?: string; limit?: number } }
  | { action: "retry"; target: string[] | { status?: "pending" | "dead"; notifier?: string }; to?: string };

/** What `deliveries [retry ...]` asks for, or a `UsageError` (exit 2) before the store is opened. */
export function planDeliveries(args: readonly string[], values: DeliveriesValues): DeliveriesPlan {
  const [sub, ...ids] = args;
  const status = <T extends string>(allowed: readonly T[], what: string): T | undefined => {
    if (values.status === undefined) return undefined;
    if ((allowed as readonly string[]).includes(values.status)) return values.status as T;
    throw new UsageError(`--status for ${what} must be ${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}, not "${values.status}"${didYouMean(values.status, allowed)}`);
  };
  const notifier = values.notifier === undefined ? {} : { notifier: values.notifier };
  if (sub === undefined) {
    if (values.to !== undefined) throw new UsageError("--to goes with deliveries retry");
    if (values.limit !== undefined && !(/^\d{1,3}$/.test(values.limit) && Number(values.limit) >= 1 && Number(values.limit) <= 500)) {
      throw new UsageError("--limit must be a whole number from 1 to 500");
    }
    const listed = status(LIST_STATUSES, "deliveries");
    return {
      action: "list",
      query: { ...(listed ? { status: listed } : {}), ...notifier, ...(values.limit !== undefined ? { limit: Number(values.limit) } : {}) },
    };
  }
  if (sub !== "retry") throw new UsageError(`unknown deliveries command "${sub}"${didYouMean(sub, SUBCOMMANDS)}: deliveries lists, deliveries retry sends again`);
  if (values.limit !== undefined) throw new UsageError("deliveries retry does not take --limit");
  const to = values.to === undefined ? {} : { to: values.to };
  const retried = status(RETRY_STATUSES, "deliveries retry");
  if (ids.length > 0) {
    if (retried !== undefined || values.notifier !== undefined) throw new UsageError("deliveries retry takes delivery ids, or --status and --notifier, not both");
    return { action: "retry", target: ids, ...to };
  }
  if (retried === undefined && values.notifier === undefined) {
    throw new UsageError("deliveries retry needs delivery ids, or --status dead|pending, or --notifier NAME (nothing would re-send everything)");
  }
  return { action: "retry", target: { ...(retried ? { status: retried } : {}), ...notifier }, ...to };
}

export async function runDeliveries(plan: DeliveriesPlan, incidents: Incidents): Promise<{ json: unknown; text: (color: boolean) => string }> {
  if (plan.action === "list") {
    const records = await incidents.deliveries.list(plan.query);
    return { json: records, text: (color) => table(records, color) };
  }
  const to = plan.to === undefined ? {} : { to: plan.to };
  // ids take `to` as an option, a filter inside itself
  const count = Array.isArray(plan.target) ? await incidents.deliveries.retry(plan.target, to) : await incidents.deliveries.retry({ ...plan.target, ...to });
  return { json: { count }, text: () => retried(plan, count) };
}

function retried(plan: Extract<DeliveriesPlan, { action: "retry" }>, count: number): string {
  const named = Array.isArray(plan.target) ? plan.target.length : null;
  if (count === 0) {
    return named === null ? "no pending or dead delivery matches: nothing to send again" : `none of the ${named === 1 ? "delivery" : `${named} deliveries`} named is pending or dead (delivered, or unknown): nothing to send again`;
  }
  const what = `${count} ${count === 1 ? "delivery" : "deliveries"}`;
  const of = named !== null && named !== count ? ` (of ${named} named; the others are delivered or unknown)` : "";
  const to = plan.to === undefined ? "" : `, to notifier "${plain(plan.to)}"`;
  return `${what}${of} will be sent again from the first try${to}.\nThis command sends nothing itself: the runtime delivering from this store sends them.`;
}

const STATUS_STYLE = { pending: "yellow", delivered: "green", dead: "red" } as const;

function table(records: readonly DeliveryRecord[], color: boolean): string {
  if (records.length === 0) return "no deliveries match";
  const idWidth = Math.max(2, ...records.map((r) => plain(r.id).length));
  const header = `${"ID".padEnd(idWidth)} ${"NOTIFIER".padEnd(20)} ${"STATUS".padEnd(9)} ${"TRIES".padEnd(5)} ${"TYPE".padEnd(16)} ${"INCIDENT".padEnd(28)} ${"CREATED".padEnd(19)} LAST ERROR`;
  const rows = records.map((r) => {
    const status = paint(color, STATUS_STYLE[r.status] ?? "reset", cell(r.status, 9));
    // the id is printed whole: it is what `deliveries retry ID` takes
    return `${plain(r.id).padEnd(idWidth)} ${cell(r.notifier, 20)} ${status} ${String(r.attempts).padEnd(5)} ${cell(r.notification.type.replace(/^incident\./, ""), 16)} ${cell(subject(r), 28)} ${cell(shortTime(r.createdAt), 19)} ${cell(r.lastError ?? "-", 100).trimEnd()}`;
  });
  return [paint(color, "bold", header), ...rows].join("\n");
}

/** Which incident: `#3 in ws_acme`, or the numbers of a digest's. */
function subject(record: DeliveryRecord): string {
  const data = record.notification.data;
  if ("incidents" in data) return `${data.incidents.map((i) => `#${i.number}`).join(" ")} in ${record.workspaceId}`;
  return `#${data.incident.number} in ${record.workspaceId}`;
}
