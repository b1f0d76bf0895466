import { InvalidTransitionError } from "./errors.js";
import type { Status } from "./schemas.js";

/**
 * The status lifecycle. `resolved -> open` is a reopen; every unresolved status may resolve.
 */
export const TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  open: ["acknowledged", "investigating", "resolved"],
  acknowledged: ["investigating", "resolved"],
  investigating: ["resolved"],
  resolved: ["open"],
};

/** The statuses `status` may move to. Pure. */
export function nextStatuses(status: Status): readonly Status[] {
  return TRANSITIONS[status];
}

/** Whether `from -> to` is in the lifecycle table. Pure; never throws. */
export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws {@link InvalidTransitionError} naming the allowed statuses unless `from -> to` is allowed. */
export function assertTransition(from: Status, to: Status): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to, TRANSITIONS[from]);
}

export function isResolved(status: Status): boolean {
  return status === "resolved";
}
