/**
 * Live updates in a real browser (headless Chromium, as in browser.test.ts): the console of one
 * process shows what another process writes to the same SQLite file, without a reload, and its
 * header says "live" only while that is true.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, type Actor, type Incidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { createConsoleHandler, type ConsoleHandler } from "agent-incidents/console";

const executable = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (path): path is string => typeof path === "string" && existsSync(path),
);

const ana: Actor = { id: "usr_ana", role: "operator", workspaceId: "ws_a" };

describe.skipIf(!executable)("console live updates in headless Chromium", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "agent-incidents-browser-live-"));
  const file = join(dir, "shared.db");
  let consoleSide: Incidents;
  let runtime: Incidents;
  let handler: ConsoleHandler;
  let browser: Browser;
  let server: Server;
  let origin: string;
  let failing = false;

  const report = async (i: number, title: string) => {
    const result = await runtime.reporter({ workspaceId: "ws_a", agentId: "agt_refunds", environment: "production" }).policyBlocked({
      runId: `run_${i}`,
      eventId: `evt_${i}`,
      action: { type: "refund.create" },
      policy: { id: `pol_${i}`, name: title, effect: "block" },
      impact: "critical",
    });
    if (!result.incident) throw new Error(`report ${i} was not written: ${result.outcome}`);
    return result.incident;
  };

  beforeAll(async () => {
    runtime = createIncidents({ store: sqliteStore({ filename: file }) });
    await report(1, "Already there");
    // the console's process: its own instance on the file, as `agent-incidents serve` opens it
    consoleSide = createIncidents({ store: sqliteStore({ filename: file }) });
    const read = consoleSide.feed.read;
    consoleSide.feed.read = (query) => (failing ? Promise.reject(new Error("disk I/O error")) : read(query));
    handler = createConsoleHandler(consoleSide, { authenticate: () => ana, onError: () => undefined });
    server = createServer(getRequestListener(handler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: executable, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    handler?.close();
    server?.closeAllConnections();
    server?.close();
    await runtime?.close();
    await consoleSide?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows an incident another process created, without a reload, and says live only while it is", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(origin);
    const rows = page.locator("table tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    await expect.poll(() => page.locator("#live").textContent()).toBe("live");
    await page.evaluate(() => ((globalThis as unknown as { loaded: string }).loaded = "this very page"));

    const fresh = await report(2, "Written by the runtime process");
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    expect(await rows.first().getAttribute("data-id")).toBe(fresh.id);
    expect(await rows.first().textContent()).toContain("Written by the runtime process");
    expect(await page.evaluate(() => (globalThis as unknown as { loaded?: string }).loaded)).toBe("this very page");

    // the console cannot read the store: the page stops saying live, and says it again when it can
    failing = true;
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 15_000 }).toBe("not live: the incident store is not answering; retrying");
    failing = false;
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 15_000 }).toBe("live");

    // the server ends its streams for good: the page says so instead of "live"
    handler.close();
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 15_000 }).toBe("not live: reload the page");
    expect(problems).toEqual([]);
    await context.close();
  });
});
