import { setKey } from "./plain.js";
import { cleanText, truncateString as cut } from "./text.js";

/** The text that replaces a secret: a sensitive key's value, a credential or a card number. */
export const REDACTED = "[REDACTED]";

/** Longest string kept, in characters (8 KiB). */
export const MAX_STRING = 8 * 1024;
const MAX_DEPTH = 12;
const MAX_KEY = 256;

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
  "passcode",
  "secret",
  "apikey",
  "authorization",
  "cookie",
  "credential",
  "privatekey",
  "accesskey",
  "encryptionkey",
  "signingkey",
  "hmackey",
  "sessionkey",
  "masterkey",
  "sessionid",
  "cardnumber",
];
/** Short names that hold a secret only as a whole word of the key (`auth`, `jwtValue`, not `author`). */
const SENSITIVE_WORDS = new Set(["auth", "pw", "pwd", "pass", "jwt", "token", "bearer", "otp", "totp", "pin", "cvv", "cvc", "ssn", "iban", "session", "sid"]);

// Every pattern starts at a boundary no token character precedes, so a long run of almost-matching
// text is scanned once, not once per position: redaction stays linear in the text's length.
const B = String.raw`(?<![A-Za-z0-9_\-])`;

/** Bearer / Basic credentials in free text. */
const AUTH_SCHEME = new RegExp(String.raw`${B}(bearer|basic)\s+[A-Za-z0-9\-._~+/]{4,}=*`, "gi");
/** `Authorization: <scheme> <credentials>` and API-key headers, whatever the scheme. */
const AUTH_HEADER = new RegExp(
  String.raw`${B}((?:proxy-)?authorization|x-api-key|api-key)(\\?["']?\s*[:=]\s*\\?["']?)(?:([A-Za-z]+)\s+)?(?!\[REDACTED\])[^\s"',;\\]+`,
  "gi",
);
/** `Cookie:` and `Set-Cookie:` headers: every cookie on the line. */
const COOKIE_HEADER = new RegExp(String.raw`${B}(set-cookie|cookie)(["']?\s*[:=]\s*)[^\n\r"]+`, "gi");
/** `scheme://user:password@host` (the user may be empty, the password may hold `@`, `/` or `#`). */
const URL_CREDENTIALS = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,30}:\/\/[^\s:@/?#]*):(\S+)@(?=[^\s@/?#:]+)/gi;
/** Credentials with a recognizable shape, wherever they appear. */
const KNOWN_SECRETS = new RegExp(
  [
    String.raw`${B}(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])`, // AWS access key ids
    String.raw`${B}[spr]k_(?:live|test)_[A-Za-z0-9]{10,}`, // Stripe
    String.raw`${B}gh[pousr]_[A-Za-z0-9]{30,}`, // GitHub tokens
    String.raw`${B}github_pat_[A-Za-z0-9_]{20,}`, // GitHub fine-grained tokens
    String.raw`${B}xox[abposr]-[A-Za-z0-9-]{10,}`, // Slack tokens
    String.raw`https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+`, // Slack webhook URLs
    String.raw`${B}sk-[A-Za-z0-9_-]{20,}`, // OpenAI, Anthropic
    String.raw`${B}whsec_[A-Za-z0-9+/=]{16,}`, // webhook signing secrets
    String.raw`${B}AIza[0-9A-Za-z_-]{35}`, // Google API keys
    String.raw`${B}eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`, // JWTs
    String.raw`-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)`,
  ].join("|"),
  "g",
);
const KEY_CHARS = String.raw`A-Za-z0-9_.\-\uFF10-\uFF19\uFF21-\uFF3A\uFF3F\uFF41-\uFF5A`;
/** A pair's value: quoted (also as escaped JSON, also left open), a list, an object, or a bare word. */
const VALUE = String.raw`(?<value>\\"(?:[^"\\]|\\(?!"))*\\"|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|"[^"\n]*$|\[[^\]\n]*\]|\{[^}\n]*\}|[^\s"',;&}\])\\]+)`;
/** `password=…`, `apiKey: …`, `:token => …`, `\"secret\":\"…\"` inside free text; the key decides, as for objects. */
const KEY_VALUE = new RegExp(String.raw`(?<![${KEY_CHARS}])(?<key>[${KEY_CHARS}]{2,64})\\?["']?\s*(?:=>|[:=\uFF1A\uFF1D])\s*${VALUE}`, "gm");
/** `"api key": "…"`: a quoted key that may hold spaces. */
const QUOTED_KEY_VALUE = new RegExp(String.raw`(["'])(?<key>[^"'\n]{1,64})\1\s*:\s*${VALUE}`, "gm");
/** 13 to 19 digits, optionally separated by single spaces, dashes, dots or no-break spaces, with a card's prefix. */
const CARD_CANDIDATE = /(?<![0-9])[2-6](?:[ .\u00a0-]?\d){12,18}(?![0-9])/g;
const CARD_PREFIX = /^(?:4|5|2[2-7]|3|6)/;

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
  if (extra.length === 0) {
    // the same few keys come back in every payload: remember the answer for them
    const known = verdicts.get(key);
    if (known !== undefined) return known;
    const verdict = byDefault(key);
    if (verdicts.size >= 2000) verdicts.clear();
    verdicts.set(key, verdict);
    return verdict;
  }
  if (byDefault(key)) return true;
  const normalized = words(key).join("");
  return extra.some((k) => {
    if (typeof k === "string") return normalized.includes(words(k).join(""));
    k.lastIndex = 0; // a /g pattern remembers where it stopped: every key starts afresh
    return k.test(key);
  });
}

