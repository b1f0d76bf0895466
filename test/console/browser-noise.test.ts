/**
 * Noise control in the console, read as an operator reads it (headless Chromium, as in
 * browser-operator.test.ts): one outage across three agents shows as one group row with its badge,
 * its detail lists the three members, a member says which group it is in, an incident is silenced
 * from its detail ("Silence similar") and an acknowledged one snoozed, and the silences view lists
 * and expires what was silenced. Every screen is checked for stray `null`s and screenshotted.
 */
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIncidents, memoryStore, type Actor, type Incidents } from "agent-incidents";
import { fakeClock } from "agent-incidents/testing";
import { createConsoleHandler, type ConsoleHandler } from "agent-incidents/console";
import { chromiumPath, drawn, openAs, seen, serve, strays } from "./browser-helpers.js";

const WS = "ws_noise";
const actors: Record<string, Actor> = {
  ana: { id: "usr_ana", role: "operator", workspaceId: WS, name: "Ana" },
  vic: { id: "usr_vic", role: "viewer", workspaceId: WS },
};
const SHOTS = join(import.meta.dirname, "..", "..", ".tmp", "screenshots");

describe.skipIf(!chromiumPath)("noise control in the console", { timeout: 90_000 }, () => {
  let incidents: Incidents;
  let handler: ConsoleHandler;
  let browser: Browser;
  let server: Server;
  let origin: string;
  const ids: Record<string, string> = {};
  const numbers: Record<string, number> = {};

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // the library's clock starts at the real time: the page and the server count durations from it
    // a minute behind, so once the group window has passed its "now" is the page's
    const clock = fakeClock(new Date(Date.now() - 60_000));
    incidents = createIncidents({
      store: memoryStore(),
      clock,
      noise: {
        groups: [{ name: "outage", by: ["connector.id", "error.code"], windowMs: 60_000 }],
        inhibit: [{ source: { kinds: "anomaly" }, target: { kinds: "agent_error" }, equal: ["environment"] }],
      },
    });
    const failed = (agent: string, connector: string, code: string) =>
      incidents.reporter({ workspaceId: WS, agentId: agent, environment: "production" }).executionFailed({
        runId: `run_${agent}`,
        eventId: "evt_1",
        action: { type: "llm.complete" },
        connector: { id: connector, provider: connector.slice(4) },
        error: { name: "ProviderError", message: `${code} from ${connector}`, code },
      });
    for (const agent of ["agt_support", "agt_refunds", "agt_triage"]) await failed(agent, "con_openai", "rate_limited");
    const billing = (await failed("agt_billing", "con_stripe", "card_declined")).incident!;
    const monitor = incidents.reporter({ workspaceId: WS, agentId: "agt_monitor", environment: "production" });
    const anomaly = (await monitor.anomaly({ runId: "run_m", eventId: "e1", pattern: "provider_down", tags: ["provider:openai"] })).incident!;
    clock.advance(60_000);
    await incidents.runDue();
    const errored = (await incidents.reporter({ workspaceId: WS, agentId: "agt_search", environment: "production" }).runEnded({ runId: "run_s", status: "errored", error: { name: "Error", message: "upstream 503" } }))!.incident!;
    // reported after the window closed: held for a new one
    const late = (await failed("agt_mail", "con_smtp", "timeout")).incident!;
    const ops = incidents.as(actors.ana!);
    const group = (await ops.list()).items.find((i) => i.kind === "group")!;
    for (const [name, incident] of Object.entries({ billing, anomaly, errored, late, group })) {
      ids[name] = incident.id;
      numbers[name] = incident.number;
    }

    handler = createConsoleHandler(incidents, {
      basePath: "/console",
      title: "Acme incidents",
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

  const open = (user: string, path: string) => openAs(browser, origin, user, `/console${path}`);
  const badges = (page: Page, where = "main") => page.locator(`${where} .badge`).allInnerTexts();
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });

  it("lists the outage as one group row with its badge, and the other quiet ones with theirs", async () => {
    const { page, context, problems } = await open("ana", "");
    await drawn(page);
    const rows = page.locator("table.incidents tbody tr");
    await expect.poll(() => rows.count()).toBe(5);
    const groupRow = rows.filter({ has: page.locator(".badge.group") });
    expect(await groupRow.count()).toBe(1);
    expect(await groupRow.innerText()).toMatch(/con_openai rate_limited failing for 3 agents\s*group of 3/);
    expect(await badges(page)).toEqual(expect.arrayContaining(["group of 3", `inhibited by #${numbers["anomaly"]}`, "held for grouping"]));
    expect(await page.locator(`a.badge[href*="${ids["anomaly"]}"]`).count()).toBe(1);
    expect(await strays(page)).toEqual([]);
    await shot(page, "noise-list.png");

    // members=1 in the URL: the three members join the list, each saying which group it is in
    expect(await page.locator("main").innerText()).toContain("3 incidents are listed under its group, not on their own.");
    await page.getByLabel("Include group members").check();
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/members=1/);
    await expect.poll(() => rows.count()).toBe(8);
    const inGroup = page.locator(`a.badge.grouped[href*="${ids["group"]}"]`);
    expect(await inGroup.count()).toBe(3);
    expect(await inGroup.first().innerText()).toBe(`in group #${numbers["group"]}`);
    expect(await page.getByLabel("Include group members").isChecked()).toBe(true);
    expect(await strays(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a group's members in its detail, each a link to a member that names its group", async () => {
    const { page, context, problems } = await open("ana", "");
    await drawn(page);
    await page.getByRole("link", { name: "con_openai rate_limited failing for 3 agents" }).click();
    await page.waitForURL(/incident=/);
    await expect.poll(() => page.locator("#members tbody tr").count()).toBe(3);
    expect(await page.locator("#members h3").innerText()).toBe("Members · 3");
    expect((await page.locator("#members tbody tr td:nth-child(4)").allInnerTexts()).map((t) => t.trim()).sort()).toEqual(["agt_refunds", "agt_support", "agt_triage"]);
    expect(await page.locator("#members td.title a").allInnerTexts()).toEqual(Array(3).fill("openai failed to execute llm.complete: rate_limited"));
    expect(await page.locator("dl.facts").innerText()).toMatch(/Members\s+3 from 3 agents \(agt_support, agt_refunds, agt_triage\)/);
    expect(await badges(page, "p.badges")).toEqual(["group of 3"]);
    expect(await strays(page)).toEqual([]);
    await shot(page, "noise-group.png");

    await page.locator("#members td.title a").first().click();
    await expect.poll(() => page.locator("p.badges").innerText()).toBe(`in group #${numbers["group"]}`);
    expect(await page.locator("dl.facts").innerText()).toContain("Held back. Member of #" + numbers["group"]);
    expect(await strays(page)).toEqual([]);
    await shot(page, "noise-member.png");
    expect(await page.locator("#activity").innerText()).toMatch(new RegExp(`grouped\\s+group: none → #${numbers["group"]}\\s+Joined group #${numbers["group"]}`));
    await page.locator("p.badges a").click();
    await expect.poll(() => page.locator("h2").innerText()).toMatch(new RegExp(`^#${numbers["group"]} `));
    expect(problems).toEqual([]);
    await context.close();
  });

  it("silences similar incidents from a detail, with the form filled in from it, and shows the badge", async () => {
    const { page, context, problems } = await open("ana", `?incident=${ids["billing"]}`);
    await drawn(page);
    expect(await page.locator("p.badges").count()).toBe(0);
    await page.getByText("Silence similar").click();
    const form = page.locator("form[data-form=silence]");
    expect(await form.locator("input[name=agents]").inputValue()).toBe("agt_billing");
    expect(await form.locator("input[name=connectors]").inputValue()).toBe("con_stripe");
    expect(await form.locator("input[name=errorCodes]").inputValue()).toBe("card_declined");
    expect(await form.locator("select[name=kinds]").inputValue()).toBe("execution_failed");
    expect(await form.locator("select[name=lasting] option").allInnerTexts()).toEqual(["1 h", "4 h", "24 h", "7 days", `until #${numbers["billing"]} resolves`]);
    // a comment is required: nothing is sent without one
    await form.getByRole("button", { name: "Silence" }).click();
    expect(await incidents.as(actors.ana!).silences.list()).toEqual([]);
    await form.locator("select[name=lasting]").selectOption({ label: "4 h" });
    await form.locator("input[name=comment]").fill("Stripe maintenance window");
    await form.getByRole("button", { name: "Silence" }).click();
    await expect.poll(() => page.locator("p.badges").innerText()).toBe("silenced: Stripe maintenance window");
    expect(await page.locator("dl.facts").innerText()).toMatch(/Notifications\s+Held back\. Silenced until .+: Stripe maintenance window/);
    const [silence] = await incidents.as(actors.ana!).silences.list();
    expect(silence!.match).toEqual({ agents: ["agt_billing"], connectors: ["con_stripe"], errorCodes: ["card_declined"], kinds: ["execution_failed"] });
    expect(Date.parse(silence!.endsAt!) - Date.now()).toBeGreaterThan(3.9 * 3_600_000);
    expect(await strays(page)).toEqual([]);
    await shot(page, "noise-silenced.png");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("snoozes an acknowledged incident for 30 minutes with a reason, and says until when", async () => {
    const { page, context, problems } = await open("ana", `?incident=${ids["anomaly"]}`);
    await drawn(page);
    // only an acknowledged or investigating incident can be snoozed
    expect(await page.locator("form[data-form=snooze]").count()).toBe(0);
    await page.getByRole("button", { name: "Acknowledge" }).click();
    const form = page.locator("form[data-form=snooze]");
    await expect.poll(() => form.count()).toBe(1);
    expect(await form.locator("select[name=forMs] option").allInnerTexts()).toEqual(["30 min", "1 h", "4 h", "24 h"]);
    await form.locator("select[name=forMs]").selectOption({ label: "30 min" });
    await form.locator("input[name=reason]").fill("OpenAI says a fix is rolling out");
    await form.getByRole("button", { name: "Snooze" }).click();
    await expect.poll(() => page.locator("p.badges").innerText()).toMatch(/^snoozed until \d\d:\d\d$/);
    const until = (await incidents.as(actors.ana!).get(ids["anomaly"]!)).noise.snoozedUntil!;
    const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Berlin" }).format(Date.parse(until));
    expect(await page.locator("p.badges").innerText()).toBe(`snoozed until ${clock}`);
    expect(await page.locator("dl.facts").innerText()).toContain("OpenAI says a fix is rolling out");
    // the activity says until when in words, not as a raw timestamp
    expect(await page.locator("#activity").innerText()).toMatch(/snoozed\s+snoozed until: none → \w{3}, \d+ \w{3} \d{4}, \d\d:\d\d:\d\d/);
    expect(await page.locator("#activity").innerText()).not.toMatch(/\d{4}-\d\d-\d\dT/);
    expect(await strays(page)).toEqual([]);
    await shot(page, "noise-snoozed.png");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("lists silences with what they match, until when, why and who, and expires one (operators only)", async () => {
    const { page, context, problems } = await open("ana", "");
    await drawn(page);
    await page.getByRole("link", { name: "Silences" }).click();
    await page.waitForURL(/view=silences/);
    const rows = page.locator("table.silences tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    const row = await rows.first().innerText();
    expect(row).toMatch(/active/);
    expect(row).toContain("agent agt_billing · connector con_stripe · error code card_declined · kind execution_failed");
    expect(row).toContain("Stripe maintenance window");
    expect(row).toContain("usr_ana (operator)");
    expect(row).toMatch(/in (3 h|4 h|23\d min)/);
    expect(await strays(page)).toEqual([]);
    await shot(page, "noise-silences.png");
    await rows.first().getByRole("button", { name: "Expire" }).click();
    await expect.poll(() => rows.first().innerText()).toMatch(/expired[\s\S]*expired by usr_ana \(operator\)/);
    expect(await rows.first().getByRole("button", { name: "Expire" }).count()).toBe(0);
    expect(await page.locator("main").innerText()).toContain("Expired the silence of agent agt_billing");
    expect((await incidents.as(actors.ana!).get(ids["billing"]!)).quiet).toBeNull();
    expect(await strays(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();

    // a viewer: no Silences link, the view says why, and the detail offers neither snooze nor silence
    const viewer = await open("vic", "?view=silences");
    await drawn(viewer.page);
    expect(await viewer.page.getByRole("link", { name: "Silences" }).count()).toBe(0);
    expect(await viewer.page.locator("main").innerText()).toContain("Your role (viewer) cannot see or change silences.");
    await viewer.page.goto(`${origin}/console?incident=${ids["anomaly"]}`);
    await drawn(viewer.page);
    expect(await viewer.page.locator("p.badges").innerText()).toMatch(/^snoozed until \d\d:\d\d$/);
    expect(await viewer.page.locator("form[data-form=snooze], #silence-similar").count()).toBe(0);
    expect(await seen(viewer.page)).not.toMatch(/Silence similar|Snooze for/);
    expect(viewer.problems).toEqual([]);
    await viewer.context.close();
  });
});
