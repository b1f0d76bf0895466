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

/** Strings up to this long are copied whole whatever the budget: ids, timestamps and names. */
const SHORT = 256;
/** Longest object key kept, in characters. */
const MAX_KEY = 256;

/** The first `n` items of an iterator, without reading the rest. */
function* take<T>(items: Iterator<T>, n: number): Generator<T> {
  for (let i = 0; i < n; i++) {
    const next = items.next();
    if (next.done) return;
    yield next.value;
  }
}

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
  // the objects above the one being copied (at most maxDepth): a cycle is one of them again
  const ancestors: object[] = [];
  // the path being copied, for error messages: pushed and popped, copied only when reading fails
  const path: Array<string | number> = [];
  // one large object shared by many places (the same payload on every event) is enumerated once
  const keysOf = new Map<object, string[]>();

  // What a walk returns for a value the budget has no room for: the caller leaves it out.
  const OMIT = Symbol("omit");

  const walk = (input: unknown): unknown => {
    if (budget.nodes <= 0) return OMIT;
    budget.nodes -= 1;
    switch (typeof input) {
      case "string":
        return copyString(input);
      case "number":
        return Number.isFinite(input) ? input : null;
      case "boolean":
        return input;
      case "bigint":
        return copyString(input.toString());
      case "undefined":
      case "function":
      case "symbol":
        return undefined;
    }
    if (input === null) return null;
    const object = input as object;
    if (ancestors.includes(object)) return "[Circular]";
    if (path.length >= limits.maxDepth) return "[truncated: too deep]";
    ancestors.push(object);
    try {
      if (Array.isArray(object)) return copyArray(object);
      if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return `[binary: ${object.byteLength} bytes]`;
      if (object instanceof String || object instanceof Number || object instanceof Boolean) return walk(object.valueOf());
      if (object instanceof Map) return copyEntries(object);
      if (object instanceof Set) return copyArray([...take(object.values(), limits.maxEntries)]);
      const toJSON = (object as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") {
        const json: unknown = toJSON.call(object);
        return json === object ? copyObject(object) : walk(json);
      }
      return object instanceof Error ? copyError(object) : copyObject(object);
    } catch (error) {
      throw unreadable(path, error);
    } finally {
      ancestors.pop();
    }
  };

  /** Walks `input` as the item `key` of the value being copied. */
  const walkAt = (input: unknown, key: string | number): unknown => {
    path.push(key);
    try {
      return walk(input);
    } finally {
      path.pop();
    }
  };

  // Short strings (ids, timestamps, names) never count against the total, so they survive intact
  const copyString = (input: string): string => {
    if (input.length <= SHORT) return input;
    const out = truncateString(input, budget.chars > 0 ? Math.min(limits.maxString, Math.max(SHORT, budget.chars)) : SHORT);
    budget.chars -= out.length;
    return out;
  };

  const unreadable = (at: ReadonlyArray<string | number>, error: unknown): ValidationError =>
    error instanceof ValidationError
      ? error
      : new ValidationError(subject, [{ path: [...at], message: `could not be read (${describeError(error)})`, code: "custom" }]);

  /** Reads one property, naming it when its getter throws. */
  const read = (object: object, key: string | number): unknown => {
    try {
      return (object as Record<string | number, unknown>)[key];
    } catch (error) {
      throw unreadable([...path, key], error);
    }
  };

  /** Items in order; under a tail key the newest are copied first and the oldest dropped. */
  const copyArray = (array: readonly unknown[]): unknown[] => {
    const length = array.length;
    const tail = path.length > 0 && TAIL_KEYS.has(String(path[path.length - 1]));
    const count = Math.min(length, limits.maxEntries);
    const out: unknown[] = [];
    for (let n = 0; n < count; n++) {
      const i = tail ? length - 1 - n : n;
      const item = walkAt(read(array, i), i);
      if (item === OMIT) break;
      out.push(item ?? null);
    }
    return tail ? out.reverse() : out;
  };

  /** Keys in order; plain values are copied before nested ones, so a huge sibling cannot crowd them out. */
  const copyObject = (object: object): Record<string, unknown> => {
    let all = keysOf.get(object);
    if (!all) {
      all = Object.keys(object);
      if (all.length > 32) keysOf.set(object, all);
    }
    const count = Math.min(all.length, limits.maxEntries);
    const values: unknown[] = new Array(count);
    let nested = false;
    for (let i = 0; i < count; i++) {
      let v = read(object, all[i]!);
      if (typeof v === "object" && v !== null) nested = true;
      else v = walkAt(v, all[i]!);
      values[i] = v;
    }
    if (nested) {
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (typeof v === "object" && v !== null) values[i] = walkAt(v, all[i]!);
      }
    }
    const out: Record<string, unknown> = {};
    let left = all.length - count;
    for (let i = 0; i < count; i++) {
      const key = all[i]!;
      if (values[i] === OMIT) left += 1;
      else setKey(out, key.length > MAX_KEY ? truncateString(key, MAX_KEY) : key, values[i]);
    }
    if (left > 0) setKey(out, "…truncated", `${left} more keys left out`);
    return out;
  };

  const copyEntries = (map: Map<unknown, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of take(map.entries(), limits.maxEntries)) {
      const name = truncateString(String(key), MAX_KEY);
      const copy = walkAt(value, name);
      if (copy !== OMIT) setKey(out, name, copy);
    }
    if (map.size > limits.maxEntries) setKey(out, "…truncated", `${map.size - limits.maxEntries} more keys left out`);
    return out;
  };

  const copyError = (error: Error): Record<string, unknown> => {
    const out = copyObject(error);
    for (const key of ["name", "message", "stack", "code"] as const) {
      if (out[key] !== undefined) continue;
      const field = walkAt(read(error, key), key);
      if (field !== undefined && field !== OMIT) setKey(out, key, field);
    }
    return out;
  };

  const result = walk(value);
  return result === OMIT ? undefined : result;
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

/**
 * A deep copy of JSON data (plain objects, arrays, strings, numbers, booleans, null), as the
 * library's own records are: several times faster than `structuredClone` for them. Keys such as
 * `__proto__` stay plain data.
 */
export function copyJson<T>(value: T): T {
  return copyData(value, false);
}

/** A deep-frozen {@link copyJson}: one pass, for values every listener or host callback shares. */
export function frozenJson<T>(value: T): T {
  return copyData(value, true);
}

function copyData<T>(value: T, freeze: boolean): T {
  if (typeof value !== "object" || value === null) return value;
  let out: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) {
    out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyData(value[i], freeze);
  } else {
    out = {};
    for (const key of Object.keys(value)) setKey(out, key, copyData((value as Record<string, unknown>)[key], freeze));
  }
  return (freeze ? Object.freeze(out) : out) as T;
}

/** Freezes `value` and everything it holds, in place, and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
