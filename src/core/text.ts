/** A UTF-16 code unit that is half of a surrogate pair without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");
const NUL = /\u0000/g;

/**
 * Whether a string can be an identifier: no NUL and no lone surrogate. Databases disagree on
 * both (PostgreSQL refuses NUL and maps lone surrogates to U+FFFD, merging distinct ids), so ids
 * carrying them are refused everywhere rather than stored differently per store.
 */
export function isSafeId(value: string): boolean {
  return !value.includes("\u0000") && !LONE_SURROGATE.test(value);
}

/**
 * Free text as every store keeps it: lone surrogates become U+FFFD and NUL characters are removed,
 * so the same report reads back the same from memory, SQLite and PostgreSQL.
 */
export function cleanText(value: string): string {
  let out = value;
  if (out.includes("\u0000")) out = out.replace(NUL, "");
  if (LONE_SURROGATE.test(out)) out = out.replace(LONE_SURROGATES, "\uFFFD");
  return out;
}

/** The truncation mark appended to a shortened string, e.g. `…[truncated 120 chars]`. */
const MARK = /…\[truncated (\d+) chars\]$/;

/**
 * `value` cut to `max` characters with the cut marked. A string cut before keeps counting: the
 * mark says how many characters of the original are missing. Never splits a surrogate pair.
 */
export function truncateString(value: string, max: number): string {
  if (value.length <= max) return value;
  const earlier = MARK.exec(value.slice(-40));
  const missingBefore = earlier ? Number(earlier[1]) : 0;
  const body = earlier ? value.slice(0, value.length - earlier[0].length) : value;
  if (body.length <= max) return value;
  let end = max;
  const last = body.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${body.slice(0, end)}…[truncated ${body.length - end + missingBefore} chars]`;
}

/**
 * Whether the JSON of `value` takes at most `limit` bytes of UTF-8. A UTF-16 unit is at most 3
 * bytes, so most values are decided by their length alone, without counting.
 */
export function jsonFits(value: unknown, limit: number): boolean {
  const json = JSON.stringify(value) ?? "null";
  return json.length * 3 <= limit || utf8Length(json) <= limit;
}

/** UTF-8 length without encoding: 1 byte per ASCII unit, 2 below U+0800 and per surrogate, else 3. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    bytes += code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}
