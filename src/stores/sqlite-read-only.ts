/**
 * Opening a SQLite file for reading without changing anything on disk: not its contents, not its
 * journal mode, and no `-wal`/`-shm` files left behind or created under another owner.
 *
 * A read-only connection to a WAL database that no process has open creates the `-wal` and `-shm`
 * files (owned by whoever runs it) and, unable to checkpoint, leaves them: run as another user,
 * that locks the database's owner out of its own file. So, by what is on disk:
 * - a rollback-journal file, or a WAL file whose `-wal` and `-shm` exist (a process has it open,
 *   or crashed): a read-only connection, which creates nothing;
 * - a WAL file without them that this user may write (its owner, or root): a read-write connection
 *   with `query_only`, which SQLite refuses every write on, and which removes the files it made
 *   when it closes (as root, SQLite gives them to the database's owner meanwhile);
 * - a WAL file without them that this user may only read: the file read into memory, where no
 *   process can be writing to it (none has it open), opened read-only from there.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StorageError } from "../core/errors.js";

const HEADER = "SQLite format 3\u0000";

/** Opens `filename` to read it, leaving the file and its directory as they are; see the header. */
export function openReadOnly(filename: string): Database.Database {
  let stat;
  try {
    stat = statSync(filename);
  } catch (error) {
    throw new StorageError("sqlite", `cannot open ${filename} read-only: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`, { cause: error });
  }
  // opening a FIFO or a device would wait for a writer for ever, or read something else entirely
  if (!stat.isFile()) throw new StorageError("sqlite", `cannot open ${filename} read-only: it is not a regular file`);
  const header = readHeader(filename);
  if (header.length > 0 && (header.length < 20 || header.toString("latin1", 0, 16) !== HEADER)) {
    throw new StorageError("sqlite", `cannot open ${filename} read-only: it is not a SQLite database`);
  }
  const wal = header[18] === 2 || header[19] === 2;
  if (!wal || (existsSync(`${filename}-wal`) && existsSync(`${filename}-shm`))) return new Database(filename, { readonly: true, fileMustExist: true });
  if (writable(filename)) {
    const db = new Database(filename, { fileMustExist: true });
    db.pragma("query_only = ON");
    return db;
  }
  if (existsSync(`${filename}-wal`) && statSync(`${filename}-wal`).size > 0) {
    // committed pages still in the log and no index beside them: only SQLite can read them
    return new Database(filename, { readonly: true, fileMustExist: true });
  }
  const image = readFileSync(filename);
  // an in-memory database cannot be in WAL mode: the copy says "rollback journal" (the file does not change)
  image[18] = 1;
  image[19] = 1;
  return new Database(image, { readonly: true });
}

function readHeader(filename: string): Buffer {
  const fd = openSync(filename, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const header = Buffer.alloc(100);
    return header.subarray(0, readSync(fd, header, 0, 100, 0));
  } finally {
    closeSync(fd);
  }
}

function writable(filename: string): boolean {
  try {
    accessSync(filename, constants.W_OK);
    accessSync(dirname(filename), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
