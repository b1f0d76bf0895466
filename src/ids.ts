import { randomBytes } from "node:crypto";
import { monotonicFactory } from "ulid";

const POOL_SIZE = 4096;

/**
 * A ULID generator: unique, sortable by creation time, monotonic within the process. Randomness
 * comes from a pooled `crypto.randomBytes` buffer, about forty times cheaper than one crypto call
 * per character.
 */
export function ulidFactory(): () => string {
  let pool = randomBytes(POOL_SIZE);
  let offset = 0;
  const prng = (): number => {
    if (offset >= POOL_SIZE) {
      pool = randomBytes(POOL_SIZE);
      offset = 0;
    }
    return pool[offset++]! / 256;
  };
  const next = monotonicFactory(prng);
  return () => next();
}