const verdicts = new Map<string, boolean>();

function byDefault(key: string): boolean {
  const parts = words(key);
  const normalized = parts.join("");
  if (normalized.endsWith("token") || parts.some((w) => SENSITIVE_WORDS.has(w))) return true;
  return SENSITIVE_KEY_PARTS.some((part) => normalized.includes(part));
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
  const digits = candidate.replace(/[ .\u00a0-]/g, "");
  return digits.length >= 13 && digits.length <= 19 && CARD_PREFIX.test(digits) && passesLuhn(digits);
}

/** Redacts secrets inside free text and caps its length (default 8 KiB), marking the truncation. */
export function redactString(value: string, options: RedactOptions = {}, maxLength = MAX_STRING): string {
  // cut first (with room for what redaction removes), so a huge string costs what a small one does
  let out = cleanText(cut(value, 2 * maxLength + 1024));
  // each pattern runs only where the text has what it needs: most strings are short words
  if (/authori|api-key/i.test(out)) out = out.replace(AUTH_HEADER, (_m, name: string, separator: string, scheme: string | undefined) => `${name}${separator}${scheme ? `${scheme} ` : ""}${REDACTED}`);
  if (/bearer|basic/i.test(out)) out = out.replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  if (/cookie/i.test(out)) out = out.replace(COOKIE_HEADER, (_m, name: string, separator: string) => `${name}${separator}${REDACTED}`);
  if (out.includes("://")) out = out.replace(URL_CREDENTIALS, (_m, head: string) => `${head}:${REDACTED}@`);
  if (out.length >= 15) out = out.replace(KNOWN_SECRETS, REDACTED);
  if (/[:=\uFF1A\uFF1D]/.test(out)) out = redactKeyValues(redactKeyValues(out, options, KEY_VALUE), options, QUOTED_KEY_VALUE);
  if (out.length >= 13) out = out.replace(CARD_CANDIDATE, (m) => (isCardNumber(m) ? REDACTED : m));
  for (const pattern of options.patterns ?? []) out = out.replace(pattern, REDACTED);
  return cut(out, maxLength);
}

/**
 * Replaces the value of every `key=value` / `key: value` pair whose key names a secret. A pair
 * with an ordinary key gives its value back to the scan, so `failed: password=x` still finds the
 * password.
 */
