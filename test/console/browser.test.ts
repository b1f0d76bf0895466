/**
 * The console in a real browser: headless Chromium (Debian's `chromium` package) driven by
 * playwright-core. Set CHROMIUM_PATH to use another build; without one, these tests are skipped
 * and say so.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, memoryStore, type Actor, type Incidents, type RunSource } from "agent-incidents";
import { written } from "agent-incidents/testing";
import { createConsoleHandler } from "agent-incidents/console";

const executable = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (path): path is string => typeof path === "string" && existsSync(path),
);
if (!executable) console.warn("console browser tests skipped: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)");

const actors: Record<string, Actor> = {
  ana: { id: "usr_ana", role: "operator", workspaceId: "ws_a", name: "Ana" },
  vic: { id: "usr_vic", role: "viewer", workspaceId: "ws_a" },
  bob: { id: "usr_bob", role: "operator", workspaceId: "ws_b" },
};
const XSS = `<img src=x onerror="window.__pwned=1">`;
// UPDATE_SCREENSHOTS=1 npm test refreshes the README's pictures; other runs keep theirs in .tmp
const SHOTS = join(import.meta.dirname, "..", "..", process.env["UPDATE_SCREENSHOTS"] ? "docs/images" : ".tmp/screenshots");

describe.skipIf(!executable)("console in headless Chromium", { timeout: 60_000 }, () => {
  let incidents: Incidents;
  let browser: Browser;
  let server: Server;
  let evil: Server;
  let origin: string;
  let evilOrigin: string;
  const ids: Record<string, string> = {};
  const started = Date.now();

  const runs: RunSource = {
    async loadRun(runId) {
      return {
        runId,
        status: "errored",
        // the run started two minutes before the tests did, so the page shows it as recent
        events: [
          { id: "ev_1", type: "message.user", at: new Date(started - 120_000).toISOString(), data: { text: "refund order 1042, please" } },
          { id: "ev_2", type: "tool.call", at: new Date(started - 118_000).toISOString(), data: { tool: "refund.create", amount: 1800 } },
          { id: "ev_3", type: "policy.blocked", at: new Date(started - 117_900).toISOString() },
        ],
      };
    },
  };

  const report = async (workspaceId: string, i: number, impact: "low" | "critical", title = `Refund limit ${i}`) =>
    written(
      await incidents.reporter({ workspaceId, agentId: "agt_refunds", environment: "production" }).policyBlocked({
        runId: `run_${i}`,
        eventId: "ev_2",
        action: { type: "refund.create", payload: { amount: 100 * i, card: "4242 4242 4242 4242" } },
        policy: { id: `pol_${i}`, name: title, effect: "block", reason: "over the limit" },
        impact,
      }),
    );
  const escalate = (i: number, severity: "low" | "high", title: string) =>
    incidents.as(actors.ana!).escalate({ title, severity, agentId: "agt_support", runId: `run_${i}`, eventId: "ev_2" });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    incidents = createIncidents({ store: memoryStore(), runs });
    // one of each severity (a policy block of critical impact is critical, of low impact medium)
    ids["low"] = (await escalate(1, "low", "Approvals are slow today")).id;
    ids["critical"] = (await report("ws_a", 2, "critical")).incident.id;
    ids["medium"] = (await report("ws_a", 3, "low")).incident.id;
    ids["xss"] = (await escalate(4, "high", XSS)).id;
    ids["high"] = (await escalate(5, "high", "Support agent loops on refunds")).id;
    ids["other"] = (await report("ws_b", 6, "critical", "Workspace B secret incident")).incident.id;
    const handler = createConsoleHandler(incidents, {
      basePath: "/incidents",
      title: "Acme incidents",
      linkTo: (incident) => `/runs/${incident.runId}`,
      authenticate: (request) => actors[/(?:^|; )user=(\w+)/.exec(request.headers.get("cookie") ?? "")?.[1] ?? ""] ?? null,
    });
    server = createServer(getRequestListener(handler));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // another site that tries to change things with the operator's cookie
    evil = createServer((_, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><body>
        <form id="f" method="post" action="${origin}/incidents/api/incidents/${ids["low"]}/actions" enctype="text/plain">
          <input name='{"action":"acknowledge","x":"' value='"}'></form>
        <script>
          fetch("${origin}/incidents/api/incidents/${ids["low"]}/actions", { method: "POST", mode: "no-cors", credentials: "include",
            headers: { "content-type": "text/plain" }, body: JSON.stringify({ action: "acknowledge" }) })
            .finally(() => document.getElementById("f").submit());
        </script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, "localhost", resolve));
    evilOrigin = `http://localhost:${(evil.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: executable, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    server?.close();
    evil?.close();
    await incidents?.close();
  });

  /** A page signed in as `user`, failing the test on any console error or request to another origin. */
  async function open(user: string, path = "/incidents"): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: "user", value: user, url: origin }]);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("request", (request) => {
      if (!request.url().startsWith(origin)) problems.push(`request to another origin: ${request.url()}`);
    });
    await page.goto(origin + path);
    return { page, context, problems };
  }

  it("lists open incidents by severity, then recency, with counts, and keeps filters in the URL", async () => {
    const { page, context, problems } = await open("ana");
    const rows = page.locator("table tbody tr");
    await expect.poll(() => rows.count()).toBe(5);
    expect(await rows.locator("td:nth-child(2)").allInnerTexts()).toEqual(["critical", "high", "high", "medium", "low"]);
    // the two highs: the later report first
    expect(await rows.nth(1).getAttribute("data-id")).toBe(ids["high"]);
    expect(await page.locator("th[scope=col]").allTextContents()).toContain("Severity");
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    await page.screenshot({ path: join(SHOTS, "console-list.png"), fullPage: true });

    await page.selectOption("select[name=severity]", "high");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/severity=high/);
    await expect.poll(() => rows.count()).toBe(2);
    await page.reload();
    await expect.poll(() => rows.locator("td:nth-child(2)").allInnerTexts()).toEqual(["high", "high"]);
    await page.goto(`${origin}/incidents?agent=agt_support`);
    await expect.poll(() => rows.locator("td:nth-child(4)").allInnerTexts()).toEqual(["agt_support", "agt_support", "agt_support"]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows an agent's HTML as text: the XSS title is literal and runs nothing", async () => {
    const { page, context, problems } = await open("ana");
    await page.getByRole("link", { name: XSS, exact: false }).first().click();
    await page.waitForURL(/incident=/);
    await expect.poll(() => page.locator("h2").textContent()).toContain(XSS);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows the list as cards on a 390 px phone, with nothing to scroll sideways", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
    await context.addCookies([{ name: "user", value: "ana", url: origin }]);
    const page = await context.newPage();
    await page.goto(`${origin}/incidents`);
    await expect.poll(() => page.locator("table tbody tr").count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    expect(await page.locator("thead").isVisible()).toBe(false);
    expect(await page.locator("table tbody tr").first().innerText()).toMatch(/^#2\s+critical\s+Policy "Refund limit 2" blocked refund.create\s+Agent\s+agt_refunds\s+Status\s+open/);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBe(390);
    await page.screenshot({ path: join(SHOTS, "console-phone.png"), fullPage: true });
    await context.close();
  });

  it("shows the detail with the run timeline, acknowledges and resolves from the page as the signed-in operator", async () => {
    const { page, context, problems } = await open("ana", `/incidents?incident=${ids["critical"]}`);
    await expect.poll(() => page.locator("h2").textContent()).toMatch(/^#2 /);
    const text = (await page.locator("main").textContent())!;
    expect(text).toContain((await incidents.as(actors.ana!).get(ids["critical"]!)).severityReason.explanation);
    expect(text).toContain("run_2");
    expect(await page.locator("li.trigger").textContent()).toContain("ev_2");
    expect(await page.getByRole("link", { name: "Open the run" }).getAttribute("href")).toBe("/runs/run_2");
    expect(text).not.toContain("4242 4242 4242 4242");

    await page.getByRole("button", { name: "Acknowledge" }).click();
    await expect.poll(() => page.locator("main dl.facts").textContent()).toContain("acknowledged");
    await page.getByLabel("Resolution note").fill("Raised the limit for gold customers");
    await page.getByLabel("Root cause").selectOption("policy_issue");
    await page.getByLabel("policy_updated").check();
    await page.getByLabel("Systemic (needs a lasting fix)").check();
    await page.getByRole("button", { name: "Resolve" }).click();
    await expect.poll(async () => `${await page.locator("main dl.facts").textContent()} ${await page.locator("[role=alert]").allTextContents()}`).toContain("Statusresolved");
    // the picture in the README: the detail after a resolve, its activity written out
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    await page.screenshot({ path: join(SHOTS, "console-detail.png"), fullPage: true });
    const detail = await incidents.as(actors.ana!).get(ids["critical"]!);
    expect(detail.status).toBe("resolved");
    expect(detail.resolution).toMatchObject({ rootCause: "policy_issue", actions: ["policy_updated"], systemic: true });
    expect(detail.activity.slice(1).map((a) => [a.type, a.actor.id, a.actor.role])).toEqual([
      ["acknowledged", "usr_ana", "operator"],
      ["resolved", "usr_ana", "operator"],
    ]);
    expect(await page.locator("tbody").last().textContent()).toContain("usr_ana (operator)");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a version conflict when someone changed the incident first", async () => {
    // without the event stream the page cannot know of the other change before it submits
    const context = await browser.newContext();
    await context.addCookies([{ name: "user", value: "ana", url: origin }]);
    const page = await context.newPage();
    await page.route("**/api/events", (route) => route.abort());
    await page.goto(`${origin}/incidents?incident=${ids["medium"]}`);
    await expect.poll(() => page.locator("h2").textContent()).toMatch(/^#3 /);
    await incidents.as(actors.ana!).addNote(ids["medium"]!, "meanwhile, from the API");
    await page.getByLabel("Note", { exact: true }).fill("from the page");
    await page.getByRole("button", { name: "Add note" }).click();
    await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("Someone changed this incident first");
    await context.close();
  });

  it("refuses a cross-site form and fetch: nothing changes", async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: "user", value: "ana", url: origin }]);
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on("response", (response) => {
      if (response.url().startsWith(origin)) statuses.push(response.status());
    });
    const before = await incidents.as(actors.ana!).get(ids["low"]!);
    await page.goto(evilOrigin);
    await expect.poll(() => statuses.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await page.waitForLoadState("networkidle");
    expect(statuses.length).toBeGreaterThanOrEqual(1);
    // 403 from the same-origin check, or 401 where the browser did not even send the cookie (SameSite)
    expect(statuses.filter((s) => s !== 401 && s !== 403)).toEqual([]);
    const after = await incidents.as(actors.ana!).get(ids["low"]!);
    expect(after.version).toBe(before.version);
    expect(after.status).toBe("open");
    await context.close();
  });

  it("shows a viewer no actions, and refuses the viewer's direct API call", async () => {
    const { page, context, problems } = await open("vic", `/incidents?incident=${ids["low"]}`);
    await expect.poll(() => page.locator("main").textContent()).toContain("can only read");
    expect(await page.getByRole("button", { name: "Acknowledge" }).count()).toBe(0);
    const status = await page.evaluate(async (id) => {
      const response = await fetch(`/incidents/api/incidents/${id}/actions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "acknowledge" }),
      });
      return response.status;
    }, ids["low"]);
    expect(status).toBe(403);
    expect((await incidents.as(actors.ana!).get(ids["low"]!)).status).toBe("open");
    expect(problems.filter((p) => !p.includes("403"))).toEqual([]);
    await context.close();
  });

  it("shows a new incident without a reload, and never another workspace's, in the list or the stream", async () => {
    const ana = await open("ana");
    const bob = await open("bob");
    const anaRows = ana.page.locator("table tbody tr");
    const unresolved = (await incidents.as(actors.ana!).list({ status: ["open", "acknowledged", "investigating"] })).items.length;
    await expect.poll(() => anaRows.count()).toBe(unresolved);
    await expect.poll(() => ana.page.locator("#live").textContent()).toBe("live");
    await expect.poll(() => bob.page.locator("#live").textContent()).toBe("live");
    expect(await bob.page.locator("main").textContent()).not.toContain("Refund limit");
    const fresh = (await report("ws_a", 7, "critical", "Fresh critical block")).incident;
    await report("ws_b", 8, "critical", "Fresh in workspace B");
    await expect.poll(() => anaRows.first().getAttribute("data-id")).toBe(fresh.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const bobText = (await bob.page.locator("main").textContent())!;
    expect(bobText).toContain("Workspace B secret incident");
    expect(bobText).not.toContain("Fresh critical block");
    await expect.poll(() => bob.page.locator("main").textContent()).toContain("Fresh in workspace B");
    expect(await ana.page.locator("main").textContent()).not.toContain("Fresh in workspace B");
    expect(await ana.page.locator("main").textContent()).not.toContain("Workspace B secret incident");
    expect([...ana.problems, ...bob.problems]).toEqual([]);
    await ana.context.close();
    await bob.context.close();
  });

  it("draws the review: MTTA, MTTR, by severity, kind and agent, recurring, root causes", async () => {
    await incidents.as(actors.ana!).resolve(ids["medium"]!, { note: "Limit raised", rootCause: "policy_issue", systemic: false });
    const { page, context, problems } = await open("ana", "/incidents?view=review");
    await expect.poll(() => page.locator("main").textContent()).toContain("MTTR");
    const text = (await page.locator("main").textContent())!;
    for (const part of ["By severity", "By kind", "By agent", "Root causes", "Top recurring", "policy_issue", "agt_refunds", "agt_support"]) expect(text).toContain(part);
    const widths = await page.locator(".bar").evaluateAll((bars) => bars.map((b) => (b as unknown as { style: { width: string } }).style.width));
    expect(widths.some((w) => w === "100%")).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, "console-review.png"), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });
});
