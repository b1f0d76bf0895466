/**
 * The spool's file: one JSON line per kept report, appended and fsynced before the reporter hears
 * "spooled", emptied when the spool drains, read back by the next process. It owns the file and
 * nothing else: which lines are still wanted is the spool's business (spool.ts).
 *
 * Appends that arrive while a sync is running go out together in one write and one fsync. Every
 * change of the file (append, truncate, rewrite) runs in the order it was asked for.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { open, rename, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** One line of the file as read back: its number, and its JSON value (or the reason it has none). */
export type JournalLine = { line: number; text: string; value: unknown } | { line: number; text: string; error: string };

export interface Journal {
  /** Bytes in the file now (after the changes asked for so far have run). */
  readonly size: number;
  /** Appends a line (without its newline); resolves once it is on disk. */
  append(line: string): Promise<void>;
  /** Replaces the file's content with these lines (each without its newline), atomically. */
  rewrite(lines: readonly string[]): Promise<void>;
  /** Waits for the changes asked for, then closes the file. */
  close(): Promise<void>;
}

interface Op {
  kind: "append" | "rewrite";
  text: string;
  done: (error?: unknown) => void;
}

/** Reads what a previous process left in `filename`: every line, parsed or not. A missing file is empty. */
export function readJournal(filename: string): { lines: JournalLine[]; size: number; tornTail: boolean } {
  let text: string;
  try {
    text = readFileSync(filename, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return { lines: [], size: 0, tornTail: false };
    throw error;
  }
  const lines: JournalLine[] = [];
  const parts = text.split("\n");
  // a file that ends with a newline splits into a last empty part; one that does not was cut mid-line
  const tornTail = parts.at(-1) !== "";
  parts.forEach((part, index) => {
    if (part === "" && index === parts.length - 1) return;
    try {
      lines.push({ line: index + 1, text: part, value: JSON.parse(part) as unknown });
    } catch (error) {
      lines.push({ line: index + 1, text: part, error: String(error) });
    }
  });
  return { lines, size: Buffer.byteLength(text), tornTail };
}

/** Replaces `filename` with `text`, synchronously (at start, before anyone appends). */
export function replaceFileSync(filename: string, text: string): void {
  const temporary = `${filename}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  const fd = openSync(temporary, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, filename);
  syncDirectory(filename);
}

/** A journal appending to `filename`, whose current size is `size` bytes. The file opens on first use. */
export function openJournal(filename: string, size: number): Journal {
  const ops: Op[] = [];
  let handle: Promise<FileHandle> | null = null;
  let running: Promise<void> | null = null;
  let bytes = size;

  const file = () =>
    (handle ??= open(filename, "a").then(
      (h) => {
        // a file made here needs its directory entry on disk too, or a crash can lose the whole file
        syncDirectory(filename);
        return h;
      },
      (error: unknown) => {
        // the next change tries to open it again
        handle = null;
        throw error;
      },
    ));

  const apply = async (batch: Op[]): Promise<void> => {
    const first = batch[0]!;
    if (first.kind === "append") {
      const h = await file();
      await h.write(batch.map((op) => op.text).join(""));
      await h.datasync();
    } else if (first.text === "") {
      // drained: the handle appends (O_APPEND), so after truncating it writes from the start again
      const h = await file();
      await h.truncate(0);
      await h.datasync();
    } else {
      if (handle) await (await handle).close().catch(() => undefined);
      handle = null;
      await replaceFile(filename, first.text);
    }
  };

  const run = async (): Promise<void> => {
    while (ops.length > 0) {
      // the appends at the head go out together: one write, one fsync
      const batch = ops[0]!.kind === "append" ? takeWhile(ops, (op) => op.kind === "append") : [ops.shift()!];
      try {
        await apply(batch);
        for (const op of batch) op.done();
      } catch (error) {
        for (const op of batch) op.done(error);
      }
    }
  };

  const kick = (): void => {
    if (running) return;
    // an op pushed after the loop saw none left, but before this settles, starts a new loop
    running = run().finally(() => {
      running = null;
      if (ops.length > 0) kick();
    });
  };

  const enqueue = (kind: Op["kind"], text: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      ops.push({ kind, text, done: (error) => (error === undefined ? resolve() : reject(error)) });
      kick();
    });

  return {
    get size() {
      return bytes;
    },
    append(line) {
      const text = `${line}\n`;
      bytes += Buffer.byteLength(text);
      return enqueue("append", text);
    },
    rewrite(lines) {
      const text = lines.map((line) => `${line}\n`).join("");
      bytes = Buffer.byteLength(text);
      return enqueue("rewrite", text);
    },
    async close() {
      while (running) await running;
      if (handle) await (await handle).close().catch(() => undefined);
      handle = null;
    },
  };
}

/** {@link replaceFileSync} without blocking the event loop. */
async function replaceFile(filename: string, text: string): Promise<void> {
  const temporary = `${filename}.${process.pid}.tmp`;
  const h = await open(temporary, "w");
  try {
    await h.write(text);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(temporary, filename);
  syncDirectory(filename);
}

function takeWhile<T>(items: T[], test: (item: T) => boolean): T[] {
  let n = 0;
  while (n < items.length && test(items[n]!)) n++;
  return items.splice(0, n);
}

/** fsync of the directory that holds `filename`, where the platform allows it (not Windows). */
function syncDirectory(filename: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(filename), "r");
    fsyncSync(fd);
  } catch {
    // directories cannot be opened or synced everywhere; the file's own fsync still ran
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
