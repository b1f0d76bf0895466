export const REDACTED = "[REDACTED]";

/** Longest string kept, in characters (8 KiB). */
export const MAX_STRING = 8 * 1024;
const MAX_DEPTH = 12;

/** Extra redaction on top of the defaults. */
export interface RedactOptions {
  /** More key names to redact: a string matches case- and separator-insensitively, as a substring. */
  keys?: ReadonlyArray<string | RegExp>;
  /** More value patterns to replace with `[REDACTED]` inside strings. Use the `g` flag. */
  patterns?: readonly RegExp[];
}

const SENSITIVE_KEY_PARTS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "apikey",
  "authorization",
  "cookie",
  "credential",
  "privatekey",
  "accesskey",
  "sessionid",
  "cvv",
  "cvc",
  "cardnumber",
  "iban",
  "ssn",
];

/** Bearer / Basic credentials in free text. */
const AUTH_SCHEME = /\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
/** 13 to 19 digits, optionally separated by single spaces or dashes. Luhn-checked before redacting. */
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Whether a key names a secret: `apiKey`, `API-KEY`, `x_api_key`, `accessToken`, `Set-Cookie`, ... */
export function isSensitiveKey(key: string, extra: RedactOptions["keys"] = []): boolean {
  const normalized = normalizeKey(key);
  if (normalized.endsWith("token") || SENSITIVE_KEY_PARTS.some((part) => normalized.includes(part))) return true;
  return extra.some((k) => (typeof k === "string" ? normalized.includes(normalizeKey(k)) : k.test(key)));
}

/** Luhn checksum, as card numbers carry. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, "");
  return digits.length >= 13 && digits.length <= 19 && passesLuhn(digits);
}

/** Redacts secrets inside free text and caps its length, marking the truncation. */
export function redactString(value: string, options: RedactOptions = {}): string {
  let out = value.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(CARD_CANDIDATE, (m) => (isCardNumber(m) ? REDACTED : m));
  for (const pattern of options.patterns ?? []) out = out.replace(pattern, REDACTED);
  return truncateString(out);
}

export function truncateString(value: string, max = MAX_STRING): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max)}…[truncated ${value.length - max} chars]`;
}

/**
 * A deep copy of `value` with secrets replaced by `[REDACTED]`: values under sensitive keys, card
 * numbers (Luhn-checked) and bearer tokens inside strings. Strings are capped at 8 KiB, cycles
 * become `[Circular]`, and what is not JSON (functions, symbols) is dropped. Pure.
 */
export function redact<T>(value: T, options: RedactOptions = {}): T {
  return walk(value, options, 0, new WeakSet()) as T;
}

function walk(value: unknown, options: RedactOptions, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactString(value, options);
  if (typeof value === "number") {
    return Number.isInteger(value) && isCardNumber(String(Math.abs(value))) ? REDACTED : Number.isFinite(value) ? value : null;
  }
  if (typeof value === "bigint") return redactString(value.toString(), options);
  if (value === null || typeof value === "boolean") return value;
  if (typeof value !== "object") return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated: too deep]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, options, depth + 1, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSensitiveKey(key, options.keys)) {
        out[key] = REDACTED;
        continue;
      }
      const cleaned = walk(item, options, depth + 1, seen);
      if (cleaned !== undefined) out[key] = cleaned;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
