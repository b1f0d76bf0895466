import { setKey } from "./plain.js";
import { cleanText, truncateString as cut } from "./text.js";

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

/** Key names that hold a secret wherever they appear inside a key (`x_api_key`, `dbPassword`). */
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
  "cardnumber",
];
/** Short names that hold a secret only as a whole word of the key (`auth`, `jwtValue`, not `author`). */
const SENSITIVE_WORDS = new Set(["auth", "pwd", "pass", "jwt", "token", "bearer", "otp", "pin", "cvv", "cvc", "ssn", "iban"]);

/** Bearer / Basic credentials in free text. */
const AUTH_SCHEME = /\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi;
/** `scheme://user:password@host`: the password goes. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]+):([^\s@/?#]+)@/gi;
/** Credentials with a recognizable shape, wherever they appear. */
const KNOWN_SECRETS = new RegExp(
  [
    String.raw`\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b`, // AWS access key ids
    String.raw`\b[spr]k_(?:live|test)_[A-Za-z0-9]{10,}`, // Stripe
    String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`, // GitHub
    String.raw`\bxox[abposr]-[A-Za-z0-9-]{10,}`, // Slack
    String.raw`\bsk-[A-Za-z0-9_-]{20,}`, // OpenAI, Anthropic
    String.raw`\bwhsec_[A-Za-z0-9+/=]{16,}`, // webhook signing secrets
    String.raw`\bAIza[0-9A-Za-z_-]{35}`, // Google API keys
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`, // JWTs
    String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`,
  ].join("|"),
  "g",
);
/** `password=…`, `"apiKey": "…"`, `secret: …` inside free text; the key decides, as for objects. */
const KEY_VALUE = /(?<![A-Za-z0-9_.\-\uFF10-\uFF19\uFF21-\uFF3A\uFF3F\uFF41-\uFF5A])([A-Za-z0-9_.\-\uFF10-\uFF19\uFF21-\uFF3A\uFF3F\uFF41-\uFF5A]{2,64})(["']?\s*[:=]\s*)("(?:[^"\\\n]|\\.){0,512}"|'[^'\n]{0,512}'|[^\s"',;&}\])]{1,512})/g;
/** 13 to 19 digits, optionally separated by single spaces, dashes or dots, with a card's prefix. */
const CARD_CANDIDATE = /(?<![0-9])[2-6](?:[ .-]?\d){12,18}(?![0-9])/g;
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6)/;

function words(key: string): string[] {
  return key
    .normalize("NFKC")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/**
 * Whether a key names a secret: `apiKey`, `API-KEY`, `x_api_key`, `accessToken`, `tokenValue`,
 * `Set-Cookie`, `auth`, `pwd`, full-width `ｐａｓｓｗｏｒｄ`, ... Keys are NFKC-normalized first.
 */
export function isSensitiveKey(key: string, extra: RedactOptions["keys"] = []): boolean {
  const parts = words(key);
  const normalized = parts.join("");
  if (normalized.endsWith("token") || parts.some((w) => SENSITIVE_WORDS.has(w))) return true;
  if (SENSITIVE_KEY_PARTS.some((part) => normalized.includes(part))) return true;
  return extra.some((k) => (typeof k === "string" ? normalized.includes(words(k).join("")) : k.test(key)));
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
  const digits = candidate.replace(/[ .-]/g, "");
  return digits.length >= 13 && digits.length <= 19 && CARD_PREFIX.test(digits) && passesLuhn(digits);
}

/** Redacts secrets inside free text and caps its length (default 8 KiB), marking the truncation. */
export function redactString(value: string, options: RedactOptions = {}, maxLength = MAX_STRING): string {
  // cut first (with slack for what redaction removes), so a huge string costs what a small one does
  let out = cleanText(cut(value, maxLength + 1024));
  out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  out = out.replace(URL_CREDENTIALS, (_m, head: string) => `${head}:${REDACTED}@`);
  out = out.replace(KNOWN_SECRETS, REDACTED);
  out = redactKeyValues(out, options);
  out = out.replace(CARD_CANDIDATE, (m) => (isCardNumber(m) ? REDACTED : m));
  for (const pattern of options.patterns ?? []) out = out.replace(pattern, REDACTED);
  return cut(out, maxLength);
}

/**
 * Replaces the value of every `key=value` / `key: value` pair whose key names a secret. A pair
 * with an ordinary key gives its value back to the scan, so `failed: password=x` still finds the
 * password.
 */
function redactKeyValues(text: string, options: RedactOptions): string {
  const pairs = new RegExp(KEY_VALUE.source, "g");
  let out = "";
  let last = 0;
  for (let m = pairs.exec(text); m !== null; m = pairs.exec(text)) {
    const [all, key, separator, raw] = m as unknown as [string, string, string, string];
    if (!isSensitiveKey(key, options.keys) || raw === REDACTED || /^(?:bearer|basic)$/i.test(raw)) {
      pairs.lastIndex = m.index + key.length + separator.length;
      continue;
    }
    const quote = raw.startsWith('"') || raw.startsWith("'") ? raw[0]! : "";
    out += `${text.slice(last, m.index)}${key}${separator}${quote}${REDACTED}${quote}`;
    last = m.index + all.length;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** `value` cut to `max` characters (default 8 KiB), the cut marked with how much is missing. */
export function truncateString(value: string, max = MAX_STRING): string {
  return cut(value, max);
}

/**
 * A deep copy of `value` with secrets replaced by `[REDACTED]`: values under sensitive keys, card
 * numbers (Luhn-checked), bearer tokens, URL passwords, `key=value` secrets and well-known token
 * shapes inside strings. Strings are capped at 8 KiB, NUL characters removed and unpaired
 * surrogates replaced, cycles become `[Circular]`, and what is not JSON (functions, symbols) is
 * dropped. Pure.
 */
export function redact<T>(value: T, options: RedactOptions = {}): T {
  return cleanValue(value, options) as T;
}

/**
 * The value as stored: strings sanitized and capped at `maxString`, and redacted unless
 * `options` is `false`. Keys become data even when named `__proto__`. Pure.
 */
export function cleanValue(value: unknown, options: RedactOptions | false, maxString = MAX_STRING): unknown {
  return walk(value, options, maxString, 0, new WeakSet());
}

function walk(value: unknown, options: RedactOptions | false, maxString: number, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return options === false ? cut(cleanText(cut(value, maxString)), maxString) : redactString(value, options, maxString);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    return options !== false && Number.isInteger(value) && isCardNumber(String(Math.abs(value))) ? REDACTED : value;
  }
  if (typeof value === "bigint") return walk(value.toString(), options, maxString, depth, seen);
  if (value === null || typeof value === "boolean") return value;
  if (typeof value !== "object") return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated: too deep]";
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, options, maxString, depth + 1, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const [rawKey, item] of Object.entries(value)) {
      const key = cleanText(rawKey);
      if (options !== false && isSensitiveKey(key, options.keys)) setKey(out, key, REDACTED);
      else setKey(out, key, walk(item, options, maxString, depth + 1, seen));
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
