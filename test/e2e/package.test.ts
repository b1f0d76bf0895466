import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./spawn.js";

const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });

/** Runs one script against the built package, resolved by its public name as an installed copy would be. */
const script = `
  const incidents = createIncidents({ clock: fakeClock("2026-01-01T00:00:00Z") });
  const report = incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" });
  const { incident, outcome } = await report.executionFailed({ runId: "r", eventId: "e", action: { type: "refund.create" }, connector: { id: "c", provider: "stripe" }, error: { message: "down" } });
  let validation = null;
  try { await report.anomaly({}); } catch (e) { validation = e instanceof ValidationError && isIncidentError(e) ? e.code : "wrong"; }
  console.log(JSON.stringify({ outcome, severity: incident.severity, createdAt: incident.createdAt, validation, store: typeof sqliteStore, pg: typeof postgresStore }));
  await incidents.close();
`;
const expected = { outcome: "created", severity: "critical", createdAt: "2026-01-01T00:00:00.000Z", validation: "VALIDATION", store: "function", pg: "function" };

describe("the built package", () => {
  it("works from ESM through its public entry points", () => {
    const out = node([
      "--input-type=module",
      "-e",
      `import { createIncidents, ValidationError, isIncidentError } from "agent-incidents";
       import { fakeClock } from "agent-incidents/testing";
       import { sqliteStore } from "agent-incidents/sqlite";
       import { postgresStore } from "agent-incidents/postgres";
       ${script}`,
    ]);
    expect(JSON.parse(out)).toEqual(expected);
  });

  it("works from CommonJS through its public entry points", () => {
    const out = node([
      "-e",
      `const { createIncidents, ValidationError, isIncidentError } = require("agent-incidents");
       const { fakeClock } = require("agent-incidents/testing");
       const { sqliteStore } = require("agent-incidents/sqlite");
       const { postgresStore } = require("agent-incidents/postgres");
       (async () => { ${script} })();`,
    ]);
    expect(JSON.parse(out)).toEqual(expected);
  });

  it("defines each class once per format, shared by every entry point", () => {
    const dist = join(ROOT, "dist");
    for (const extension of [".js", ".cjs"]) {
      const files = readdirSync(dist).filter((f) => f.endsWith(extension));
      const definitions = files.filter((f) => /\bIncidentError = class\b|\bclass IncidentError\b/.test(readFileSync(join(dist, f), "utf8")));
      expect(definitions, `files defining IncidentError (${extension})`).toHaveLength(1);
    }
  });

  it("recognizes the errors of another copy of the package (here: the CommonJS copy seen from ESM)", () => {
    const out = node([
      "--input-type=module",
      "-e",
      `import { createRequire } from "node:module";
       import { NotFoundError, IncidentError, isIncidentError, ValidationError } from "agent-incidents";
       const other = createRequire(import.meta.url)("agent-incidents");
       const error = new other.NotFoundError("inc_x");
       console.log(JSON.stringify([other.NotFoundError === NotFoundError, error instanceof NotFoundError, error instanceof IncidentError, isIncidentError(error), error instanceof ValidationError]));`,
    ]);
    expect(JSON.parse(out)).toEqual([false, true, true, true, false]);
  });
});
