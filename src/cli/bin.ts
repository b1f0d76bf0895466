#!/usr/bin/env node
import { isatty } from "node:tty";
import { runCli } from "./index.js";
import { syncWriter } from "./output.js";

// written synchronously: a failed write (a full disk, a reader gone) is seen by the command that
// wrote, which then says in its exit code whether its change was made
process.exitCode = await runCli(process.argv.slice(2), { stdout: syncWriter(1, isatty(1)), stderr: syncWriter(2, isatty(2)), env: process.env });
