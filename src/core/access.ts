import type { Actor, Role } from "./schemas.js";

/** What an operator call needs the actor to be allowed to do. */
export type Permission = "read" | "note" | "triage" | "resolve" | "escalate" | "silence";

const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ["read"],
  approver: ["read", "note"],
  operator: ["read", "note", "triage", "resolve", "escalate", "silence"],
  admin: ["read", "note", "triage", "resolve", "escalate", "silence"],
};

/**
 * Decides whether an actor may do something. Replace it with the `authorize` option; it is asked
 * before any lookup, so a refusal never reveals whether an incident exists.
 */
export type Authorize = (actor: Actor, permission: Permission) => boolean;

/** The default policy: viewers read, approvers read and add notes, operators and admins do all. */
export const defaultAuthorize: Authorize = (actor, permission) => GRANTS[actor.role].includes(permission);
