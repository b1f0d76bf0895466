import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { MAX_SNAPSHOT_BYTES, redact, REDACTED } from "agent-incidents";
// the engine's building blocks, not part of the public API
import { isSensitiveKey, passesLuhn } from "../../src/core/redact.js";
import { buildSnapshot } from "../../src/core/snapshot.js";
import { createFixtures } from "agent-incidents/testing";

describe("redaction", () => {
  it("redacts secret keys whatever their case or separators", () => {
    const out = redact({
      password: "hunter2",
      apiKey: "k1",
      API_KEY: "k2",
      "x-api-key": "k3",
      Authorization: "Bearer abc",
      accessToken: "t",
      Cookie: "sid=1",
      client_secret: "s",
      max_tokens: 512,
      nested: { deeper: [{ refresh_token: "r", ok: "visible" }] },
    });
    expect(out).toEqual({
      password: REDACTED,
      apiKey: REDACTED,
      API_KEY: REDACTED,
      "x-api-key": REDACTED,
      Authorization: REDACTED,
      accessToken: REDACTED,
      Cookie: REDACTED,
      client_secret: REDACTED,
      max_tokens: 512,
      nested: { deeper: [{ refresh_token: REDACTED, ok: "visible" }] },
    });
  });

  it("redacts card numbers that pass Luhn and bearer tokens inside text, and leaves other numbers", () => {
    expect(passesLuhn("4242424242424242")).toBe(true);
    expect(passesLuhn("4242424242424241")).toBe(false);
    expect(redact("card 4242 4242 4242 4242 declined")).toBe(`card ${REDACTED} declined`);
    expect(redact("card 4242-4242-4242-4242")).toBe(`card ${REDACTED}`);
    expect(redact("order 4242424242424241 failed")).toBe("order 4242424242424241 failed");
    expect(redact({ pan: 4242424242424242, amount: 900 })).toEqual({ pan: REDACTED, amount: 900 });
    expect(redact("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc.def")).toBe(`header Authorization: Bearer ${REDACTED}`);
  });

  it("caps long strings at 8 KiB and marks the truncation; survives cycles", () => {
    const long = redact("x".repeat(10_000));
    expect(long.startsWith("x".repeat(8192))).toBe(true);
    expect(long).toContain("[truncated 1808 chars]");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    expect(redact(cyclic)).toEqual({ a: 1, self: "[Circular]" });
  });

  it("gives the same answer for a string seen before, whatever options came between", () => {
    // short strings' redactions are remembered under the default rules only
    const note = "call 555-0100 token=abc123";
    expect(redact(note)).toBe(`call 555-0100 token=${REDACTED}`);
    expect(redact(note, { patterns: [/\d{3}-\d{4}/g] })).toBe(`call ${REDACTED} token=${REDACTED}`);
    expect(redact(note)).toBe(`call 555-0100 token=${REDACTED}`);
    expect(redact({ ref: "order=42" }, { keys: ["order"] })).toEqual({ ref: `order=${REDACTED}` });
    expect(redact({ ref: "order=42" })).toEqual({ ref: "order=42" });
    // a timestamp holds no secret under the default rules, but a host's own pattern still applies
    expect(redact({ at: "2026-11-29T10:00:01.123Z" })).toEqual({ at: "2026-11-29T10:00:01.123Z" });
    expect(redact({ at: "2026-11-29T10:00:01.123Z" }, { patterns: [/\d{4}-\d{2}-\d{2}/g] })).toEqual({ at: `${REDACTED}T10:00:01.123Z` });
    expect(redact({ at: "2026-11-29T10:00:01Z password=hunter2" })).toEqual({ at: `2026-11-29T10:00:01Z password=${REDACTED}` });
    // 9 fraction digits and a negative offset join 13 digits with card separators: a card number
    expect(redact({ note: "2024-01-01T00:00:41.100000000-11:00" })).toEqual({ note: `2024-01-01T00:00:${REDACTED}:00` });
    // a string redacted as a key (capped at 256) and as a value (8 KiB) is cut by its own cap
    const pairs = Array.from({ length: 40 }, () => "pw:1").join(" ");
    expect(redact({ [pairs]: 1, note: pairs }).note).toHaveLength(559);
    expect(Math.max(...Object.keys(redact({ note: pairs, [pairs]: 1 })).map((k) => k.length))).toBeLessThanOrEqual(256 + 30);
    // a key is cleaned like text: NUL removed, a lone surrogate replaced, every time
    for (let i = 0; i < 2; i++) expect(Object.keys(redact({ "a\u0000b\ud800": 1 }))).toEqual(["ab\ufffd"]);
  });

  it("remembers short strings without keeping the large strings they were cut from alive", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200; i++) {
      // a slice of a 1 MB tool output is a view of all of it until copied
      const output = `tool output ${i} ${"x".repeat(1_000_000)}`;
      redact({ excerpt: output.slice(0, 40), [output.slice(0, 30)]: output.match(/^tool output \d+/)![0] });
    }
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50_000_000);
  });

  it("keeps __proto__ keys as data and numbers of card length only when they fail Luhn", () => {
    const out = redact(JSON.parse('{"__proto__": {"polluted": true}, "n": 4111111111111111, "m": 4111111111111112, "small": 42}'));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__", "n", "m", "small"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(out).toMatchObject({ n: REDACTED, m: 4111111111111112, small: 42 });
  });

  it("accepts extra keys and patterns", () => {
    expect(isSensitiveKey("customerEmail", ["email"])).toBe(true);
    expect(redact({ email: "a@b.c", note: "call 555-0100" }, { keys: ["email"], patterns: [/\d{3}-\d{4}/g] })).toEqual({
      email: REDACTED,
      note: `call ${REDACTED}`,
    });
  });
});

