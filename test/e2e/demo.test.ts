import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./spawn.js";

const demo = (...args: string[]) =>
  execFileSync(process.execPath, ["--import", "tsx", "examples/demo.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });

describe("npm run demo", { timeout: 60_000 }, () => {
  it("reports the scripted runs, lists open incidents by severity, triages the top one and prints stats", () => {
    const out = demo("--memory");
    expect(out).toContain("store: in memory");
    expect(out).toMatch(/stripe failed refund\.create\s+→ created\s+#1 critical/);
    expect(out).toMatch(/policy blocked refund\.create \(\$900\)\s+→ created\s+#2 critical/);
    expect(out).toMatch(/retried hook\s+→ duplicate #2 critical/);
    expect(out).toMatch(/approver rejected refund\.create\s+→ created\s+#3 high/);
    expect(out).toMatch(/email\.send to outlok\.com\s+→ recurred\s+#4 high/);
    expect(out).toMatch(/run ended in error\s+→ created\s+#5 low/);
    const table = out.slice(out.indexOf("2. Open incidents"), out.indexOf("3. Incident"));
    const order = [...table.matchAll(/^\s+(\d+)\s+(CRITICAL|HIGH|MEDIUM|LOW)/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(order).toEqual(["2 CRITICAL", "1 CRITICAL", "4 HIGH", "3 HIGH", "5 LOW"]);
    expect(out).toContain("card\":\"[REDACTED]");
    expect(out).toMatch(/▶ \d\d:\d\d:\d\d {2}action\.requested/);
    expect(out).toMatch(/usr_ana resolved #2: policy_issue/);
    expect(out).toMatch(/MTTA\s+\d+\.\d min over 1/);
    const notifications = out.slice(out.indexOf("6. Notifications"));
    expect(notifications).toMatch(/webhook {2}incident\.created\s+CRITICAL #1\s+dlv_\w+, signature ok/);
    expect(notifications).toMatch(/webhook {2}incident\.resolved\s+CRITICAL #2/);
    expect(notifications).toMatch(/pager {4}created {3}#3 usr_lee rejected refund\.create/);
    expect(notifications).not.toMatch(/#5/); // low severity is not routed
  });

  it("keeps incidents in a SQLite file, so a second run sees the first run's", () => {
    const file = join(mkdtempSync(join(tmpdir(), "agent-incidents-demo-")), "demo.db");
    const first = demo("--db", file);
    expect(first).toContain(`store: SQLite file ${file}`);
    expect(first).not.toContain("from earlier runs");
    const second = demo("--db", file);
    expect(second).toContain("5 incidents from earlier runs are already in it");
    expect(second).toMatch(/stripe failed refund\.create\s+→ recurred\s+#1 critical/);
    expect(second).toMatch(/policy blocked refund\.create \(\$900\)\s+→ reopened\s+#2 critical/);
    expect(second).toMatch(/approver rejected refund\.create\s+→ created\s+#6 high/);
    // a reopened incident pages like a new one
    expect(second).toMatch(/pager {4}reopened {2}#2 Policy/);
    expect(second).toMatch(/webhook {2}incident\.reopened\s+CRITICAL #2/);
  });
});
