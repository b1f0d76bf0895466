/**
 * What every command prints through: text from agents, hosts and notifiers made safe for a
 * terminal, table cells, JSON, colour, and the CLI's two kinds of failure.
 */
import { styleText } from "node:util";

/** A mistake in how the command was called: usage, exit 2. */
export class UsageError extends Error {}
/** A failure to report in one line: exit 1. */
export class CliError extends Error {}

/**
 * Text from agents and hosts as one safe line: control characters (C0, C1, which includes the
 * 8-bit CSI) and bidirectional overrides become spaces, so nothing reaches the terminal as a command.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;
export const plain = (text: string | null | undefined) => (text ?? "-").replace(UNSAFE, " ");
/** One cell of a table: a safe line cut to its width. */
export const cell = (text: string, width: number) => {
  const flat = plain(text);
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat.padEnd(width);
};
const escapeUnsafe = (json: string) => json.replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
/** JSON with the C1 controls and overrides escaped too (JSON.stringify leaves them raw). */
export const safeJson = (value: unknown) => escapeUnsafe(JSON.stringify(value, null, 2));
/** The same on one line: a line of NDJSON. */
export const compactJson = (value: unknown) => escapeUnsafe(JSON.stringify(value));
export const paint = (color: boolean, style: Parameters<typeof styleText>[0], text: string) => (color ? styleText(style, text) : text);
/** An ISO time as the tables show it: `2026-11-29 10:00:02`. */
export const shortTime = (iso: string) => iso.slice(0, 19).replace("T", " ");

/** ` (did you mean "list"?)` when `word` is a typo or two away from a candidate, else "". */
export function didYouMean(word: string, candidates: readonly string[], prefix = ""): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = candidate.startsWith(word) && word.length >= 3 ? 1 : editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== null && bestDistance <= Math.max(1, Math.ceil(best.length / 3)) ? ` (did you mean "${prefix}${best}"?)` : "";
}

/** Edits (insert, delete, change, swap two neighbours) that make `a` into `b`. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
