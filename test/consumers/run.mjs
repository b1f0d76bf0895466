#!/usr/bin/env node
// `npm run test:consumers`: checks the package as users get it. Packs it once, installs the
// tarball once into a temporary folder (with pg, vitest, typescript and @types/node at the
// versions of this repo's lockfile, from the local npm cache, and better-sqlite3 linked to this
// repo's built copy), then builds and runs the small consumer projects of .projects/ inside that
// folder, so they all resolve the one install:
//
//   esm-ts        TypeScript, "module": "nodenext", ES modules; tsc, then node
//   cjs-ts        TypeScript, "module": "commonjs" (moduleResolution node10); tsc, then node
//   cjs-require   plain require() of every entry point; node
//   bin           the agent-incidents command, as npm links it from the tarball
//   store-author  a third-party store's vitest project, "moduleResolution": "bundler": tsc
//                 --noEmit, then describeStoreConformance against memoryStore, sqliteStore
//                 and a store made with defineStore
//   docs          every ```ts block of README.md and docs/ (see docs.mjs): tsc --noEmit, then
//                 vitest runs the blocks marked ```ts test
//
// Every tsconfig has "skipLibCheck": false, so the shipped .d.ts files are checked too. The
// projects sit in a dot-folder so that this repo's own tsc and vitest runs skip them.
//
// Options: --verbose prints every step's output, --keep keeps the temporary folder.
// The last line is `consumers: N passed, M failed`; the exit code is 1 when one failed.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeDocsProject } from "./docs.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROJECTS = fileURLToPath(new URL("./.projects/", import.meta.url));
const verbose = process.argv.includes("--verbose");
const keep = process.argv.includes("--keep");

const started = performance.now();
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const work = mkdtempSync(join(tmpdir(), "agent-incidents-consumers-"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs a command, resolving with its exit code and its stdout and stderr interleaved. */
function run(command, args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (error) => resolve({ code: -1, output: `${output}${error.message}\n` }));
    child.on("close", (code) => resolve({ code, output }));
  });
}

// 1. One tarball, as `npm publish` would upload it (run `npm run build` first: pretest:consumers does).
let phase = performance.now();
const [{ filename }] = JSON.parse(execFileSync(npm, ["pack", "--json", "--pack-destination", work], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }));
const packTime = seconds(phase);

// 2. One install for all the projects.
phase = performance.now();
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const pinned = (name) => {
  const version = pkg.devDependencies[name];
  if (!version) throw new Error(`${name} is not a devDependency of ${pkg.name}`);
  return version;
};
const dependencies = { [pkg.name]: `file:./${filename}` };
// the frameworks the integration docs and checks import, at the versions the adapters are tested with
const frameworks = ["@openai/agents", "ai", "langchain", "@langchain/core", "@langchain/langgraph", "@opentelemetry/api", "@opentelemetry/sdk-trace-base"];
for (const name of ["pg", "@types/pg", "vitest", "typescript", "@types/node", ...frameworks]) dependencies[name] = pinned(name);
writeFileSync(join(work, "package.json"), `${JSON.stringify({ name: "consumers", private: true, dependencies }, null, 2)}\n`);
// This repo's lockfile seeds the install: npm keeps the locked versions, whose tarballs `npm ci`
// has put in the cache, so the install needs no registry metadata and works offline after it.
cpSync(join(ROOT, "package-lock.json"), join(work, "package-lock.json"));
const install = await run(npm, ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], work);
if (install.code !== 0) {
  process.stdout.write(install.output);
  console.log(`npm install failed in ${work}`);
  console.log("consumers: 0 passed, 1 failed");
  process.exit(1);
}
// better-sqlite3 builds a native addon when installed: use the copy this repo already built.
symlinkSync(join(ROOT, "node_modules", "better-sqlite3"), join(work, "node_modules", "better-sqlite3"), "junction");
const installTime = seconds(phase);

// 3. The projects, each in a folder of its own under the install.
cpSync(PROJECTS, work, { recursive: true });
const docs = writeDocsProject(ROOT, join(work, "docs"));
console.log(`docs: ${docs.blocks} TypeScript blocks, ${docs.tests} of them tests`);
const node = process.execPath;
const tsc = [node, join(work, "node_modules", "typescript", "bin", "tsc"), "-p", "."];
const vitest = [node, join(work, "node_modules", "vitest", "vitest.mjs"), "run"];
const projects = [
  { name: "esm-ts", steps: [tsc, [node, "out/main.js"]] },
  { name: "cjs-ts", steps: [tsc, [node, "out/main.js"]] },
  { name: "cjs-require", steps: [[node, "main.js"]] },
  { name: "bin", steps: [[node, "main.mjs"]] },
  { name: "store-author", steps: [tsc, vitest] },
  { name: "docs", steps: [tsc, vitest] },
];

phase = performance.now();
let passed = 0;
let failed = 0;
const queue = [...projects];
const worker = async () => {
  for (let project = queue.shift(); project; project = queue.shift()) {
    const since = performance.now();
    const cwd = join(work, project.name);
    let failure = null;
    let log = "";
    for (const [command, ...args] of project.steps) {
      const step = `${command === node ? "node" : command} ${args.map((a) => a.replace(`${work}/node_modules/`, "")).join(" ")}`;
      const { code, output } = await run(command, args, cwd);
      log += `  $ ${step}\n${output.replace(/^/gm, "    ").trimEnd()}\n`;
      if (code !== 0) {
        failure = `${step} exited with ${code}`;
        break;
      }
    }
    if (failure) failed++;
    else passed++;
    console.log(`${failure ? "FAIL" : "ok  "} ${project.name} (${seconds(since)})${failure ? `: ${failure}` : ""}`);
    if (failure || verbose) console.log(log);
  }
};
await Promise.all(Array.from({ length: Math.min(projects.length, Math.max(2, availableParallelism())) }, worker));
const projectsTime = seconds(phase);

if (failed || keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`pack ${packTime}, install ${installTime}, projects ${projectsTime}, total ${seconds(started)}`);
console.log(`consumers: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
