#!/usr/bin/env node
import { runCli } from "./index.js";

// a reader that stops early (\`| head\`, \`| grep -q\`) is not an error of ours
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
