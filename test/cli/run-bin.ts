/** Runs the built bin (dist/cli.js, what `npx agent-incidents` starts) as a user would. */
import { execFile } from "node:child_process";
import { join } from "node:path";

export const BIN = join(import.meta.dirname, "..", "..", "dist", "cli.js");

export interface Run {
  /** The exit code; null when the process was killed (it hung past the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Run as this user and group (root only). */
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}

export function cli(args: string[], options: RunOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env["PATH"] ?? "", ...options.env },
        timeout: options.timeoutMs ?? 30_000,
        ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
      },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: unknown }).code ?? null) : 0;
        resolve({ code: typeof code === "number" ? code : null, stdout, stderr });
      },
    );
  });
}

/** One line on stderr, naming the program, and no stack trace. */
export const ONE_LINE = /^agent-incidents: [^\n]+\n$/;
