/**
 * The console's noise control API (handler level): silences listed, created and expired by a role
 * that may silence and refused to one that may not, a snooze from the detail, a group's members in
 * the list and the detail, the names behind the badges, and hostile input refused with nothing
 * written (a huge comment, NUL, `__proto__` in a matcher, a cross-site POST).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createIncidents, memoryStore, type Actor, type Incidents } from "agent-incidents";
import { fakeClock } from "agent-incidents/testing";
import { createConsoleHandler } from "agent-incidents/console";

const ORIGIN = "http://console.test";
const WS = "ws_noise";
const actors: Record<string, Actor> = {
  ana: { id: "usr_ana", role: "operator", workspaceId: WS },
  vic: { id: "usr_vic", role: "viewer", workspaceId: WS },
  amy: { id: "usr_amy", role: "approver", workspaceId: WS },
};
const OUTAGE = { name: "outage", by: ["connector.id", "error.code"] as ["connector.id", "error.code"], windowMs: 60_000 };

let incidents: Incidents;
afterEach(async () => incidents?.close());

async function setup(grouped = false) {
  // the library's clock starts at the real time: the console turns durations into times on the server's clock
  const clock = fakeClock(new Date());
  incidents = createIncidents({ store: memoryStore(), clock, ...(grouped ? { noise: { groups: [OUTAGE] } } : {}) });
  const handler = createConsoleHandler(incidents, { authenticate: (request) => actors[request.headers.get("x-user") ?? ""] ?? null });
  const down = async (agent: string, code = "rate_limited") =>
    (
      await incidents.reporter({ workspaceId: WS, agentId: agent, environment: "production" }).executionFailed({
        runId: `run_${agent}_${code}`,
        eventId: "evt_1",
        action: { type: "llm.complete" },
        connector: { id: "con_openai", provider: "openai" },
        error: { name: "ProviderError", message: "429 Too Many Requests", code },
      })
    ).incident!;
  const get = async (path: string, user = "ana") => {
    const response = await handler(new Request(`${ORIGIN}${path}`, { headers: { "x-user": user } }));
    return { status: response.status, body: (await response.json()) as any };
  };
  const post = async (path: string, body: unknown, user = "ana", headers: Record<string, string> = {}) => {
    const response = await handler(
      new Request(`${ORIGIN}${path}`, {
        method: "POST",
        headers: { "x-user": user, "content-type": "application/json", origin: ORIGIN, "sec-fetch-site": "same-origin", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
    return { status: response.status, body: (await response.json()) as any };
  };
  const ops = incidents.as(actors.ana!);
  return { clock, down, get, post, ops };
}

describe("console noise control API", () => {
  it("creates, lists and expires silences; the incident's badge names the silence", async () => {
    const { down, get, post, ops } = await setup();
    const quiet = await down("agt_1");
    const loud = await down("agt_2", "timeout");
    const created = await post("/api/silences", { match: { agents: ["agt_1"], connectors: ["con_openai"] }, forMs: 3_600_000, comment: "provider maintenance" });
    expect(created.status).toBe(200);
    const silence = created.body.silence;
    expect(silence).toMatchObject({ state: "active", comment: "provider maintenance", createdBy: { id: "usr_ana" }, untilResolved: null });
    expect(Date.parse(silence.endsAt) - Date.now()).toBeGreaterThan(3_590_000);

    const detail = await get(`/api/incidents/${quiet.id}`);
    expect(detail.body.quiet).toEqual({ kind: "silenced", silenceId: silence.id });
    expect(detail.body.refs.silences).toEqual([{ id: silence.id, comment: "provider maintenance", endsAt: silence.endsAt, untilResolved: null, state: "active" }]);
    const list = await get("/api/incidents");
    expect(list.body.items.map((i: any) => [i.id, i.quiet?.kind ?? null])).toEqual(expect.arrayContaining([[quiet.id, "silenced"], [loud.id, null]]));
    // a viewer sees the badge, but not the silence behind it (reading silences needs "silence")
    const seenByViewer = await get(`/api/incidents/${quiet.id}`, "vic");
    expect([seenByViewer.body.quiet.kind, seenByViewer.body.refs.silences]).toEqual(["silenced", []]);

    // one lasting until an incident resolves names that incident
    const until = await post("/api/silences", { match: { agents: "agt_2" }, untilResolved: loud.id, comment: "until the provider is back" });
    expect(until.status).toBe(200);
    const listed = await get("/api/silences");
    expect(listed.body.items.map((s: any) => s.comment)).toEqual(["until the provider is back", "provider maintenance"]);
    expect(listed.body.incidents).toEqual([{ id: loud.id, number: loud.number, title: loud.title, status: "open" }]);

    const expired = await post(`/api/silences/${silence.id}/expire`, {});
    expect(expired.status).toBe(200);
    expect(expired.body.silence).toMatchObject({ state: "expired", expiredBy: { id: "usr_ana" } });
    expect((await get("/api/silences?state=active")).body.items.map((s: any) => s.id)).toEqual([until.body.silence.id]);
    expect((await get("/api/silences?state=expired")).body.items.map((s: any) => s.id)).toEqual([silence.id]);
    expect((await ops.get(quiet.id)).quiet).toBeNull();
    expect((await get("/api/silences?state=sleeping")).status).toBe(400);
    expect((await get("/api/silences?__proto__=x")).status).toBe(400);
    expect((await post("/api/silences/sil_nothing/expire", {})).status).toBe(404);
  });

  it("refuses silences to a role without 'silence' (403), and a cross-site or non-JSON POST, writing nothing", async () => {
    const { down, get, post, ops } = await setup();
    const incident = await down("agt_1");
    const body = { match: { agents: "agt_1" }, forMs: 3_600_000, comment: "x" };
    const session = await get("/api/session", "vic");
    expect(session.body.can.silence).toBe(false);
    expect((await get("/api/session")).body.can.silence).toBe(true);
    for (const user of ["vic", "amy"]) {
      expect((await get("/api/silences", user)).status).toBe(403);
      expect((await post("/api/silences", body, user)).status).toBe(403);
    }
    const silence = (await ops.silences.create({ match: { agents: "agt_9" }, endsAt: new Date(Date.now() + 3_600_000).toISOString(), comment: "kept" })).id;
    expect((await post(`/api/silences/${silence}/expire`, {}, "vic")).status).toBe(403);
    const refusals: Array<Record<string, string>> = [{ "sec-fetch-site": "cross-site", origin: "https://evil.example" }, { "content-type": "text/plain" }];
    for (const headers of refusals) {
      expect((await post("/api/silences", body, "ana", headers)).status).toBe(403);
      expect((await post(`/api/silences/${silence}/expire`, {}, "ana", headers)).status).toBe(403);
    }
    expect((await ops.silences.list()).map((s) => [s.comment, s.state])).toEqual([["kept", "active"]]);
    expect((await ops.get(incident.id)).quiet).toBeNull();
  });

  it("answers hostile silences with 400 and creates none: huge or NUL comments, __proto__ in the matcher, an empty matcher", async () => {
    const { down, post, ops } = await setup();
    const incident = await down("agt_1");
    const end = { forMs: 3_600_000 };
    const bodies: unknown[] = [
      { match: { agents: "agt_1" }, ...end, comment: "x".repeat(3000) },
      { match: { agents: "agt_1" }, ...end, comment: "x".repeat(70_000) }, // beyond the body limit
      { match: { agents: "agt_1" }, ...end, comment: "maintenance\u0000window" },
      { match: { agents: "agt_1" }, ...end, comment: "   " },
      { match: { agents: "agt_1" }, ...end },
      { match: {}, ...end, comment: "everything" },
      { match: [], ...end, comment: "a list" },
      { match: "agt_1", ...end, comment: "text" },
      { match: { agents: "agt_1", colour: "red" }, ...end, comment: "unknown field" },
      { match: { agents: ["a\u0000b"] }, ...end, comment: "NUL id" },
      { match: { agents: "agt_1" }, comment: "no end" },
      { match: { agents: "agt_1" }, forMs: 3_600_000, untilResolved: incident.id, comment: "both ends" },
      { match: { agents: "agt_1" }, forMs: -1, comment: "negative" },
      { match: { agents: "agt_1" }, forMs: 1e15, comment: "forever" },
      { match: { agents: "agt_1" }, untilResolved: "inc_nothing", comment: "missing incident" },
      { match: { agents: "agt_1" }, ...end, comment: "extra", endsAt: "2030-01-01T00:00:00Z" },
      // JSON.parse makes "__proto__" an own key: refused as a field no matcher has, in the matcher or the body
      '{"match":{"__proto__":{"agents":["agt_1"]}},"forMs":3600000,"comment":"proto"}',
      '{"match":{"agents":"agt_1"},"forMs":3600000,"comment":"proto","__proto__":{"polluted":true}}',
      "not json",
    ];
    for (const body of bodies) {
      const response = await post("/api/silences", body);
      const said = JSON.stringify(body).slice(0, 120);
      const missing = said.includes("inc_nothing");
      expect([said, response.status, response.body.error.code]).toEqual([said, missing ? 404 : 400, missing ? "NOT_FOUND" : "VALIDATION"]);
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(({} as Record<string, unknown>)["agents"]).toBeUndefined();
    expect(await ops.silences.list()).toEqual([]);
    expect((await ops.get(incident.id)).quiet).toBeNull();

    // a tag named __proto__ is a tag like any other: the silence matches only incidents carrying it
    const tagged = await post("/api/silences", JSON.parse('{"match":{"tags":{"__proto__":"x"}},"forMs":3600000,"comment":"odd tag"}'));
    expect(tagged.status).toBe(200);
    expect(Object.keys(tagged.body.silence.match.tags)).toEqual(["__proto__"]);
    expect((await ops.get(incident.id)).quiet).toBeNull();
    expect((await post(`/api/silences/${tagged.body.silence.id}/expire`, "not json")).status).toBe(400);
    expect((await post(`/api/silences/${tagged.body.silence.id}/expire`, { now: true })).status).toBe(400);
  });

  it("snoozes an acknowledged incident for a while with a reason; refuses an open one, a viewer and bad input", async () => {
    const { down, get, post } = await setup();
    const incident = await down("agt_1");
    const path = `/api/incidents/${incident.id}/actions`;
    const snooze = { action: "snooze", forMs: 30 * 60_000, reason: "waiting for the provider" };
    const open = await post(path, snooze);
    expect([open.status, open.body.error.code]).toEqual([409, "INVALID_TRANSITION"]);
    expect((await post(path, { action: "acknowledge" })).status).toBe(200);
    expect((await post(path, snooze, "vic")).status).toBe(403);
    for (const bad of [
      { ...snooze, reason: "" },
      { ...snooze, reason: "wait\u0000ing" },
      { ...snooze, reason: "x".repeat(2001) },
      { ...snooze, forMs: 1000 },
      { ...snooze, forMs: 30 * 86_400_000 },
      { ...snooze, forMs: "30m" },
      { ...snooze, until: "2030-01-01T00:00:00Z" },
      { action: "snooze", forMs: 60_000 },
    ]) {
      expect([bad, (await post(path, bad)).status]).toEqual([bad, 400]);
    }
    const done = await post(path, snooze);
    expect(done.status).toBe(200);
    expect(done.body.incident.noise).toMatchObject({ snoozeReason: "waiting for the provider" });
    const detail = await get(`/api/incidents/${incident.id}`);
    expect(detail.body.quiet.kind).toBe("snoozed");
    expect(Math.abs(Date.parse(detail.body.quiet.until) - (Date.now() + 30 * 60_000))).toBeLessThan(5000);
    expect(detail.body.activity.at(-1)).toMatchObject({ type: "snoozed", actor: { id: "usr_ana" } });
  });

  it("lists a group in place of its members; members=1 adds them, group=<id> lists them, the detail names both ways", async () => {
    const { clock, down, get } = await setup(true);
    for (const agent of ["agt_1", "agt_2", "agt_3"]) await down(agent);
    // before the window closes, each is held for grouping
    const held = await get("/api/incidents");
    expect(held.body.items.map((i: any) => i.quiet?.kind)).toEqual(["held", "held", "held"]);
    clock.advance(60_000);
    await incidents.runDue();

    const list = await get("/api/incidents");
    expect(list.body.items.map((i: any) => [i.kind, i.occurrences, i.quiet])).toEqual([["group", 3, null]]);
    const group = list.body.items[0];
    expect(group.group).toMatchObject({ rule: "outage", agents: ["agt_1", "agt_2", "agt_3"] });

    const all = await get("/api/incidents?members=1");
    expect(all.body.items).toHaveLength(4);
    expect(all.body.refs.groups).toEqual([{ id: group.id, number: group.number, title: group.title, status: "open" }]);
    const members = await get(`/api/incidents?group=${group.id}`);
    expect(members.body.items.map((i: any) => [i.agentId, i.quiet])).toEqual(
      expect.arrayContaining(["agt_1", "agt_2", "agt_3"].map((agent) => [agent, { kind: "grouped", groupId: group.id }])),
    );
    // a member's group is named even when the group is not on the page
    expect(members.body.refs.groups).toEqual([{ id: group.id, number: group.number, title: group.title, status: "open" }]);
    for (const query of ["members=yes", "group=", `group=${"x".repeat(300)}`, "members=1&members=2"]) {
      expect([query, (await get(`/api/incidents?${query}`)).status]).toEqual([query, query === "group=" || query === "members=1&members=2" ? 200 : 400]);
    }

    const detail = await get(`/api/incidents/${group.id}`);
    expect(detail.body.members.items.map((m: any) => m.agentId).sort()).toEqual(["agt_1", "agt_2", "agt_3"]);
    expect(detail.body.members.more).toBe(false);
    const member = await get(`/api/incidents/${members.body.items[0].id}`);
    expect(member.body.quiet).toEqual({ kind: "grouped", groupId: group.id });
    expect(member.body.members).toBeNull();
    expect(member.body.refs.groups.map((g: any) => g.number)).toEqual([group.number]);
  });
});
