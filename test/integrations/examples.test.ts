/** The integration examples run offline, each with its framework's mock model, and make the incidents they promise. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const run = (name: string) =>
  new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", join("examples", "integrations", `${name}.ts`)], { cwd: root, timeout: 60_000, env: { ...process.env, NODE_ENV: "production" } }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );

describe("integration examples", { timeout: 90_000 }, () => {
  it.each([
    ["openai-agents", ["execution_failed", "approval_rejected", "policy_blocked", "agent_error"]],
    ["ai-sdk", ["policy_blocked", "execution_failed", "approval_rejected", "agent_error"]],
    ["langchain", ["policy_blocked", "execution_failed", "approval_rejected", "agent_error"]],
    ["opentelemetry", ["execution_failed", "agent_error"]],
  ])("examples/integrations/%s.ts", async (name, kinds) => {
    const out = await run(name);
    const found = [...out.matchAll(/^incident #\d+ (\w+) /gm)].map((m) => m[1]);
    expect(found.sort()).toEqual([...kinds].sort());
  });
});
