/** Every error code the library produces. */
export type IncidentErrorCode =
  | "VALIDATION"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "INVALID_TRANSITION"
  | "CONFLICT"
  | "STORAGE"
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
 * Base class of every error the library throws or rejects with. Test with
 * {@link isIncidentError} or `instanceof`, then switch on `code`.
 */
export class IncidentError extends Error {
  readonly code: IncidentErrorCode;

  constructor(code: IncidentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IncidentError";
    this.code = code;
  }
}

/** Input failed validation; nothing was written. `issues` names every offending field. */
export class ValidationError extends IncidentError {
  readonly issues: readonly ValidationIssue[];

  constructor(subject: string, issues: readonly ValidationIssue[]) {
    super("VALIDATION", `Invalid ${subject}: ${issues.map(formatIssue).join("; ")}`);
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/** No such incident in the actor's workspace (another workspace's incident looks the same). */
export class NotFoundError extends IncidentError {
  readonly id: string;

  constructor(id: string) {
    super("NOT_FOUND", `Incident ${id} not found`);
    this.name = "NotFoundError";
    this.id = id;
  }
}

/** The actor's role does not allow the operation. Raised before any lookup. */
export class ForbiddenError extends IncidentError {
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

/** The store failed. `adapter` names the store; `cause` holds the driver's error. */
export class StorageError extends IncidentError {
  readonly adapter: string;

  constructor(adapter: string, message: string, options?: { cause?: unknown }) {
    super("STORAGE", `${adapter} store: ${message}`, options);
    this.name = "StorageError";
    this.adapter = adapter;
  }
}

/** The incidents instance (or the store) was closed. */
export class ClosedError extends IncidentError {
  constructor(what = "incidents") {
    super("CLOSED", `${what} is closed`);
    this.name = "ClosedError";
  }
}

/**
 * The error as callers should see it: an `IncidentError` as it is, anything else (a driver's
 * error) wrapped in a `StorageError` of `adapter` that keeps it as `cause`.
 */
export function asIncidentError(error: unknown, adapter: string, what?: string): IncidentError {
  if (isIncidentError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StorageError(adapter, what ? `${what}: ${message}` : message, { cause: error });
}

/** True for any error raised by this library. */
export function isIncidentError(value: unknown): value is IncidentError {
  return value instanceof IncidentError;
}

function formatIssue(issue: ValidationIssue): string {
  const where = issue.path.length > 0 ? issue.path.join(".") : "(input)";
  return `${where}: ${issue.message}`;
}
