import { describe, expect, it } from "vitest";
import { loggerNotifier } from "agent-incidents/notifiers";
import { attempt, digest, hasLoneSurrogate, HOSTILE, incident, notification, strings } from "./hostile.js";

/** A pino-like logger that keeps each call as the log line it would write. */
function recording() {
  const lines: Array<{ level: string; object: Record<string, unknown>; message: string | undefined }> = [];
  const at = (level: string) => (object: object, message?: string) => void lines.push({ level, object: object as Record<string, unknown>, message });
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

const FORGING = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

describe("loggerNotifier", () => {
  it("strips control characters and bidi overrides from the message and every field, so a line cannot be forged", async () => {
    const { lines, logger } = recording();
    const hostile = incident({
      title: `ok ${HOSTILE.controls} ${HOSTILE.nul} ${HOSTILE.loneSurrogates}`,
      agentId: "agt\n{\"level\":\"info\",\"msg\":\"all clear\"}",
      runId: "run\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007",
    });
    await loggerNotifier(logger).send([notification(hostile), digest([hostile, incident({ id: "inc_\r\nforged" })])], attempt());
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      for (const text of [line.message ?? "", ...strings(line.object)]) {
        expect(text).not.toMatch(FORGING);
        expect(hasLoneSurrogate(text)).toBe(false);
      }
    }
    expect(lines[0]).toEqual({
      level: "error",
      message: "incident.created: #7 ok red [31mALERT[0mlevel=error forged linec1 evil iso bell nulhere high \uFFFD low \uFFFD end",
      object: {
        notification: "ntf_1",
        type: "incident.created",
        incident: "inc_01HOSTILE",
        number: 7,
        severity: "critical",
        status: "open",
        agent: 'agt{"level":"info","msg":"all clear"}',
        run: "run]8;;https://evil.exampleclick]8;;",
      },
    });
    expect(lines[1]!.object["incidents"]).toEqual(["inc_01HOSTILE", "inc_forged"]);
  });

  it("keeps a huge title to a bounded message", async () => {
    const { lines, logger } = recording();
    await loggerNotifier(logger).send([notification(incident({ title: HOSTILE.huge, severity: "medium" }))], attempt());
    expect(lines[0]!.level).toBe("info");
    expect(lines[0]!.message!.length).toBeLessThanOrEqual(1000);
    expect(lines[0]!.message).toMatch(/^incident\.created: #7 <+…$/);
  });
});
