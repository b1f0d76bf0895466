/** Every error code the library produces. */
export type IncidentErrorCode =
  | "VALIDATION"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "INVALID_TRANSITION"
  | "CONFLICT"
  | "STORAGE"
  | "CALLBACK"
  | "CLOSED";

/** One problem found while validating input: where it is and what is wrong. */
export interface ValidationIssue {
  /** Path to the offending field, e.g. `["action", "type"]`. Empty for the input itself. */
  readonly path: ReadonlyArray<string | number>;
  /** What is wrong with it, in words. */
  readonly message: string;
  /** The zod issue code, e.g. `invalid_type`. */
  readonly code: string;
}

/**
 * Marks errors of this library. A registered symbol, so two installed copies of the package (a
 * host's and a framework's) recognize each other's errors.
 */
const BRAND = Symbol.for("agent-incidents.error");

function branded(value: unknown): value is IncidentError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** `instanceof` for a subclass: branded by any copy of the library, with the subclass's code. */
function hasCode(value: unknown, code: IncidentErrorCode): boolean {
  return branded(value) && value.code === code;
}

/**
 * Base class of every error the library throws or rejects with. Test with
 * {@link isIncidentError} or `instanceof`, then switch on `code`. Both work across two installed
 * copies of the package.
 */
export class IncidentError extends Error {
  readonly code: IncidentErrorCode;

  constructor(code: IncidentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IncidentError";
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Makes `instanceof IncidentError` true for this library's errors from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return branded(value);
  }
}

/** Input failed validation; nothing was written. `issues` names every offending field. */
export class ValidationError extends IncidentError {
  /** Makes `instanceof ValidationError` true for an error with code `VALIDATION` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "VALIDATION");
  }

  readonly issues: readonly ValidationIssue[];

  constructor(subject: string, issues: readonly ValidationIssue[]) {
    super("VALIDATION", `Invalid ${subject}: ${issues.map(formatIssue).join("; ")}`);
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/** No such incident in the actor's workspace (another workspace's incident looks the same). */
export class NotFoundError extends IncidentError {
  /** Makes `instanceof NotFoundError` true for an error with code `NOT_FOUND` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "NOT_FOUND");
  }

  readonly id: string;

  constructor(id: string) {
    super("NOT_FOUND", `Incident ${id} not found`);
    this.name = "NotFoundError";
    this.id = id;
  }
}

/** The actor's role does not allow the operation. Raised before any lookup. */
export class ForbiddenError extends IncidentError {
  /** Makes `instanceof ForbiddenError` true for an error with code `FORBIDDEN` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "FORBIDDEN");
  }

  readonly actorId: string;
  readonly role: string;
  readonly permission: string;

  constructor(actorId: string, role: string, permission: string) {
    super("FORBIDDEN", `Actor ${actorId} (role ${role}) may not ${permission}`);
    this.name = "ForbiddenError";
    this.actorId = actorId;
    this.role = role;
    this.permission = permission;
  }
}

/** A status change outside the lifecycle table. `allowed` lists what `from` may move to. */
export class InvalidTransitionError extends IncidentError {
  /** Makes `instanceof InvalidTransitionError` true for an error with code `INVALID_TRANSITION` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "INVALID_TRANSITION");
  }

  readonly from: string;
  readonly to: string;
  readonly allowed: readonly string[];

  constructor(from: string, to: string, allowed: readonly string[]) {
    const options = allowed.length > 0 ? allowed.join(", ") : "nothing";
    super("INVALID_TRANSITION", `Cannot move an incident from ${from} to ${to}; from ${from} it can move to: ${options}`);
    this.name = "InvalidTransitionError";
    this.from = from;
    this.to = to;
    this.allowed = allowed;
  }
}

/** Someone else changed the incident first: `expectedVersion` no longer matches. */
export class ConflictError extends IncidentError {
  /** Makes `instanceof ConflictError` true for an error with code `CONFLICT` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "CONFLICT");
  }

  readonly id: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;

  constructor(id: string, expectedVersion: number, actualVersion: number) {
    super(
      "CONFLICT",
      `Incident ${id} is at version ${actualVersion}, not the expected ${expectedVersion}: it was changed by someone else`,
    );
    this.name = "ConflictError";
    this.id = id;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/**
 * The store failed. `adapter` names the store; `cause` holds the driver's error. `retryable` says
 * whether the same call may succeed later (a lost connection, a lock held too long, a failover);
 * `false` means retrying will not help (a corrupt row, a schema from a newer version).
 */
export class StorageError extends IncidentError {
  /** Makes `instanceof StorageError` true for an error with code `STORAGE` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "STORAGE");
  }

  readonly adapter: string;
  readonly retryable: boolean;

  constructor(adapter: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super("STORAGE", `${adapter} store: ${message}`, options);
    this.name = "StorageError";
    this.adapter = adapter;
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * One of the host's own callbacks failed: `authorize`, a severity rule, `dedup.fingerprint`,
 * `ids`, `clock` or the `RunSource`. `option` names it; `cause` is what it threw. Nothing was
 * written.
 */
export class CallbackError extends IncidentError {
  /** Makes `instanceof CallbackError` true for an error with code `CALLBACK` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "CALLBACK");
  }

  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super("CALLBACK", `${option}: ${message}`, options);
    this.name = "CallbackError";
    this.option = option;
  }
}

/** The incidents instance (or the store) was closed. */
export class ClosedError extends IncidentError {
  /** Makes `instanceof ClosedError` true for an error with code `CLOSED` from any installed copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, "CLOSED");
  }

  constructor(what = "incidents") {
    super("CLOSED", `${what} is closed`);
    this.name = "ClosedError";
  }
}

/**
 * The error as callers should see it: an `IncidentError` as it is, anything else (a driver's
 * error) wrapped in a `StorageError` of `adapter` that keeps it as `cause`. `retryable` decides
 * whether the driver's error is transient.
 */
export function asIncidentError(error: unknown, adapter: string, what?: string, retryable?: (error: unknown) => boolean): IncidentError {
  if (isIncidentError(error)) return error;
  const message = describeError(error);
  return new StorageError(adapter, what ? `${what}: ${message}` : message, { cause: error, retryable: retryable?.(error) ?? false });
}

/** True for any error raised by this library, also by another installed copy of it. */
export function isIncidentError(value: unknown): value is IncidentError {
  return branded(value);
}

/** The message of anything thrown, without trusting it: getters may throw, proxies may be revoked. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return String(error.message);
    return String(error);
  } catch {
    return "(an error that cannot be described)";
  }
}

function formatIssue(issue: ValidationIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "(input)";
  return `${where}: ${issue.message}`;
}
