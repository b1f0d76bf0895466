import type { Incident } from "../core/incident.js";
import { compareKeys, cursorKeyOf, type CursorKey, type ListQuery } from "../core/query.js";

/**
 * Incidents of one severity and status in list order: newest `lastSeenAt` first (ties: highest
 * number first). Within a bucket that order agrees with both list sorts, so a page is a k-way
 * merge of buckets. Kept in an array in reverse, so the common write (a new or just-seen
 * incident, which lists first) is an append, not a shift of every other entry.
 */
export class SortedBucket {
  readonly #items: Incident[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The incident at list position `index` (0 lists first). */
  at(index: number): Incident | undefined {
    return this.#items[this.#items.length - 1 - index];
  }

  insert(incident: Incident): void {
    const items = this.#items;
    // the common write lists first (a new or just-seen incident): an append, no search
    const first = items[items.length - 1];
    if (first === undefined || !listsBefore(first, incident)) items.push(incident);
    else items.splice(items.length - this.lowerBound(incident), 0, incident);
  }

  remove(incident: Incident): void {
    const index = this.lowerBound(incident);
    if (this.at(index)?.id === incident.id) this.#items.splice(this.#items.length - 1 - index, 1);
  }

  /** List position of the first item at or after `key` (within a bucket, severity is the same). */
  lowerBound(key: Pick<CursorKey, "lastSeenAt" | "number">): number {
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (listsBefore(this.at(mid)!, key)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** List position of the first item strictly after `key`. */
  upperBound(key: CursorKey): number {
    const index = this.lowerBound(key);
    const at = this.at(index);
    return at && at.number === key.number && at.lastSeenAt === key.lastSeenAt ? index + 1 : index;
  }
}

/** Whether `a` lists before `b` in a bucket: newer `lastSeenAt` first, then higher number. */
function listsBefore(a: Pick<CursorKey, "lastSeenAt" | "number">, b: Pick<CursorKey, "lastSeenAt" | "number">): boolean {
  return a.lastSeenAt !== b.lastSeenAt ? a.lastSeenAt > b.lastSeenAt : a.number > b.number;
}

/**
 * Yields incidents of several buckets in list order, starting strictly after `after`, reading
 * only as far as the caller consumes.
 */
export function* mergeBuckets(buckets: readonly SortedBucket[], sort: ListQuery["sort"], after?: CursorKey): Generator<Incident> {
  const heads = buckets.map((bucket) => ({ bucket, index: after ? startIndex(bucket, after, sort) : 0 }));
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    let bestItem: Incident | undefined;
    for (const head of heads) {
      const item = head.bucket.at(head.index);
      if (!item) continue;
      if (!bestItem || compareKeys(cursorKeyOf(item), cursorKeyOf(bestItem), sort) < 0) {
        best = head;
        bestItem = item;
      }
    }
    if (!best || !bestItem) return;
    yield bestItem;
    best.index += 1;
  }
}

function startIndex(bucket: SortedBucket, after: CursorKey, sort: ListQuery["sort"]): number {
  const first = bucket.at(0);
  if (!first) return 0;
  if (sort === "severity") {
    const rank = cursorKeyOf(first).rank;
    if (rank > after.rank) return bucket.size;
    if (rank < after.rank) return 0;
  }
  return bucket.upperBound(after);
}
