/**
 * The operator's day in the console, read as an operator reads it (headless Chromium, as in
 * browser.test.ts): every screen free of stray `null`s, every change readable, shared links that
 * never leave "Loading…", times with their zone, the detail's occurrences and latest run, a
 * conflict that keeps what was typed, a phone-width layout and the filters operators expect.
 */
import type { Browser, Page } from "playwright-core";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, memoryStore, type Actor, type Incidents, type RunSource } from "agent-incidents";
import { fakeClock, written } from "agent-incidents/testing";
import { createConsoleHandler, type ConsoleHandler } from "agent-incidents/console";
import { chromium } from "playwright-core";
import { chromiumPath, drawn, openAs, seen, serve, strays } from "./browser-helpers.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const actors: Record<string, Actor> = {
  ana: { id: "usr_ana", role: "operator", workspaceId: "ws_ops", name: "Ana" },
  vic: { id: "usr_vic", role: "viewer", workspaceId: "ws_ops" },
  eve: { id: "usr_eve", role: "operator", workspaceId: "ws_empty" },
};

describe.skipIf(!chromiumPath)("the operator's day in the console", { timeout: 90_000 }, () => {
  let incidents: Incidents;
  let handler: ConsoleHandler;
  let browser: Browser;
  let server: Server;
  let origin: string;
  const ids: Record<string, string> = {};
  const started = Date.now();

  const runs: RunSource = {
    async loadRun(runId) {
      const k = /^run_(\d+)$/.exec(runId)?.[1] ?? "0";
      const at = (ms: number) => new Date(started - 3 * HOUR + ms).toISOString();
      return {
        runId,
        status: "errored",
        events: [
          { id: `${runId}_start`, type: "message.user", at: at(0), data: { text: `pay out merchant ${k}` } },
          { id: `ev_${k}`, type: "tool.call", at: at(2100), data: { tool: "payout.create", amount: 300 } },
        ],
      };
    },
  };

  beforeAll(async () => {
    const clock = fakeClock(new Date(started - 40 * DAY));
    incidents = createIncidents({ store: memoryStore(), clock, runs });
    const ana = incidents.as(actors.ana!);
    const reporter = incidents.reporter({ workspaceId: "ws_ops", agentId: "agt_payouts", environment: "production" });
    const block = async (policy: string, name: string, runId: string, eventId: string, impact: "low" | "critical") =>
      written(
        await reporter.policyBlocked({
          runId,
          eventId,
          action: { type: "payout.create", payload: { amount: 300, merchant: "m_42" } },
          policy: { id: policy, name, effect: "block", reason: "over the cap" },
          impact,
        }),
      ).incident;

    // 40 days ago: an export outage, resolved with two actions
    ids["old"] = (await block("pol_export", "Nightly export", "run_old", "ev_old", "low")).id;
    clock.advance(HOUR);
    await ana.resolve(ids["old"], { note: "Export connector restarted", rootCause: "connector_failure", actions: ["connector_fixed", "customer_contacted"], systemic: false });

    // 3 days ago: sixty critical blocks, so what follows is beyond the first page
    clock.set(new Date(started - 3 * DAY));
    for (let k = 1; k <= 60; k++) await block(`pol_n${k}`, `Refund limit ${k}`, `run_n${k}`, `ev_n${k}`, "critical");

    // 3 hours ago: an incident's whole life, twenty-five runs long
    clock.set(new Date(started - 3 * HOUR));
    ids["life"] = (await block("pol_payout", "Payout cap", "run_1", "ev_1", "low")).id;
    for (let k = 2; k <= 25; k++) {
      clock.advance(MIN);
      await block("pol_payout", "Payout cap", `run_${k}`, `ev_${k}`, k === 25 ? "critical" : "low");
    }
    clock.advance(5 * MIN);
    await ana.acknowledge(ids["life"]);
    await ana.startInvestigating(ids["life"]);
    await ana.assign(ids["life"], "usr_bo");
    await ana.addNote(ids["life"], "Looking at the payout cap");
    await ana.setSeverity(ids["life"], "high", "Only one merchant affected");
    await ana.resolve(ids["life"], { note: "Raised the payout cap", rootCause: "policy_issue", actions: ["policy_updated", "agent_restarted"], systemic: true });
    clock.advance(10 * MIN);
    await ana.reopen(ids["life"], "Came back after the deploy");

    // an hour ago: a staging escalation assigned to Ana, the one low incident
    clock.set(new Date(started - HOUR));
    ids["needle"] = (await ana.escalate({ title: "Checkout agent double-charges", severity: "low", environment: "staging", agentId: "agt_checkout" })).id;
    await ana.assign(ids["needle"], "usr_ana");

    // half an hour ago: one to resolve from the page
    clock.set(new Date(started - 30 * MIN));
    ids["conflict"] = (await block("pol_conflict", "Refund cap", "run_c", "ev_c", "low")).id;

    handler = createConsoleHandler(incidents, {
      basePath: "/console",
      title: "Acme incidents",
      linkTo: (incident) => `/runs/${incident.runId}`,
      authenticate: (request) => actors[/(?:^|; )user=(\w+)/.exec(request.headers.get("cookie") ?? "")?.[1] ?? ""] ?? null,
      onError: () => undefined,
    });
    ({ origin, server } = await serve(handler));
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    handler?.close();
    server?.closeAllConnections();
    server?.close();
    await incidents?.close();
  });

  const open = (user: string, path: string, options: Parameters<typeof openAs>[4] = {}) => openAs(browser, origin, user, `/console${path}`, options);
  const cells = (page: Page, row: string, column: number) => page.locator(`${row} td:nth-child(${column})`).allInnerTexts();

  it("shows no stray null, undefined, [object Object], NaN or Invalid Date on any screen", async () => {
    const screens: Array<[string, string]> = [
      ["ana", ""],
      ["ana", "?status=all"],
      ["ana", `?incident=${ids["life"]}`],
      ["ana", `?incident=${ids["old"]}`],
      ["ana", `?incident=${ids["needle"]}`],
      ["ana", `?incident=${ids["life"]}&run=run_3`],
      ["ana", "?view=review"],
      ["ana", "?view=review&since=all"],
      ["vic", `?incident=${ids["life"]}`],
      ["eve", ""],
      ["eve", "?view=review"],
    ];
    for (const [user, path] of screens) {
      const { page, context, problems } = await open(user, path);
      await drawn(page);
      expect({ path, strays: await strays(page) }).toEqual({ path, strays: [] });
      expect({ path, problems }).toEqual({ path, problems: [] });
      await context.close();
    }
  });

  it("writes every change of a lifecycle readably: root cause, actions, systemic, notes", async () => {
    const { page, context } = await open("ana", `?incident=${ids["life"]}`);
    await drawn(page);
    const rows = page.locator("#activity tbody tr");
    const what = await cells(page, "#activity tbody tr", 3);
    expect(new Set(what)).toEqual(new Set(["created", "recurred", "acknowledged", "started investigating", "assigned", "note added", "severity changed", "resolved", "reopened"]));
    // a cell's text holds its column's name too, shown only on a phone
    const row = async (type: string) => (await rows.filter({ has: page.locator("td:nth-child(3)", { hasText: new RegExp(`(?:^|What)${type}$`) }) }).first().innerText()).replace(/\s+/g, " ");
    expect(await row("resolved")).toContain("status: investigating → resolved");
    expect(await row("resolved")).toContain("root cause policy_issue; actions: policy_updated, agent_restarted; systemic");
    expect(await row("resolved")).toContain("Raised the payout cap");
    expect(await row("reopened")).toContain("status: resolved → open");
    expect(await row("reopened")).toContain("resolution removed (was root cause policy_issue; actions: policy_updated, agent_restarted; systemic; note: Raised the payout cap)");
    expect(await row("reopened")).toContain("Came back after the deploy");
    expect(await row("assigned")).toContain("assignee: nobody → usr_bo");
    expect(await row("severity changed")).toContain("severity: critical → high");
    expect(await row("severity changed")).toContain("Only one merchant affected");
    expect(await row("note added")).toContain("Looking at the payout cap");
    expect(await row("created")).toContain("agent agt_payouts");
    expect(await row("acknowledged")).toContain("usr_ana (operator)");
    await context.close();
  });

  it("falls back to the default period or filter on a shared link with garbage, and says so", async () => {
    const links: Array<[string, RegExp, string]> = [
      ["?view=review&since=abc", /period “abc”.*last 30 days/i, "Review"],
      ["?view=review&since=1e9", /period “1e9”.*last 30 days/i, "Review"],
      ["?view=review&since=-3", /period “-3”.*last 30 days/i, "Review"],
      ["?severity=urgent", /severity “urgent”/i, "Incidents"],
      ["?status=closed&kind=nope", /status “closed”[\s\S]*kind “nope”/i, "Incidents"],
      ["?lastSeen=forever&environment=mars", /(?=[\s\S]*last seen “forever”)(?=[\s\S]*environment “mars”)/i, "Incidents"],
      ["?cursor=garbage", /link.*page.*first page/i, "Incidents"],
      ["?incident=inc_missing", /not found/i, "Incident not found"],
      ["?incident=inc_x&run=%00", /run/i, "Incident not found"],
    ];
    for (const [link, notice, heading] of links) {
      const { page, context, problems } = await open("ana", link);
      await drawn(page);
      expect({ link, heading: await page.locator("main h2").first().innerText() }).toEqual({ link, heading });
      expect({ link, notice: notice.test(await page.locator("main").innerText()) }).toEqual({ link, notice: true });
      // the browser logs a 400 or 404 answer itself; the page handled it
      expect({ link, problems: problems.filter((p) => !/Failed to load resource: .* (400|404) /.test(p)) }).toEqual({ link, problems: [] });
      if (heading === "Review") expect(await page.locator("select[name=since]").inputValue()).toBe("30");
      if (heading === "Incidents") await expect.poll(() => page.locator("table.incidents tbody tr").count(), { timeout: 10_000 }).toBeGreaterThan(0);
      await context.close();
    }
  });

  it("writes every time one way: relative, with the absolute time and zone on hover, on one line", async () => {
    const { page, context } = await open("ana", `?status=all&lastSeen=24h`, { timezoneId: "America/New_York" });
    await drawn(page);
    const lastSeen = page.locator("table.incidents tbody tr td.when time");
    await expect.poll(() => lastSeen.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    for (const text of await lastSeen.allInnerTexts()) expect(text).toMatch(/^(just now|\d+ min ago|\d+ h ago)$/);
    const title = (await lastSeen.first().getAttribute("title"))!;
    expect(title).toContain("America/New_York");
    expect(title).toMatch(/\d{2}:\d{2}:\d{2}/);
    // one line each, in the wide table and in the phone's cards
    expect(await lastSeen.evaluateAll((nodes) => nodes.map((n) => n.getClientRects().length))).toEqual(Array(await lastSeen.count()).fill(1));
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await lastSeen.evaluateAll((nodes) => nodes.map((n) => n.getClientRects().length))).toEqual(Array(await lastSeen.count()).fill(1));
    await page.goto(`${origin}/console?incident=${ids["life"]}`);
    await drawn(page);
    const times = page.locator("main time");
    expect(await times.count()).toBeGreaterThan(10);
    for (const text of await times.allInnerTexts()) expect(text).toMatch(/^(just now|\d+ min ago|\d+ h ago|\d+ days? ago)$/);
    for (const zone of await times.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("title") ?? ""))) expect(zone).toContain("America/New_York");
    // no browser-default date formats left anywhere
    expect(await page.locator("main").innerText()).not.toMatch(/\d{1,2}\/\d{1,2}\/\d{4}|\d{4}-\d{2}-\d{2}T/);
    await context.close();
  });

  it("shows the detail's occurrences newest first, twenty at a time, the latest run, the resolution's actions and a context without nulls", async () => {
    const { page, context, problems } = await open("ana", `?incident=${ids["life"]}`);
    await drawn(page);
    const occurrences = page.locator("#occurrences tbody tr");
    expect(await occurrences.count()).toBe(20);
    expect(await cells(page, "#occurrences tbody tr", 2).then((runs) => runs.slice(0, 2))).toEqual(["run_25", "run_24"]);
    expect(await page.locator("#occurrences").innerText()).toContain("newest 20 of 25");
    await page.getByRole("button", { name: "Show 5 more" }).click();
    await expect.poll(() => occurrences.count(), { timeout: 10_000 }).toBe(25);
    expect((await cells(page, "#occurrences tbody tr", 2)).at(-1)).toBe("run_1");
    // the timeline is the latest run's, its own triggering event marked
    const timeline = page.locator("#timeline");
    expect(await timeline.locator("h3").innerText()).toMatch(/run_25.*latest of 25 runs/);
    expect(await timeline.locator("li.trigger").innerText()).toContain("ev_25");
    expect(await page.getByRole("link", { name: "Open the run" }).getAttribute("href")).toBe("/runs/run_25");
    // an earlier run from the occurrences
    await page.locator("#occurrences").getByRole("link", { name: "run_3", exact: true }).click();
    await page.waitForURL(/run=run_3/);
    await expect.poll(() => page.locator("#timeline h3").innerText(), { timeout: 10_000 }).toMatch(/run_3/);
    expect(await page.locator("#timeline li.trigger").innerText()).toContain("ev_3");
    // the context panel names what it has and leaves out what it does not
    const panel = await page.locator("#context").innerText();
    expect(panel).toContain("payout.create");
    expect(panel).toContain("Payout cap (pol_payout) · block · over the cap");
    expect(panel).not.toMatch(/null|Data/);
    await page.goto(`${origin}/console?incident=${ids["old"]}`);
    await drawn(page);
    const facts = (await page.locator("main dl").first().innerText()).replace(/\s+/g, " ");
    expect(facts).toContain("Resolution root cause connector_failure; actions: connector_fixed, customer_contacted; not systemic; note: Export connector restarted");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("keeps what the operator typed on a version conflict, and says so next to the Resolve form, in view", async () => {
    const { page, context, problems } = await open("ana", `?incident=${ids["conflict"]}`, { viewport: { width: 1280, height: 700 }, withoutLiveUpdates: true });
    await drawn(page);
    await page.getByLabel("Resolution note").fill("Cap raised for gold merchants");
    await page.getByLabel("Root cause").selectOption("policy_issue");
    await page.getByLabel("policy_updated").check();
    await page.getByLabel("Systemic (needs a lasting fix)").check();
    await incidents.as(actors.ana!).addNote(ids["conflict"]!, "meanwhile, from the CLI");
    await page.getByRole("button", { name: "Resolve" }).click();
    const form = page.locator("form[data-form=resolve]");
    await expect.poll(() => form.getByRole("alert").count(), { timeout: 10_000 }).toBe(1);
    expect(await form.getByRole("alert").innerText()).toContain("Someone changed this incident first");
    expect(await page.getByLabel("Resolution note").inputValue()).toBe("Cap raised for gold merchants");
    expect(await page.getByLabel("Root cause").inputValue()).toBe("policy_issue");
    expect(await page.getByLabel("policy_updated").isChecked()).toBe(true);
    expect(await page.getByLabel("Systemic (needs a lasting fix)").isChecked()).toBe(true);
    // the other change is on the page now
    expect(await page.locator("#activity").innerText()).toContain("meanwhile, from the CLI");
    const box = await form.getByRole("alert").evaluate((n) => {
      const r = n.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, height: (globalThis as unknown as { innerHeight: number }).innerHeight };
    });
    expect(box.top).toBeGreaterThanOrEqual(0);
    expect(box.bottom).toBeLessThanOrEqual(box.height);
    await page.getByRole("button", { name: "Resolve" }).click();
    await expect.poll(() => incidents.as(actors.ana!).get(ids["conflict"]!).then((i) => i.status), { timeout: 10_000 }).toBe("resolved");
    expect((await incidents.as(actors.ana!).get(ids["conflict"]!)).resolution).toMatchObject({ note: "Cap raised for gold merchants", actions: ["policy_updated"], systemic: true });
    // the browser logs the 409 itself; nothing else went wrong
    expect(problems.filter((p) => !p.includes("409 (Conflict)"))).toEqual([]);
    await context.close();
  });

  it("fits a 390 px phone: no sideways scrolling, a header on at most two lines, the list as cards", async () => {
    for (const path of ["", `?incident=${ids["life"]}`, "?view=review"]) {
      const { page, context, problems } = await open("ana", path, { viewport: { width: 390, height: 844 } });
      await drawn(page);
      expect({ path, width: await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth) }).toEqual({ path, width: 390 });
      const lines = await page.locator("header > *").evaluateAll((nodes) => {
        // a row starts where an element begins below the bottom of the row before
        const boxes = nodes.map((n) => n.getBoundingClientRect()).filter((r) => r.height > 0).sort((a, b) => a.top - b.top);
        let rows = 0;
        let bottom = -Infinity;
        for (const box of boxes) {
          if (box.top >= bottom - 2) rows += 1;
          bottom = box.top >= bottom - 2 ? box.bottom : Math.max(bottom, box.bottom);
        }
        const wrapped = nodes.filter((n) => n.getBoundingClientRect().height > 2 * parseFloat((globalThis as unknown as { getComputedStyle(n: unknown): { lineHeight: string } }).getComputedStyle(n).lineHeight || "20"));
        return { rows, wrapped: wrapped.map((n) => n.textContent) };
      });
      expect({ path, wrapped: lines.wrapped }).toEqual({ path, wrapped: [] });
      expect(lines.rows).toBeLessThanOrEqual(2);
      if (path === "") {
        const card = page.locator("table.incidents tbody tr").first();
        const text = await card.innerText();
        expect(text).toMatch(/^#\d+\s+critical\s+Policy "Refund limit \d+" blocked payout.create\s+Agent\s+agt_payouts/);
        expect(text).toMatch(/Last seen\s*\d+ days? ago/);
      }
      expect({ path, problems }).toEqual({ path, problems: [] });
      await context.close();
    }
  });

  it("says what to do when there is nothing to show", async () => {
    const empty = await open("eve", "");
    await drawn(empty.page);
    expect(await empty.page.locator("main").innerText()).toContain("No incidents in workspace ws_empty: check the workspace id");
    await empty.page.goto(`${origin}/console?view=review`);
    await drawn(empty.page);
    const review = (await empty.page.locator("main").innerText()).replace(/\s+/g, " ");
    expect(review).toContain("Top recurring: none yet");
    expect(review).toContain("MTTA none acknowledged yet");
    await empty.context.close();
    const filtered = await open("ana", "?q=no+such+incident+anywhere");
    await drawn(filtered.page);
    expect(await filtered.page.locator("main").innerText()).toContain("No incidents match these filters.");
    await filtered.page.getByRole("link", { name: "Clear the filters" }).click();
    await expect.poll(() => filtered.page.locator("table.incidents tbody tr").count(), { timeout: 10_000 }).toBe(50);
    await filtered.context.close();
  });

  it("filters by assignee (mine), environment, kind, last seen and title text, server-side, and keeps them in the URL", async () => {
    const { page, context, problems } = await open("ana", "");
    await drawn(page);
    const titles = () => page.locator("table.incidents tbody tr td.title").allInnerTexts();
    // the needle is low severity: beyond the first page of fifty criticals
    expect(await titles()).not.toContain("Checkout agent double-charges");
    await page.getByLabel("Search titles").fill("DOUBLE-charges");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/q=DOUBLE-charges/);
    await expect.poll(titles, { timeout: 10_000 }).toEqual(["Checkout agent double-charges"]);

    await page.goto(`${origin}/console?assignee=mine`);
    await expect.poll(titles, { timeout: 10_000 }).toEqual(["Checkout agent double-charges"]);
    expect(await page.getByLabel("Assignee").inputValue()).toBe("mine");

    await page.goto(`${origin}/console`);
    await drawn(page);
    await page.getByLabel("Environment").selectOption("staging");
    await page.getByLabel("Kind").selectOption("manual");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/environment=staging/);
    expect(page.url()).toMatch(/kind=manual/);
    await expect.poll(titles, { timeout: 10_000 }).toEqual(["Checkout agent double-charges"]);
    await page.reload();
    await expect.poll(titles, { timeout: 10_000 }).toEqual(["Checkout agent double-charges"]);
    expect(await page.getByLabel("Environment").inputValue()).toBe("staging");

    await page.goto(`${origin}/console?status=all&lastSeen=24h`);
    await expect.poll(async () => (await titles()).sort(), { timeout: 10_000 }).toEqual([
      "Checkout agent double-charges",
      'Policy "Payout cap" blocked payout.create',
      'Policy "Refund cap" blocked payout.create',
    ]);
    await page.goto(`${origin}/console?status=all&lastSeen=30d`);
    await drawn(page);
    expect(await page.locator("main").innerText()).not.toContain("Nightly export");
    await page.goto(`${origin}/console?status=all&q=nightly`);
    await expect.poll(titles, { timeout: 10_000 }).toEqual(['Policy "Nightly export" blocked payout.create']);
    expect(await seen(page)).not.toContain("Loading");
    expect(problems).toEqual([]);
    await context.close();
  });
});
