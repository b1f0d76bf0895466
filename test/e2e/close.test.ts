import { describe, expect, it } from "vitest";
import { runChild } from "./spawn.js";

describe("close() in a script with nothing else to do", () => {
  it.each(["close.mjs", "close.cjs"])("%s: settles within its deadline, runs the code after it, and reports the delivery it gave up on", async (script) => {
    const { code, stdout, stderr } = await runChild(script, []);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines).toEqual(["failed incident.created after 1: 503 from receiver (closed before the next try)", "after close"]);
  });
});
