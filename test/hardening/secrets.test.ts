import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createIncidents, redact, REDACTED, type RunSource } from "agent-incidents";
import { isSensitiveKey } from "../../src/core/redact.js";
import { operator, refund, scope, storeTargets, stripe } from "./stores.js";
import { written } from "agent-incidents/testing";

describe("default redaction", () => {
  it.each([
    ["auth"],
    ["pwd"],
    ["pass"],
    ["jwt"],
    ["tokenValue"],
    ["token_value"],
    ["ｐａｓｓｗｏｒｄ"],
    ["ＡＰＩ＿ＫＥＹ"],
    ["x-auth-token"],
    ["DB_PASSWORD"],
    ["clientSecret"],
    ["Set-Cookie"],
  ])("treats the key %s as a secret", (key) => {
    expect(isSensitiveKey(key)).toBe(true);
    expect(redact({ [key]: "hunter2" })).toEqual({ [key]: REDACTED });
  });

  it.each([["author"], ["passengers"], ["max_tokens"], ["promptTokens"], ["email"], ["domain"], ["keyboard"]])("keeps the key %s", (key) => {
    expect(isSensitiveKey(key)).toBe(false);
  });

  it.each([
    ["a URL's password", "connect postgres://app:s3cr3tP@db.internal:5432/prod failed", "connect postgres://app:[REDACTED]@db.internal:5432/prod failed"],
    ["an AWS access key id", "key AKIAIOSFODNN7EXAMPLE leaked", "key [REDACTED] leaked"],
    ["password=… in text", "login failed: password=hunter2 user=bob", "login failed: password=[REDACTED] user=bob"],
    ["apiKey=… in text", "GET /v1?apiKey=abc123&page=2", "GET /v1?apiKey=[REDACTED]&page=2"],
    ["secret: … in text", "config secret: topsecret, region: eu", "config secret: [REDACTED], region: eu"],
    ["a JSON secret in text", 'body {"token":"abc.def","ok":1}', 'body {"token":"[REDACTED]","ok":1}'],
    ["a card with dots", "card 4242.4242.4242.4242 declined", "card [REDACTED] declined"],
    ["a card after letters", "pan:card4242424242424242", "pan:card[REDACTED]"],
    ["a Stripe key", "using sk_live_51HxYzAbCdEfGhIjKl", "using [REDACTED]"],
    ["a bearer token", "Authorization: Bearer abcdefgh", "Authorization: Bearer [REDACTED]"],
    ["a JWT", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt [REDACTED]"],
    ["any Authorization scheme", "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bb", "Authorization: Token [REDACTED]"],
    ["a short bearer token", "Authorization: Bearer abc123", "Authorization: Bearer [REDACTED]"],
    ["escaped JSON", 'body {\\"password\\":\\"hunter2\\"}', 'body {\\"password\\":\\"[REDACTED]\\"}'],
    ["a quoted key with a space", '{"api key": "k-123"}', '{"api key": "[REDACTED]"}'],
    ["a long quoted value", `"client_secret": "${"x".repeat(600)}"`, '"client_secret": "[REDACTED]"'],
    ["a long bare value", `password=${"y".repeat(600)}`, "password=[REDACTED]"],
    ["a list or an object as the value", '"password":["x"], "token":{"v":"x"}', '"password":[REDACTED], "token":[REDACTED]'],
    ["a URL password with an empty user", "redis://:pw@host:6379", "redis://:[REDACTED]@host:6379"],
    ["a URL password holding @", "postgres://u:p@ss@h/db", "postgres://u:[REDACTED]@h/db"],
    ["every cookie of a header", "Cookie: a=1; connect.sid=s%3Aabc", "Cookie: [REDACTED]"],
    ["a Ruby hash pair", ':password => "x"', ':password => "[REDACTED]"'],
    ["an open quote", 'password: "x', 'password: "[REDACTED]'],
    ["a full-width separator", "password＝abc", "password＝[REDACTED]"],
    ["JCB and Maestro cards", "3530111333300000 / 5018000000000009", "[REDACTED] / [REDACTED]"],
    ["a card with no-break spaces", "4242\u00a04242\u00a04242\u00a04242", "[REDACTED]"],
    ["a short Slack token", "token xoxb-1234567890 used", "token [REDACTED] used"],
    ["a GitHub fine-grained token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "[REDACTED]"],
    ["a Slack webhook URL", "post to https://hooks.slack.com/services/T000/B000/XXXX now", "post to [REDACTED] now"],
    ["a PGP private key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----", "[REDACTED]"],
  ])("redacts %s", (_what, input, output) => {
    expect(redact(input)).toBe(output);
  });

  it("redacts keys that are secrets themselves, and new secret key names", () => {
    expect(redact({ sk_live_51HxYzAbCdEfGhIjKl: true, pw: "a", passcode: "b", encryptionKey: "c", session: "d", sid: "e", totp: "f" })).toEqual({
      [REDACTED]: true,
      pw: REDACTED,
      passcode: REDACTED,
      encryptionKey: REDACTED,
      session: REDACTED,
      sid: REDACTED,
      totp: REDACTED,
    });
  });

  it("applies an extra key pattern with the g flag to every key, not every other one", () => {
    expect(redact({ email: "a", billingEmail: "b", email_cc: "c" }, { keys: [/email/gi] })).toEqual({ email: REDACTED, billingEmail: REDACTED, email_cc: REDACTED });
  });

  it("stays linear on text that almost matches a secret, everywhere", () => {
    for (const unit of ["eyJ-", "a-", "a.", "a+", "sk_", "xy:", "4 ", "://", "-----BEGIN "]) {
      const text = unit.repeat(Math.ceil(16384 / unit.length)).slice(0, 16384);
      // work, not time: the result is produced and the text is kept (nothing in it is a secret)
      expect(redact(text).length).toBeGreaterThan(8000);
    }
  });

  it("keeps email addresses and ordinary numbers: operators need them", () => {
    expect(redact("bounced: bob@gmial.com, order 1700000000000, amount 4242")).toBe("bounced: bob@gmial.com, order 1700000000000, amount 4242");
  });
});

const SECRET = "Zq9SECRETvalue77";

/** Random JSON with the secret planted under a sensitive key or inside text, somewhere. */
const planted = fc
  .tuple(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      (s: string) => ({ password: s }),
      (s: string) => ({ nested: [{ apiKey: s }] }),
      (s: string) => ({ note: `password=${s}` }),
      (s: string) => ({ url: `https://bob:${s}@example.com/x` }),
      (s: string) => ({ header: `Bearer ${s}` }),
      (s: string) => ({ "ｓｅｃｒｅｔ": s }),
      (s: string) => ({ tokenValue: s }),
    ),
  )
  .map(([noise, plant]) => ({ noise, ...plant(SECRET) }));

describe.each(storeTargets("secrets"))("secrets never leave $name", { timeout: 60_000 }, ({ make }) => {
  it("a secret planted anywhere in a report never appears in get() or context()", async () => {
    const incidents = createIncidents({ store: make() });
    const report = incidents.reporter(scope);
    const ops = incidents.as(operator);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(planted, fc.constantFrom("payload", "data", "message", "tags", "detail"), async (value, where) => {
        const text = JSON.stringify(value);
        const eventId = `e${++n}`;
        const { incident } =
          where === "detail"
            ? written(await report.anomaly({ runId: "r", eventId, pattern: `p${n}`, detail: value }))
            : written(await report.executionFailed({
                runId: "r",
                eventId,
                action: { type: `t${n}`, payload: where === "payload" ? value : {} },
                connector: stripe,
                error: { message: where === "message" ? `failed: ${text}` : "failed" },
                tags: where === "tags" ? [`password=${SECRET}`] : [],
                context: where === "data" ? { data: value } : {},
              }));
        expect(JSON.stringify(await ops.get(incident.id))).not.toContain(SECRET);
        expect(JSON.stringify(await ops.context(incident.id))).not.toContain(SECRET);
      }),
      { numRuns: 25 },
    );
    await incidents.close();
  });

  it("redacts and validates what the RunSource returns, and reduces its errors to a redacted message", async () => {
    let mode: "ok" | "throw" | "invalid" = "ok";
    const runs: RunSource = {
      async loadRun(runId) {
        if (mode === "throw") throw new Error("connect ECONNREFUSED postgres://runs:hunter2pass@10.0.0.5/runs");
        if (mode === "invalid") return { runId, events: "nope" } as never;
        return {
          runId,
          status: "errored",
          events: [{ id: "ev1", type: "tool.call", at: "2026-01-01T00:00:00.000Z", data: { apiKey: "sk-abcdefghijklmnopqrstuvwx", text: "Bearer abcdefghijk" } }],
        };
      },
    };
    const incidents = createIncidents({ store: make(), runs });
    const { incident } = written(await incidents.reporter(scope).executionFailed({ runId: "r", eventId: "e", action: refund, connector: stripe, error: { message: "x" } }));
    const ops = incidents.as(operator);
    const context = await ops.context(incident.id);
    expect(context.run?.events[0]?.data).toEqual({ apiKey: REDACTED, text: `Bearer ${REDACTED}` });
    mode = "throw";
    const failed = await ops.context(incident.id);
    expect(failed.run).toBeNull();
    expect(failed.runError).toContain("ECONNREFUSED");
    expect(failed.runError).not.toContain("hunter2pass");
    mode = "invalid";
    const invalid = await ops.context(incident.id);
    expect(invalid).toMatchObject({ run: null, runError: expect.stringContaining("invalid timeline: events") });
    await incidents.close();
  });
});
