import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Incident } from "agent-incidents";
import { slackNotifier, type Notification } from "agent-incidents/notifiers";
import { attempt, digest, hasLoneSurrogate, HOSTILE, incident, notification } from "./hostile.js";
import { startReceiver } from "./receiver.js";

let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver((_r, _i, res) => void res.writeHead(200).end("ok"));
});
afterAll(() => receiver.close());

interface Message {
  text: string;
  blocks: Array<Record<string, any>>;
}

/** What Slack receives for `sent`: the raw body, and it parsed. */
async function received(sent: Notification, linkTo?: (incident: Incident) => string): Promise<{ raw: string; message: Message }> {
  await slackNotifier({ webhookUrl: receiver.url, ...(linkTo ? { linkTo } : {}) }).send([sent], attempt());
  const raw = receiver.requests.at(-1)!.body;
  return { raw, message: JSON.parse(raw) as Message };
}

/** Every text Slack will render, with the most characters Slack takes there. */
function texts(message: Message): Array<{ where: string; text: string; max: number }> {
  const out = [{ where: "text", text: message.text, max: 4000 }];
  for (const [i, block] of message.blocks.entries()) {
    if (block["text"]) out.push({ where: `${i}.${block["type"]}`, text: block["text"].text, max: block["type"] === "header" ? 150 : 3000 });
    for (const [j, field] of (block["fields"] ?? []).entries()) out.push({ where: `${i}.fields.${j}`, text: field.text, max: 2000 });
    for (const [j, element] of (block["elements"] ?? []).entries()) {
      out.push({ where: `${i}.elements.${j}`, text: element.type === "button" ? element.text.text : element.text, max: element.type === "button" ? 75 : 3000 });
    }
  }
  return out;
}

/** What Slack would refuse or act on in any text: the assertions every message must pass. */
function expectSafe(message: Message): void {
  expect(message.blocks.length).toBeGreaterThan(0);
  for (const { where, text, max } of texts(message)) {
    expect(typeof text, where).toBe("string");
    expect(text.trim().length, `${where} is empty`).toBeGreaterThan(0);
    expect(text.length, `${where} is too long`).toBeLessThanOrEqual(max);
    // no mention, no link, no broken entity: every & starts one of the three escapes
    expect(text, where).not.toMatch(/[<>]/);
    expect(text.replace(/&(amp|lt|gt);/g, ""), where).not.toContain("&");
    expect(hasLoneSurrogate(text), `${where} has a lone surrogate`).toBe(false);
    expect(text, where).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
  }
}

