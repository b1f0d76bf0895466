/** The console examples start and serve the console: node:http, Express and Hono. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("console examples", { timeout: 60_000 }, () => {
  it.each(["node-http", "express", "hono"])("examples/console/%s.ts serves the console", async (name) => {
    const child = spawn(process.execPath, ["--import", "tsx", join("examples", "console", `${name}.ts`)], {
      cwd: root,
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let out = "";
      child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const found = /http:\/\/127\.0\.0\.1:\d+\/incidents/.exec(out);
          if (found) {
            clearTimeout(timer);
            resolve(found[0]);
          }
        });
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toMatch(/script-src 'nonce-/);
      const list = (await (await fetch(`${url}/api/incidents`)).json()) as { items: Array<{ title: string }> };
      expect(list.items.map((i) => i.title)).toEqual(['Policy "Refund limit" blocked refund.create']);
    } finally {
      child.kill();
    }
  });
});
