#!/usr/bin/env node
// Builds dist/ with `npm run build`, quietly, unless it is already newer than everything it is
// built from. `npm run demo`, `prepare` and `prepack` run it, so the demo starts in seconds on a
// built clone and a fresh clone's `npm pack` (or `npm install github:...`) ships a dist.
//
// dist/ is stale when a file named by package.json (exports, main, module, types, bin) is
// missing, or when a file or folder under src/, or package.json, tsconfig.json or
// tsup.config.ts, changed after the oldest file of dist/ was written (a removed source file
// changes its folder's time).
//
//   node scripts/build-if-stale.mjs           build when stale; one line before and after
//   node scripts/build-if-stale.mjs --check   print why dist/ is stale (exit 1) or "fresh"
//   --root DIR                                another checkout than this script's
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const rootFlag = args.indexOf("--root");
const root = rootFlag >= 0 && args[rootFlag + 1] ? args[rootFlag + 1] : fileURLToPath(new URL("../", import.meta.url));

/** Every ./dist/ path package.json promises. */
function promised(pkg) {
  const found = new Set();
  const visit = (value) => {
    if (typeof value === "string") {
      if (value.startsWith("./dist/") || value.startsWith("dist/")) found.add(value.replace(/^\.\//, ""));
    } else if (value && typeof value === "object") {
      for (const inner of Object.values(value)) visit(inner);
    }
  };
  visit([pkg.exports, pkg.main, pkg.module, pkg.types, pkg.bin]);
  return [...found];
}

/** Every file and folder under `dir`, with its modification time. */
function* walk(dir) {
  yield { path: dir, mtime: statSync(dir).mtimeMs };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield { path, mtime: statSync(path).mtimeMs };
  }
}

/** Why dist/ must be built again, or null when it is fresh. */
function staleReason(root) {
  const dist = join(root, "dist");
  if (!existsSync(dist)) return "dist/ does not exist";
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const missing = promised(pkg).find((file) => !existsSync(join(root, file)));
  if (missing) return `${missing} is missing`;
  let built = Infinity;
  for (const { path, mtime } of walk(dist)) if (path !== dist) built = Math.min(built, mtime);
  const configs = ["package.json", "tsconfig.json", "tsup.config.ts"].map((f) => join(root, f)).filter((path) => existsSync(path));
  const sources = [...walk(join(root, "src")), ...configs.map((path) => ({ path, mtime: statSync(path).mtimeMs }))];
  const newer = sources.find((s) => s.mtime > built);
  return newer ? `${newer.path.slice(root.length).replace(/^[\\/]/, "")} changed since the last build` : null;
}

const reason = staleReason(root);
if (args.includes("--check")) {
  console.log(reason ?? "fresh");
  process.exit(reason ? 1 : 0);
}
if (reason) {
  const started = Date.now();
  process.stderr.write(`building agent-incidents (${reason}); this takes about a minute...\n`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const child = spawn(npm, ["run", "build", "--silent"], { cwd: root, stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const code = await new Promise((resolve) => child.on("close", resolve));
  if (code !== 0) {
    process.stderr.write(`${output}\nthe build failed (exit ${code}): the output is above\n`);
    process.exit(1);
  }
  process.stderr.write(`built in ${Math.round((Date.now() - started) / 1000)} s\n`);
}
