/**
 * `agent-incidents serve` (issue 17, item 14): the console on 127.0.0.1 at a secret URL, with no
 * cookie that a browser would also send to every other port of 127.0.0.1; a port in use is one line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runtimeDatabase } from "./db-files.js";
import { BIN, cli, ONE_LINE } from "./run-bin.js";

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-serve-"));
const db = join(dir, "runtime.db");
beforeAll(() => runtimeDatabase(db), 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chromiumPath = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (path): path is string => typeof path === "string" && existsSync(path),
);

/** Starts `serve` and resolves with the URL it printed. */
async function started(args: string[] = []): Promise<{ child: ChildProcess; url: URL; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, "serve", "--db", db, "--workspace", "ws_acme", "--as", "usr_ana", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  await expect.poll(() => out, { timeout: 20_000 }).toMatch(/http:\/\/127\.0\.0\.1:\d+\/[\w-]{32}\/\n/);
  const url = new URL(/http:\/\/\S+/.exec(out)![0]);
  const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, url, stop: () => (child.kill("SIGTERM"), exit) };
}

/** Another local server, as any developer has a few of: it records the Cookie header it is sent. */
async function bystander(): Promise<{ origin: string; cookies: string[]; server: Server }> {
  const cookies: string[] = [];
  const server = createServer((request, response) => {
    cookies.push(request.headers.cookie ?? "");
    response.end("another local server");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cookies, server };
}

describe("agent-incidents serve", { timeout: 90_000 }, () => {
  it("serves the console at the secret URL it prints, nothing elsewhere, sets no cookie, and stops on SIGTERM", async () => {
    const { url, stop } = await started();
    try {
      const base = url.origin;
      const token = url.pathname.split("/")[1]!;
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Incidents · ws_acme");
      expect(page.headers.get("set-cookie")).toBeNull();
      const list = await fetch(new URL("api/incidents", url));
      expect(list.headers.get("set-cookie")).toBeNull();
      const items = ((await list.json()) as { items: Array<{ workspaceId: string }> }).items;
      expect(items.length).toBe(2);
      expect(new Set(items.map((i) => i.workspaceId))).toEqual(new Set(["ws_acme"]));
      // without the token, or with another one, or in the old ?token= form: nothing, not even a 401's hint of the API
      for (const path of ["/", "/api/incidents", `/?token=${token}`, `/${token.slice(0, -1)}x/api/incidents`, `/${token}x/`, `//${token}/`]) {
        const response = await fetch(`${base}${path}`, { redirect: "manual" });
        expect(response.status, path).toBe(404);
        expect(await response.text(), path).toBe("Nothing here: open the URL that agent-incidents serve printed.");
      }
      // changes only from the page's own origin, as in any mounted console
      const crossSite = await fetch(new URL("api/incidents/x/actions", url), { method: "POST", headers: { origin: "http://127.0.0.1:1", "content-type": "application/json" }, body: "{}" });
      expect(crossSite.status).toBe(403);
    } finally {
      expect(await stop()).toBe(0);
    }
  });

  it.skipIf(!chromiumPath)("in a browser, works from the printed URL and gives other local servers nothing to sign in with", async () => {
    const { url, stop } = await started();
    const other = await bystander();
    const browser = await chromium.launch({ executablePath: chromiumPath!, args: ["--no-sandbox"] });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url.href);
      await expect.poll(() => page.locator("body").innerText(), { timeout: 20_000 }).toContain("api_unavailable");
      expect(await context.cookies()).toEqual([]);
      await page.goto(`${other.origin}/`);
      await page.goto(`${url.origin}/`);
      expect(await page.locator("body").innerText()).toContain("open the URL that agent-incidents serve printed");
      expect(other.cookies.length).toBeGreaterThan(0);
      expect(other.cookies.filter(Boolean)).toEqual([]);
    } finally {
      await browser.close();
      other.server.close();
      expect(await stop()).toBe(0);
    }
  });

  it("says in one line that a port is in use, with exit 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const run = await cli(["serve", "--port", String(port), "--db", db, "--workspace", "ws_acme"]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(ONE_LINE);
      expect(run.stderr).toBe(`agent-incidents: port ${port} on 127.0.0.1 is in use: give another --port, or leave it out for a free one\n`);
    } finally {
      taken.close();
    }
  });
});
