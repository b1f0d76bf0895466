/**
 * When stdout cannot be written (issue 17, item 13): one line on stderr, and an exit code that says
 * whether the change was made (3: made, do not run it again; 1: nothing changed).
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeDatabase } from "./db-files.js";
import { BIN, cli, ONE_LINE, type Run } from "./run-bin.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-output-"));
const db = join(dir, "runtime.db");
beforeAll(() => runtimeDatabase(db), 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bin with stdout on `stdout` ("full": /dev/full, a disk with no space left; "closed": a reader that has gone). */
function run(args: string[], stdout: "full" | "closed"): Promise<Run> {
  const full = stdout === "full" ? openSync("/dev/full", "w") : null;
  const child = spawn(process.execPath, [BIN, ...args, "--db", db, "--workspace", "ws_acme", "--as", "usr_ana"], {
    stdio: ["ignore", full ?? "pipe", "pipe"],
  });
  if (full !== null) closeSync(full);
  else child.stdout!.destroy();
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout: "", stderr })));
}

const notes = async () => {
  const show = await cli(["show", "1", "--json", "--db", db, "--workspace", "ws_acme"]);
  return (JSON.parse(show.stdout) as { activity: Array<{ type: string; message: string | null }> }).activity.filter((a) => a.type === "note_added").map((a) => a.message);
};

describe("output that cannot be written", { timeout: 90_000 }, () => {
  it("after a change: exit 3 and one line saying the change was made, so a script does not add it twice", async () => {
    for (const args of [["note", "1", "checked the connector"], ["note", "1", "checked the connector", "--json"]]) {
      const result = await run(args, "full");
      expect(result.stderr, args.join(" ")).toBe("agent-incidents: the change was made, but its output could not be written (no space left on device): do not run it again\n");
      expect(result.code).toBe(3);
    }
    expect(await notes()).toEqual(["checked the connector", "checked the connector"]);
  });

  it("after a read or a refusal: exit 1, one line, and nothing changed", async () => {
    for (const args of [["list"], ["list", "--all", "--json"], ["show", "1"], ["stats"]]) {
      const result = await run(args, "full");
      expect(result.stderr, args.join(" ")).toBe("agent-incidents: cannot write the output: no space left on device\n");
      expect(result.code).toBe(1);
    }
    const refused = await run(["ack", "1", "--role", "viewer"], "full");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(ONE_LINE);
    expect(refused.stderr).toMatch(/may not triage/);
  });

  it("a reader that stops early (| head) is not an error: exit 0, nothing on stderr", async () => {
    for (const args of [["list", "--all", "--json"], ["stats"]]) {
      const result = await run(args, "closed");
      expect(result.stderr, args.join(" ")).toBe("");
      expect(result.code).toBe(0);
    }
  });

  it("documents the exit codes in the usage text", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:\n  0  done\n  1  refused or failed: nothing was changed\n  2  usage error: nothing was changed\n  3  the change was made, but its output could not be written: do not run it again/);
  });
});
