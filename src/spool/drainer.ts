/**
 * The spool's worker: writes the oldest kept report, one at a time, until none is left; after a
 * retryable failure it waits (50 ms doubling to 2 s, with jitter) and tries the same one again.
 * It owns the loop and its timer, nothing else: the spool's queue is shared, and what a write
 * came to is handed back through `settled`.
 */
import type { WrittenReport } from "../engine.js";
import type { Entry } from "./entries.js";

export interface DrainerConfig {
  /** The spool's queue, oldest first; the drainer takes from its head. */
  queue: Entry[];
  write(entry: Entry): Promise<WrittenReport>;
  retryable(error: unknown): boolean;
  /** The head was written, or refused for good; it has left the queue. */
  settled(entry: Entry, result: { written: WrittenReport } | { error: unknown }): void;
  /** The queue is empty. */
  drained(): Promise<void>;
}

export interface Drainer {
  /** Starts the loop unless it runs; `afterFailure` waits before the first try. */
  start(afterFailure: boolean): void;
  /** The loop, while it runs. */
  readonly running: Promise<void> | null;
  /** For close(): tries again now, and from then on waits on timers that keep the process alive. */
  hurry(): void;
  /** Ends the loop; a write still in flight is left to finish, and its result ignored. */
  stop(): void;
}

export function createDrainer(config: DrainerConfig): Drainer {
  const { queue } = config;
  let running: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let hurried = false;
  let stopped = false;

  const loop = async (failures: number): Promise<void> => {
    while (queue.length > 0 && !stopped) {
      if (failures > 0) await pause(backoff(failures));
      if (stopped) return;
      const entry = queue[0]!;
      let result: { written: WrittenReport } | { error: unknown };
      try {
        result = { written: await config.write(entry) };
      } catch (error) {
        result = { error };
      }
      // once stopped, close() has reported the entry already
      if (stopped) return;
      if ("error" in result && config.retryable(result.error)) {
        failures += 1;
        continue;
      }
      queue.shift();
      failures = 0;
      config.settled(entry, result);
    }
    if (!stopped && queue.length === 0) await config.drained();
  };

  /** Waits `ms`; `wake` cuts it short. Until close() hurries, the timer keeps no process alive. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (!hurried) timer.unref();
      wake = done;
    });

  const start = (afterFailure: boolean): void => {
    if (running || stopped) return;
    // a report kept after the loop saw the queue empty, but before it ended, starts a new loop
    running = loop(afterFailure ? 1 : 0).finally(() => {
      running = null;
      if (queue.length > 0) start(false);
    });
  };

  return {
    start,
    get running() {
      return running;
    },
    hurry() {
      hurried = true;
      wake?.();
    },
    stop() {
      stopped = true;
      wake?.();
    },
  };
}

/** Capped exponential backoff with jitter: 50 ms doubling to 2 s, each wait between half and all of it. */
function backoff(failures: number): number {
  const ms = Math.min(2000, 50 * 2 ** Math.min(failures - 1, 10));
  return ms / 2 + (Math.random() * ms) / 2;
}
