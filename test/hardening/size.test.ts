import { describe, expect, it } from "vitest";
import { createIncidents } from "agent-incidents";
import { operator, scope, storeTargets, stripe } from "./stores.js";
import { written } from "agent-incidents/testing";

const MB = 1024 * 1024;
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe.each(storeTargets("size"))("reports of any size on $name", { timeout: 60_000 }, ({ make }) => {
  it("a 50 MB error message and stack are cut before any other work; the incident stays small", async () => {
    const incidents = createIncidents({ store: make() });
    const report = incidents.reporter(scope);
    const huge = "x".repeat(50 * MB);
    const started = performance.now();
    const result = written(await report.runEnded({ runId: "r", status: "errored", error: { name: "Error", message: huge, stack: huge } }));
    const elapsed = performance.now() - started;
    // a hang guard, not a speed goal (npm run bench has those): this took 8 s before the caps
    expect(elapsed).toBeLessThan(3000);
    const incident = result!.incident;
    const trigger = incident.trigger as { error: { message: string; stack: string } };
    expect(trigger.error.message).toMatch(/^x{8192}…\[truncated 52420608 chars\]$/);
    expect(trigger.error.stack).toMatch(/^x{16384}…\[truncated 52412416 chars\]$/);
    const detail = await incidents.as(operator).get(incident.id);
    expect(bytes(detail)).toBeLessThan(MB);
    await incidents.close();
  });

  it("a 20 MB payload, as one string or as 200,000 keys, is capped at 64 KiB and marked", async () => {
    const incidents = createIncidents({ store: make() });
    const report = incidents.reporter(scope);
    const wide: Record<string, string> = {};
    for (let i = 0; i < 200_000; i++) wide[`k${i}`] = "v".repeat(100);
    for (const [eventId, payload] of [["one-string", { blob: "y".repeat(20 * MB) }], ["many-keys", wide]] as const) {
      const started = performance.now();
      const { incident } = written(await report.executionFailed({
        runId: "r",
        eventId,
        action: { type: `refund.${eventId}`, payload },
        connector: stripe,
        error: { message: "too big" },
        context: { data: payload, events: Array.from({ length: 5000 }, (_, i) => ({ id: `ev${i}`, type: "step", at: "2026-01-01T00:00:00.000Z", data: payload })) },
      }));
      expect(performance.now() - started).toBeLessThan(3000);
      const stored = (incident.trigger as { action: { payload: Record<string, unknown> } }).action.payload;
      expect(bytes(stored)).toBeLessThanOrEqual(64 * 1024);
      const ops = incidents.as(operator);
      const detail = await ops.get(incident.id);
      expect(bytes(detail)).toBeLessThan(MB);
      const context = await ops.context(incident.id);
      expect(bytes(context.snapshot)).toBeLessThanOrEqual(64 * 1024);
      expect(context.snapshot?.truncated).toBe(true);
      expect(context.snapshot?.events.at(-1)?.id).toBe("ev4999");
      expect(bytes((await ops.list()).items)).toBeLessThan(MB);
    }
    const keys = ((await incidents.as(operator).list({ limit: 1, sort: "recency" })).items[0]!.trigger as { action: { payload: Record<string, unknown> } }).action.payload;
    expect(keys["…truncated"]).toMatch(/keys left out: larger than 65536 bytes of JSON/);
    await incidents.close();
  });

  it("binary data, boxed strings and huge keys cost little and stay small", async () => {
    const incidents = createIncidents({ store: make() });
    const { incident } = written(await incidents.reporter(scope).anomaly({
      runId: "r",
      eventId: "e",
      pattern: "p",
      detail: { bytes: new Uint8Array(5e7), boxed: new String("x".repeat(5e7)) as never, ["k".repeat(100_000)]: 1, tags: new Set(["a", "b"]) as never, map: new Map([["a", 1]]) as never },
    }));
    const detail = incident.trigger["detail"] as Record<string, unknown>;
    expect(detail["bytes"]).toBe("[binary: 50000000 bytes]");
    expect((detail["boxed"] as string).length).toBeLessThan(9000);
    expect(Object.keys(detail).every((key) => key.length < 300)).toBe(true);
    expect(detail["tags"]).toEqual(["a", "b"]);
    expect(detail["map"]).toEqual({ a: 1 });
    await incidents.close();
  });
});
