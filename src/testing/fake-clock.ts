/** A clock you move by hand, for tests. */
export interface FakeClock {
  /** The clock's current time, as a new `Date`. */
  now(): Date;
  /** Moves time forward by `ms` (negative moves it back). */
  advance(ms: number): void;
  /** Jumps to `date` (a `Date` or an ISO string), forward or back. */
  set(date: Date | string): void;
}

/**
 * A clock that stands still until told to move. Pass it as `createIncidents({ clock })`.
 *
 * @example
 * ```ts
 * const clock = fakeClock("2026-01-01T00:00:00Z");
 * const incidents = createIncidents({ clock });
 * clock.advance(25 * 60 * 60 * 1000); // a day and an hour later
 * ```
 */
export function fakeClock(start: Date | string = "2026-01-01T00:00:00.000Z"): FakeClock {
  let current = toTime(start);
  return {
    now: () => new Date(current),
    advance(ms) {
      if (!Number.isFinite(ms)) throw new TypeError(`fakeClock.advance: ${ms} is not a finite number of milliseconds`);
      current += ms;
    },
    set(date) {
      current = toTime(date);
    },
  };
}

function toTime(date: Date | string): number {
  const time = new Date(date).getTime();
  if (Number.isNaN(time)) throw new TypeError(`fakeClock: ${String(date)} is not a valid date`);
  return time;
}
