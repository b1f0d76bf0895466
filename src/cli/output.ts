/**
 * Where the CLI's output goes, and what its exit code says when it cannot get there. A change is
 * committed before its output is written: a script that sees exit 3 knows the change was made and
 * must not run the command again, where exit 1 means nothing changed.
 */
import { writeSync } from "node:fs";

/** The exit codes, as the usage text documents them. */
export const EXIT = { ok: 0, error: 1, usage: 2, outputLost: 3 } as const;

/** stdout could not be written (a full disk, a closed file): `code` is the system's (ENOSPC, EIO). */
export class OutputError extends Error {
  readonly code: string;
  constructor(cause: unknown) {
    const code = String((cause as NodeJS.ErrnoException | null)?.code ?? "EIO");
    super(`cannot write the output: ${code === "ENOSPC" ? "no space left on device" : (cause as Error | null)?.message ?? code}`, { cause });
    this.code = code;
  }
}

/** The reader of stdout went away (`| head`): not an error of ours, and nothing more to write. */
export class ReaderGone extends Error {}

export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Writes to stdout; a failure throws here, as an `OutputError` or `ReaderGone`. */
export function emit(stdout: Out, text: string): void {
  try {
    stdout.write(text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code === "EPIPE") throw new ReaderGone();
    throw new OutputError(error);
  }
}

/**
 * A file descriptor written synchronously, so that a write that fails throws where it happens
 * (a stream reports it later, as an 'error' event, after the command has returned).
 */
export function syncWriter(fd: number, isTTY: boolean): Out {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return {
    isTTY,
    write(text: string) {
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) {
        try {
          at += writeSync(fd, bytes, at);
        } catch (error) {
          // a pipe someone else made non-blocking: wait for the reader
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
          Atomics.wait(pause, 0, 0, 5);
        }
      }
      return true;
    },
  };
}