describe("context snapshot", () => {
  const signals = createFixtures();
  const events = (n: number, size = 10) =>
    Array.from({ length: n }, (_, i) => ({ id: `e${i}`, type: "tool.call", at: "2026-01-01T00:00:00.000Z", data: { blob: "y".repeat(size) } }));

  it("keeps the last 20 run events and counts the rest as dropped", () => {
    const snapshot = buildSnapshot(signals.policyBlocked({ context: { events: events(25) } }));
    expect(snapshot.events.map((e) => e.id)).toEqual(events(25).slice(5).map((e) => e.id));
    expect(snapshot.droppedEvents).toBe(5);
    expect(snapshot.policy?.id).toBe("pol_refund_limit");
  });

  it("stays under 64 KiB, dropping the oldest events first and marking it", () => {
    const snapshot = buildSnapshot(signals.policyBlocked({ context: { events: events(20, 8000), data: { password: "p" } } }));
    expect(new TextEncoder().encode(JSON.stringify(snapshot)).length).toBeLessThanOrEqual(MAX_SNAPSHOT_BYTES);
    expect(snapshot.truncated).toBe(true);
    expect(snapshot.events.at(-1)?.id).toBe("e19");
    expect(snapshot.data).toEqual({ password: REDACTED });
  });

  it("measures in UTF-8 bytes: 3-byte text that is small in characters is still cut", () => {
    // 8,000 characters of CJK per event are 24,000 bytes: over the per-event cap when the whole is over 64 KiB
    const wide = Array.from({ length: 4 }, (_, i) => ({ id: `w${i}`, type: "message.user", at: "2026-01-01T00:00:00.000Z", data: { text: "漢".repeat(8000) } }));
    const snapshot = buildSnapshot(signals.policyBlocked({ context: { events: wide } }));
    expect(new TextEncoder().encode(JSON.stringify(snapshot)).length).toBeLessThanOrEqual(MAX_SNAPSHOT_BYTES);
    expect(snapshot.truncated).toBe(true);
    expect(snapshot.events.map((e) => e.id)).toEqual(["w0", "w1", "w2", "w3"]);
    const bytes = new TextEncoder().encode(JSON.stringify(wide[0])).length;
    expect(bytes).toBeGreaterThan(24_000);
    expect(snapshot.events[0]?.data).toEqual({ "…truncated": `event data left out: ${bytes} bytes` });
  });
});
