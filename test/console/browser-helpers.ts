/**
 * What the console's browser tests share: finding Chromium, serving a handler, opening a signed-in
 * page that records every script error, and reading what an operator sees.
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { expect } from "vitest";

/** Debian's `chromium` package, or CHROMIUM_PATH; `undefined` skips the browser tests. */
export const chromiumPath = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (path): path is string => typeof path === "string" && existsSync(path),
);

/** Serves a Fetch handler on 127.0.0.1 at a free port. */
export async function serve(handler: (request: Request) => Promise<Response>): Promise<{ origin: string; server: Server }> {
  const server = createServer(getRequestListener(handler));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** The browser's time zone (default Europe/Berlin, so a test sees the zone named). */
  timezoneId?: string;
  /** Without the event stream, the page cannot learn of another change before it submits. */
  withoutLiveUpdates?: boolean;
}

export interface Opened {
  page: Page;
  context: BrowserContext;
  /** Script errors, console errors and requests to another origin. */
  problems: string[];
}

/** A page signed in through the `user` cookie, opened at `origin + path`. */
export async function openAs(browser: Browser, origin: string, user: string, path: string, options: OpenOptions = {}): Promise<Opened> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timezoneId: options.timezoneId ?? "Europe/Berlin",
    locale: "en-GB",
  });
  await context.addCookies([{ name: "user", value: user, url: origin }]);
  const page = await context.newPage();
  if (options.withoutLiveUpdates) await page.route("**/api/events", (route) => route.abort());
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && !/api\/events/.test(message.location().url)) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(origin)) problems.push(`request to another origin: ${request.url()}`);
  });
  await page.goto(origin + path);
  return { page, context, problems };
}

/** Waits until the page has drawn a view (a heading in the main area, no "Loading…"). */
export async function drawn(page: Page): Promise<void> {
  await expect
    .poll(async () => (await page.locator("main h2").count()) > 0 && !(await page.locator("main").innerText()).includes("Loading…"), { timeout: 15_000 })
    .toBe(true);
}

/** What an operator sees: the rendered text of the page, and what shows on hover (titles). */
export async function seen(page: Page): Promise<string> {
  const text = await page.locator("body").innerText();
  const titles = await page.locator("[title]").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("title") ?? ""));
  const values = await page.locator("input:not([type=hidden]), select, textarea").evaluateAll((nodes) => nodes.map((n) => (n as unknown as { value: string }).value));
  return [text, ...titles, ...values].join("\n");
}

const STRAY = /\bnull\b|\bundefined\b|\[object Object\]|\bNaN\b|Invalid Date|\bInfinity\b/g;

/** Each stray `null`, `undefined`, `[object Object]`, `NaN` or `Invalid Date` on the page, with the text around it. */
export async function strays(page: Page): Promise<string[]> {
  const text = await seen(page);
  return [...text.matchAll(STRAY)].map((m) => text.slice(Math.max(0, m.index - 40), m.index + m[0].length + 40).replace(/\s+/g, " "));
}
