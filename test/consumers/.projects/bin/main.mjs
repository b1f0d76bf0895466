// The `agent-incidents` command as npm links it from the tarball: a runtime writes a SQLite file,
// the command lists it, and a mistyped path is an error that creates nothing.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIncidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";

const bin = join(import.meta.dirname, "..", "node_modules", ".bin", "agent-incidents");
const dir = mkdtempSync(join(tmpdir(), "consumer-bin-"));
const db = join(dir, "runtime.db");
const incidents = createIncidents({ store: sqliteStore({ filename: db }) });
await incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "loop" });
await incidents.close();

const list = JSON.parse(execFileSync(bin, ["list", "--db", db, "--workspace", "ws", "--json"], { encoding: "utf8" }));
assert.equal(list.items.length, 1);
assert.match(execFileSync(bin, ["--help"], { encoding: "utf8" }), /^Usage: agent-incidents/);
const missing = spawnSync(bin, ["list", "--db", join(dir, "typo.db"), "--workspace", "ws"], { encoding: "utf8" });
assert.equal(missing.status, 1);
assert.match(missing.stderr, /no database at/);
assert.equal(existsSync(join(dir, "typo.db")), false);
console.log("bin: ok");
