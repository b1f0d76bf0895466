import { describeError, ValidationError } from "./errors.js";
import { truncateString } from "./text.js";

/** Bounds of {@link toPlain}: whatever the input, copying it costs at most this much. */
export interface PlainLimits {
  /** Longest string kept, in characters; longer ones are cut and marked. */
  maxString: number;
  /** Most keys kept per object and items per array. */
  maxEntries: number;
  /** Deepest nesting kept. */
  maxDepth: number;
  /** Most values copied in all; later ones become a marker. */
  maxNodes: number;
  /** Most string characters copied in all; later strings become a marker. */
  maxChars: number;
}

/** The bounds every reported signal is copied within: far above what any stored field keeps. */
export const INPUT_LIMITS: PlainLimits = {
  maxString: 16 * 1024,
  maxEntries: 1000,
  maxDepth: 16,
  maxNodes: 20_000,
  maxChars: 1024 * 1024,
};

/** Arrays under these keys keep their last items when cut (a run's latest events matter most). */
const TAIL_KEYS = new Set(["events"]);

/**
 * A JSON-safe, bounded deep copy of untrusted input, made before anything else looks at it:
 * getters run once, here; a getter that throws or a revoked proxy is a `ValidationError` naming
 * the field; functions and symbols are dropped, BigInts become strings, non-finite numbers
 * `null`, dates ISO strings, errors `{ name, message, stack, ... }`, cycles `"[Circular]"`;
 * keys such as `__proto__` stay plain data. Strings, arrays, objects, depth and the total size
 * are capped (see {@link PlainLimits}), so a report of any size costs about the same. Pure.
 */
export function toPlain(value: unknown, subject: string, limits: PlainLimits = INPUT_LIMITS): unknown {
  const budget = { nodes: limits.maxNodes, chars: limits.maxChars };
  const seen = new Set<object>();

  const walk = (input: unknown, path: Array<string | number>): unknown => {
    if (--budget.nodes < 0) return "[truncated: too many values]";
    switch (typeof input) {
      case "string": {
        if (budget.chars <= 0) return "[truncated: input too large]";
        const out = truncateString(input, Math.min(limits.maxString, budget.chars));
        budget.chars -= out.length;
        return out;
      }
      case "number":
        return Number.isFinite(input) ? input : null;
      case "boolean":
        return input;
      case "bigint":
        return input.toString();
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
    }
    if (input === null) return null;
    const object = input as object;
    if (seen.has(object)) return "[Circular]";
    if (path.length >= limits.maxDepth) return "[truncated: too deep]";
    try {
      seen.add(object);
      if (Array.isArray(object)) return copyArray(object, path);
      const toJSON = (object as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") {
        const json: unknown = toJSON.call(object);
        return json === object ? copyObject(object, path) : walk(json, path);
      }
      return object instanceof Error ? copyError(object, path) : copyObject(object, path);
    } catch (error) {
      throw unreadable(path, error);
    } finally {
      seen.delete(object);
    }
  };

  const unreadable = (path: Array<string | number>, error: unknown): ValidationError =>
    error instanceof ValidationError
      ? error
      : new ValidationError(subject, [{ path, message: `could not be read (${describeError(error)})`, code: "custom" }]);

  /** Reads one property, naming it when its getter throws. */
  const read = (object: object, key: string | number, path: Array<string | number>): unknown => {
    try {
      return (object as Record<string | number, unknown>)[key];
    } catch (error) {
      throw unreadable([...path, key], error);
    }
  };

  const copyArray = (array: readonly unknown[], path: Array<string | number>): unknown[] => {
    const length = array.length;
    const tail = TAIL_KEYS.has(String(path[path.length - 1]));
    const start = tail ? Math.max(0, length - limits.maxEntries) : 0;
    const end = Math.min(length, start + limits.maxEntries);
    const out: unknown[] = [];
    for (let i = start; i < end; i++) out.push(walk(read(array, i, path), [...path, i]) ?? null);
    if (end - start < length) {
      const note = `[truncated: ${length - (end - start)} more items]`;
      if (tail) out.unshift(note);
      else out.push(note);
    }
    return out;
  };

  const copyObject = (object: object, path: Array<string | number>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(object);
    const kept = Math.min(keys.length, limits.maxEntries);
    for (let i = 0; i < kept; i++) {
      const key = keys[i]!;
      setKey(out, key, walk(read(object, key, path), [...path, key]));
    }
    if (kept < keys.length) setKey(out, "…truncated", `${keys.length - kept} more keys left out`);
    return out;
  };

  const copyError = (error: Error, path: Array<string | number>): Record<string, unknown> => {
    const out = copyObject(error, path);
    for (const key of ["name", "message", "stack", "code"] as const) {
      if (out[key] !== undefined) continue;
      const field = walk(read(error, key, path), [...path, key]);
      if (field !== undefined) setKey(out, key, field);
    }
    return out;
  };

  return walk(value, []);
}

/**
 * Sets `key` as an own, enumerable data property, also when the key is `__proto__` (a plain
 * assignment would replace the object's prototype instead).
 */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) return;
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Whether `value` is a plain object (as `toPlain` makes them), not an array or a class instance. */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