function redactKeyValues(text: string, options: RedactOptions, pattern: RegExp): string {
  const pairs = new RegExp(pattern.source, pattern.flags);
  let out = "";
  let last = 0;
  for (let m = pairs.exec(text); m !== null; m = pairs.exec(text)) {
    const { key = "", value = "" } = m.groups ?? {};
    const prefix = m[0].slice(0, m[0].length - value.length);
    // `Authorization: Token [REDACTED]` is already done: the word before the redaction is its scheme
    const done = value.includes(REDACTED) || text.startsWith(` ${REDACTED}`, m.index + m[0].length);
    if (!isSensitiveKey(key, options.keys) || done || /^(?:bearer|basic)$/i.test(value)) {
      pairs.lastIndex = m.index + Math.max(1, prefix.length);
      continue;
    }
    const quote = value.startsWith('\\"') ? '\\"' : value.startsWith('"') || value.startsWith("'") ? value[0]! : "";
    const closing = quote && value.endsWith(quote) && value.length > quote.length ? quote : "";
    out += `${text.slice(last, m.index)}${prefix}${quote}${REDACTED}${closing}`;
    last = m.index + m[0].length;
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
  return walk(value, options, maxString, []);
}

/**
 * Redacted forms of short strings under the default rules and the default 8 KiB cap: keys, types,
 * names and reasons come back in every report, and redacting one costs a dozen regular
 * expressions. Bounded; cleared when full.
 */
const remembered = new Map<string, string>();
const REMEMBER_LENGTH = 200;
const REMEMBER_COUNT = 4096;
// 8 fraction digits at most: with 9 and a negative offset (`41.100000000-11`), seconds, fraction
// and offset hours make 13 digits joined by card separators, which the card rule must still see
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,8})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * A copy of `text` that keeps no other string alive: V8 makes a substring (`slice`, a regex
 * match, `split`) a view of its parent, and a remembered view of a 1 MB tool output would keep
 * all of it in memory.
 */
function detached(text: string): string {
  return `${text} `.slice(0, -1);
}

/** No extra keys or patterns: what is remembered under the default rules holds. */
function byDefaultRules(options: RedactOptions): boolean {
  return !options.keys?.length && !options.patterns?.length;
}

/** `value` redacted (or only cleaned, with `options` false) and capped at `max` characters. */
function cleanString(value: string, options: RedactOptions | false, max: number): string {
  if (options === false) return cut(cleanText(cut(value, max)), max);
  const plain = max === MAX_STRING && value.length <= REMEMBER_LENGTH && byDefaultRules(options);
  if (!plain) return redactString(value, options, max);
  // every event carries its time, each one different: no default rule can find a secret in one
  if (ISO_TIME.test(value)) return value;
  let out = remembered.get(value);
  if (out === undefined) {
    out = redactString(value, options, max);
    if (remembered.size >= REMEMBER_COUNT) remembered.clear();
    const key = detached(value);
    remembered.set(key, out === value ? key : detached(out));
  }
  return out;
}

/** Keys as cleaned, and whether they name a secret, under the default rules: payloads repeat their keys. */
const rememberedKeys = new Map<string, { key: string; secret: boolean }>();

/** A key as stored: a key can be a secret too (`{ "sk_live_…": true }`), so it gets the text rules and a cap. */
function cleanKey(rawKey: string, options: RedactOptions | false): { key: string; secret: boolean } {
  if (options === false) return { key: cleanString(rawKey, false, MAX_KEY), secret: false };
  const plain = rawKey.length <= MAX_KEY && byDefaultRules(options);
  const known = plain ? rememberedKeys.get(rawKey) : undefined;
  if (known !== undefined) return known;
  const key = redactString(rawKey, options, MAX_KEY);
  const verdict = { key, secret: isSensitiveKey(key, options.keys) };
  if (plain) {
    if (rememberedKeys.size >= REMEMBER_COUNT) rememberedKeys.clear();
    rememberedKeys.set(detached(rawKey), { key: detached(key), secret: verdict.secret });
  }
  return verdict;
}

/** `ancestors` holds the objects above `value` (at most MAX_DEPTH): a cycle is one of them again. */
function walk(value: unknown, options: RedactOptions | false, maxString: number, ancestors: object[]): unknown {
  if (typeof value === "string") return cleanString(value, options, maxString);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    return options !== false && Number.isInteger(value) && Math.abs(value) >= 1e12 && isCardNumber(String(Math.abs(value))) ? REDACTED : value;
  }
  if (typeof value === "bigint") return walk(value.toString(), options, maxString, ancestors);
  if (value === null || typeof value === "boolean") return value;
  if (typeof value !== "object") return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ancestors.includes(value)) return "[Circular]";
  if (ancestors.length >= MAX_DEPTH) return "[Truncated: too deep]";
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) out[i] = walk(value[i], options, maxString, ancestors) ?? null;
      return out;
    }
    const out: Record<string, unknown> = {};
    const record = value as Record<string, unknown>;
    for (const rawKey of Object.keys(record)) {
      const { key, secret } = cleanKey(rawKey, options);
      setKey(out, key, secret ? REDACTED : walk(record[rawKey], options, maxString, ancestors));
    }
    return out;
  } finally {
    ancestors.pop();
  }
}
