import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";
import { refusedUrl, startReceiver, until } from "../notifiers/receiver.js";
import { ROOT } from "./spawn.js";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const script = fileURLToPath(new URL("./children/notify.mjs", import.meta.url));

/** Starts a notify.mjs child; `lines` collects what it prints. */
function child(spec: string, mode: string, options: Record<string, unknown>) {
  const proc: ChildProcess = spawn(process.execPath, [script, spec, mode, JSON.stringify({ secret, ...options })], { cwd: ROOT });
  const state = { lines: [] as string[], stderr: "", proc, exited: new Promise<number | null>((resolve) => proc.on("close", resolve)) };
  proc.stdout!.on("data", (d) => state.lines.push(...String(d).split("\n").filter(Boolean)));
  proc.stderr!.on("data", (d) => (state.stderr += d));
  return state;
}

const dir = mkdtempSync(join(tmpdir(), "agent-incidents-outbox-"));
const targets: Array<{ name: string; spec: () => string }> = [{ name: "sqlite", spec: () => `sqlite:${join(dir, `outbox-${Date.now()}.db`)}` }];
if (PG_URL) {
  const schema = schemas("outbox");
  targets.push({ name: "postgres", spec: () => `postgres:${PG_URL}#${schema()}` });
} else {
  reportSkipped("the PostgreSQL outbox across processes");
}

describe.each(targets)("the $name outbox across a crash", { timeout: 60_000 }, (target) => {
  it("delivers what a killed process left pending, once its receiver is up, to the notifier of the same name", async () => {
    const spec = target.spec();
    // 1. the receiver is down: every try fails and the deliveries stay pending in the outbox
    const first = child(spec, "report", { url: await refusedUrl(), count: 3, prefix: "a", untilDrained: false, exitAfterMs: 60_000 });
    await until(() => first.lines.includes("reported"), 20_000);
    await new Promise((r) => setTimeout(r, 300)); // a few failed tries
    first.proc.kill("SIGKILL");
    expect(await first.exited).toBe(null);
    // 2. a new process, the same database, a notifier of the same name, a receiver that is up
    const receiver = await startReceiver();
    const second = child(spec, "deliver", { url: receiver.url, leaseMs: 2000 });
    expect(await second.exited).toBe(0);
    expect(second.stderr).toBe("");
    const ids = receiver.requests.map((r) => r.headers["webhook-id"]!);
    const unique = [...new Set(ids)];
    expect(unique).toHaveLength(3);
    expect(receiver.bodies().every((b) => b.type === "incident.created")).toBe(true);
    expect(new Set(receiver.bodies().map((b) => b.id))).toEqual(new Set(unique)); // the body's id is the delivery id: receivers dedupe on it
    await receiver.close();
  });
});

if (PG_URL) {
  const schema = schemas("workers");
  describe("three PostgreSQL workers sharing one outbox", { timeout: 120_000 }, () => {
    it("deliver 300 notifications (and 20 a dead worker claimed) exactly once each, in order per incident, and take over a dead worker's claims after its lease", async () => {
      const spec = `postgres:${PG_URL}#${schema()}`;
      const receiver = await startReceiver();
      // a worker that claims and dies: its claims come back when its 2 s lease runs out
      const stuck = child(spec, "stuck", { url: receiver.url, count: 20, prefix: "stuck", leaseMs: 2000 });
      await until(() => stuck.lines.includes("claimed"), 20_000);
      stuck.proc.kill("SIGKILL");
      await stuck.exited;
      const workers = ["w1", "w2", "w3"].map((prefix) => child(spec, "report", { url: receiver.url, count: 80, prefix, lifecycleEvery: 8, minRunMs: 4000 }));
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes).toEqual([0, 0, 0]);
      expect(workers.map((w) => w.stderr)).toEqual(["", "", ""]);
      // 3 x (80 created + 10 x (acknowledged + resolved)) = 300, and the dead worker's 20
      const bodies = receiver.bodies();
      expect(bodies).toHaveLength(320);
      expect(new Set(bodies.map((b) => b.id)).size).toBe(320);
      const agent = (b: (typeof bodies)[number]) => (b.data as { incident: { agentId: string } }).incident.agentId;
      expect(bodies.filter((b) => agent(b) === "agt_stuck")).toHaveLength(20);
      const counts = workers.map((w) => JSON.parse(w.lines.find((l) => l.startsWith("drained "))!.slice(8)).delivered as number);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(320);
      expect(counts.filter((c) => c > 0).length).toBeGreaterThanOrEqual(2);
      const order = new Map<string, string[]>();
      for (const body of bodies) {
        const id = (body.data as { incident: { id: string } }).incident.id;
        order.set(id, [...(order.get(id) ?? []), body.type]);
      }
      for (const types of order.values()) expect(["incident.created", "incident.created,incident.acknowledged,incident.resolved"]).toContain(types.join(","));
      await receiver.close();
    });
  });
}