describe("slackNotifier's messages, as Slack receives them", () => {
  it("escape agent text: an agent id <!channel> cannot ping a channel and a title cannot make a link", async () => {
    const hostile = incident({
      agentId: HOSTILE.mention,
      runId: "<@U024BE7LH>",
      title: `${HOSTILE.link} ${HOSTILE.entities}`,
      severityReason: { rule: "r", explanation: "<!here> said the agent" },
    });
    const { raw, message } = await received(notification(hostile));
    expectSafe(message);
    expect(raw).not.toContain("<!channel>");
    expect(raw).not.toContain("<https://evil");
    expect(message.text).toBe("New incident: #7 &lt;https://evil.example|click here&gt; &amp;lt;b&amp;gt; &amp; &lt;@U123&gt; (critical)");
    expect(message.blocks[2]!["fields"].map((f: { text: string }) => f.text)).toContain("*Agent*\n&lt;!channel&gt;");
    expect(message.blocks[2]!["fields"].map((f: { text: string }) => f.text)).toContain("*Run*\n&lt;@U024BE7LH&gt;");
    expect(message.blocks[3]).toEqual({ type: "context", elements: [{ type: "mrkdwn", text: "&lt;!here&gt; said the agent" }] });

    const batch = await received(digest([hostile, incident({ id: "inc_2", number: 8, title: HOSTILE.mention, agentId: null })]));
    expectSafe(batch.message);
    expect(batch.raw).not.toContain("<!channel>");
    expect(batch.message.blocks[1]!["text"].text).toBe(
      [
        ":red_circle: #7 &lt;https://evil.example|click here&gt; &amp;lt;b&amp;gt; &amp; &lt;@U123&gt; (&lt;!channel&gt;, open)",
        ":red_circle: #8 &lt;!channel&gt; (no agent, open)",
      ].join("\n"),
    );
  });

  it("never send an empty text element", async () => {
    const empty = incident({ title: "", agentId: "", runId: " ", severityReason: { rule: "r", explanation: "" } });
    const { message } = await received(notification(empty, "incident.acknowledged"));
    expectSafe(message);
    expect(message.blocks[1]!["text"].text).toBe(":red_circle: *(none)*");
    expect(message.blocks.map((b) => b["type"])).toEqual(["header", "section", "section"]);
    expectSafe((await received(digest([]))).message);
    expectSafe((await received(digest([empty]))).message);
  });

  it("keep within Slack's length limits, cutting with … and never inside an escape", async () => {
    const huge = incident({ title: HOSTILE.huge, agentId: "<".repeat(200), summary: HOSTILE.huge, severityReason: { rule: "r", explanation: HOSTILE.huge } });
    const { raw, message } = await received(notification(huge), () => `https://console.example.com/incidents/${"x".repeat(5000)}`);
    expectSafe(message);
    expect(raw.length).toBeLessThan(40_000);
    expect(message.blocks[1]!["text"].text).toMatch(/^:red_circle: \*(&lt;)+…\*$/);
    expect(message.blocks.some((b) => b["type"] === "actions")).toBe(false); // a 5000-character link is no button
    // every place a cut can fall relative to an escape
    for (let pad = 0; pad < 6; pad++) {
      expectSafe((await received(notification(incident({ title: `${"a".repeat(2980 + pad)}${"<&>".repeat(20)}` })))).message);
    }
    const many = Array.from({ length: 500 }, (_, i) => incident({ id: `inc_${i}`, number: i + 1, title: `${HOSTILE.mention}${"t".repeat(10_000)}` }));
    const batch = await received(digest(many));
    expectSafe(batch.message);
    expect(batch.message.blocks[1]!["text"].text).toMatch(/\n…and \d+ more$/);
    expect(batch.message.text).toBe("500 incident update(s) for review");
  });

  it("replace lone surrogates, NUL and control characters instead of sending them", async () => {
    const broken = incident({
      title: `${HOSTILE.loneSurrogates} ${HOSTILE.nul} ${HOSTILE.controls} 🚨`,
      agentId: `agt\uD800`,
      severityReason: { rule: "r", explanation: HOSTILE.controls },
    });
    const { raw, message } = await received(notification(broken));
    expectSafe(message);
    expect(raw).not.toMatch(/\\u[dD][89a-fA-F]|\\u00[01]/); // JSON.stringify's escapes for lone surrogates and controls
    expect(message.text).toContain("high \uFFFD low \uFFFD end");
    expect(message.text).toContain("🚨");
    expect(message.text).not.toContain("\n");
    expect(message.blocks[2]!["fields"].map((f: { text: string }) => f.text)).toContain("*Agent*\nagt\uFFFD");
  });

  it("offer a button only for a usable http(s) link", async () => {
    const buttons = async (link: string) => (await received(notification(incident()), () => link)).message.blocks.filter((b) => b["type"] === "actions");
    expect(await buttons("https://console.example.com/incidents/7")).toEqual([
      { type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open incident" }, url: "https://console.example.com/incidents/7" }] },
    ]);
    for (const bad of ["javascript:alert(1)", "https://console.example.com/a b", "https://console.example.com/\u0000", "https://"]) expect(await buttons(bad), bad).toEqual([]);
  });
});
