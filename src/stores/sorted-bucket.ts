import type { Incident } from "../core/incident.js";
import { compareKeys, cursorKeyOf, type CursorKey, type ListQuery } from "../core/query.js";

/**
 * Incidents of one severity and status, newest `lastSeenAt` first (ties: highest number first).
 * Within a bucket that order agrees with both list sorts, so a page is a k-way merge of buckets.
 */
export class SortedBucket {
  readonly items: Incident[] = [];

  insert(incident: Incident): void {
    this.items.splice(this.lowerBound(cursorKeyOf(incident)), 0, incident);
  }

  remove(incident: Incident): void {
    const index = this.lowerBound(cursorKeyOf(incident));
    if (this.items[index]?.id === incident.id) this.items.splice(index, 1);
  }

  /** Index of the first item at or after `key`. */
  lowerBound(key: CursorKey): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(cursorKeyOf(this.items[mid]!), key, "recency") < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first item strictly after `key`. */
  upperBound(key: CursorKey): number {
    const index = this.lowerBound(key);
    const at = this.items[index];
    return at && at.number === key.number && at.lastSeenAt === key.lastSeenAt ? index + 1 : index;
  }
}

/**
 * Yields incidents of several buckets in list order, starting strictly after `after`, reading
 * only as far as the caller consumes.
 */
export function* mergeBuckets(buckets: readonly SortedBucket[], sort: ListQuery["sort"], after?: CursorKey): Generator<Incident> {
  const heads = buckets.map((bucket) => ({ bucket, index: after ? startIndex(bucket, after, sort) : 0 }));
  for (;;) {
    let best: (typeof heads)[number] | undefined;
    for (const head of heads) {
      const item = head.bucket.items[head.index];
      if (!item) continue;
      if (!best || compareKeys(cursorKeyOf(item), cursorKeyOf(best.bucket.items[best.index]!), sort) < 0) best = head;
    }
    if (!best) return;
    yield best.bucket.items[best.index]!;
    best.index += 1;
  }
}

function startIndex(bucket: SortedBucket, after: CursorKey, sort: ListQuery["sort"]): number {
  const first = bucket.items[0];
  if (!first) return 0;
  if (sort === "severity") {
    const rank = cursorKeyOf(first).rank;
    if (rank > after.rank) return bucket.items.length;
    if (rank < after.rank) return 0;
  }
  return bucket.upperBound(after);
}
