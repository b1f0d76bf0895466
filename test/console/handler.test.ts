import { afterEach, describe, expect, it } from "vitest";
import { createIncidents, memoryStore, type Actor, type Incidents } from "agent-incidents";
import { written } from "agent-incidents/testing";
import { createConsoleHandler } from "agent-incidents/console";

const ORIGIN = "http://console.test";
const actors: Record<string, Actor> = {
  ana: { id: "usr_ana", role: "operator", workspaceId: "ws_a", name: "Ana" },
  vic: { id: "usr_vic", role: "viewer", workspaceId: "ws_a" },
  bob: { id: "usr_bob", role: "operator", workspaceId: "ws_b" },
};

let incidents: Incidents;
afterEach(async () => incidents?.close());

async function setup(options: Partial<Parameters<typeof createConsoleHandler>[1]> = {}) {
  incidents = createIncidents({ store: memoryStore() });
  const report = async (workspaceId: string, i: number, title = `Policy ${i}`) =>
    written(
      await incidents.reporter({ workspaceId, agentId: "agt_refunds", environment: "production" }).policyBlocked({
        runId: `run_${i}`,
        eventId: `evt_${i}`,
        action: { type: "refund.create", payload: { amount: 10 * i } },
        policy: { id: `pol_${i}`, name: title, effect: "block" },
        impact: i % 2 ? "high" : "low",
      }),
    );
  const a = (await report("ws_a", 1)).incident;
  const b = (await report("ws_b", 2)).incident;
  const handler = createConsoleHandler(incidents, {
    authenticate: (request) => actors[request.headers.get("x-user") ?? ""] ?? null,
    basePath: "/ops/incidents",
    ...options,
  });
  const call = (path: string, init: RequestInit & { user?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.user) headers.set("x-user", init.user);
    return handler(new Request(`${ORIGIN}/ops/incidents${path}`, { ...init, headers }));
  };
  const post = (path: string, body: unknown, user = "ana", headers: Record<string, string> = {}) =>
    call(path, {
      method: "POST",
      user,
      // a header given as "" is left out
      headers: Object.fromEntries(Object.entries({ "content-type": "application/json", origin: ORIGIN, "sec-fetch-site": "same-origin", ...headers }).filter(([, v]) => v !== "")),
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  return { a, b, call, post, report };
}

describe("console handler", () => {
  it("refuses an unauthenticated request with 401 and no incident data, page or API", async () => {
    const { a, call } = await setup();
    for (const path of ["", "/", "/api/incidents", `/api/incidents/${a.id}`, "/api/stats", "/api/events"]) {
      const response = await call(path);
      expect(response.status).toBe(401);
      const text = await response.text();
      expect(text).not.toContain(a.id);
      expect(text).not.toContain("Policy 1");
    }
  });

  it("serves the page with a nonce-based Content-Security-Policy and nothing from another origin", async () => {
    const { call } = await setup({ title: "Ops <b>incidents</b>" });
    const response = await call("/", { user: "ana" });
    expect(response.status).toBe(200);
    const csp = response.headers.get("content-security-policy")!;
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await response.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain("<title>Ops &#60;b&#62;incidents&#60;/b&#62;</title>");
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    // a new nonce per response
    const again = (await call("/", { user: "ana" })).headers.get("content-security-policy");
    expect(again).not.toBe(csp);
  });

  it("lists only the actor's workspace, with counts, and filters from the query string", async () => {
    const { a, call, report } = await setup();
    await report("ws_a", 3);
    const body = (await (await call(`/api/incidents?severity=${a.severity}`, { user: "ana" })).json()) as {
      items: Array<{ id: string; severity: string }>;
      counts: Record<string, Record<string, number>>;
    };
    expect(body.items.map((i) => i.severity)).toEqual([a.severity, a.severity]);
    expect(body.items.map((i) => i.id)).toContain(a.id);
    expect(body.counts[a.severity]!["open"]).toBe(2);
    const bob = (await (await call("/api/incidents", { user: "bob" })).json()) as { items: Array<{ workspaceId: string }> };
    expect(bob.items.map((i) => i.workspaceId)).toEqual(["ws_b"]);
    // another workspace's incident by id: not found, as if it did not exist
    expect((await call(`/api/incidents/${a.id}`, { user: "bob" })).status).toBe(404);
    const bad = await call("/api/incidents?severity=urgent", { user: "ana" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/severity/);
  });

  it("acts as the authenticated actor, and shows a version conflict instead of swallowing it", async () => {
    const { a, post, call } = await setup();
    const ack = await post(`/api/incidents/${a.id}/actions`, { action: "acknowledge", expectedVersion: a.version });
    expect(ack.status).toBe(200);
    const stale = await post(`/api/incidents/${a.id}/actions`, { action: "note", note: "late", expectedVersion: a.version });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
    const detail = (await (await call(`/api/incidents/${a.id}`, { user: "ana" })).json()) as { activity: Array<{ type: string; actor: { id: string } }> };
    expect(detail.activity.map((x) => [x.type, x.actor.id])).toEqual([
      ["created", "agent:agt_refunds"],
      ["acknowledged", "usr_ana"],
    ]);
  });

  it("refuses cross-site and non-JSON state changes with 403, and changes nothing", async () => {
    const { a, post } = await setup();
    const attempts: Array<Record<string, string>> = [
      { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      { "sec-fetch-site": "same-site", origin: "https://sub.console.test" },
      { "sec-fetch-site": "", origin: "https://evil.example" },
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
    ];
    for (const headers of attempts) {
      const response = await post(`/api/incidents/${a.id}/actions`, { action: "acknowledge" }, "ana", headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
    }
    // no Origin and no Sec-Fetch-Site at all: refused too
    const bare = await post(`/api/incidents/${a.id}/actions`, { action: "acknowledge" }, "ana", { origin: "", "sec-fetch-site": "" });
    expect(bare.status).toBe(403);
    expect((await incidents.as(actors.ana!).get(a.id)).status).toBe("open");
  });

  it("gives a viewer 403 from the API even when called directly", async () => {
    const { a, post, call } = await setup();
    const session = (await (await call("/api/session", { user: "vic" })).json()) as { can: Record<string, boolean> };
    expect(session.can).toEqual({ read: true, note: false, triage: false, resolve: false, escalate: false, silence: false });
    for (const body of [{ action: "acknowledge" }, { action: "resolve", note: "x", rootCause: "other" }]) {
      expect((await post(`/api/incidents/${a.id}/actions`, body, "vic")).status).toBe(403);
    }
    expect((await post("/api/escalate", { title: "x", severity: "low" }, "vic")).status).toBe(403);
    expect((await incidents.as(actors.ana!).get(a.id)).version).toBe(1);
  });

  it("answers hostile bodies with 400 and writes nothing", async () => {
    const { a, post } = await setup();
    const bodies = [
      "not json",
      "x".repeat(70 * 1024),
      JSON.stringify({ action: "note", note: "x".repeat(20_000) }),
      '{"action":"note","note":"hi","__proto__":{"polluted":true}}',
      JSON.stringify({ action: "drop table" }),
      JSON.stringify({ action: "assign", assignee: "usr_\u0000x" }),
    ];
    for (const body of bodies) {
      const response = await post(`/api/incidents/${a.id}/actions`, body);
      expect(response.status, body.slice(0, 60)).toBe(400);
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect((await incidents.as(actors.ana!).get(a.id)).version).toBe(1);
    // operator text with a lone surrogate is kept, made well-formed, as everywhere else
    expect((await post(`/api/incidents/${a.id}/actions`, JSON.stringify({ action: "note", note: "half \ud800 a pair" }))).status).toBe(200);
    const { activity } = await incidents.as(actors.ana!).get(a.id);
    expect(activity.at(-1)!.message).toBe("half \ufffd a pair");
  });

  it("keeps a failing authenticate or a failing store out of the page: 500 or 503 with a generic message", async () => {
    const logged: unknown[] = [];
    const { call } = await setup({
      authenticate: () => {
        throw new Error("token service down: secret=abc");
      },
      onError: (error) => logged.push(error),
    });
    const response = await call("/api/incidents", { user: "ana" });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain("secret");
    expect(logged).toHaveLength(1);
    const { call: call2 } = await setup({ authenticate: () => ({ id: "", role: "root", workspaceId: "ws_a" }) as unknown as Actor, onError: () => undefined });
    expect((await call2("/api/incidents", { user: "ana" })).status).toBe(500);
  });

  it("reads a body in pieces and stops at the limit, also without a Content-Length", async () => {
    const { a, call } = await setup();
    let pulled = 0;
    const huge = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 10_000) return controller.close(); // 160 MB if it were read whole
        controller.enqueue(new Uint8Array(16 * 1024).fill(32));
      },
    });
    const response = await call(`/api/incidents/${a.id}/actions`, {
      method: "POST",
      user: "ana",
      headers: { "content-type": "application/json", "sec-fetch-site": "same-origin" },
      body: huge,
      duplex: "half",
    } as RequestInit & { duplex: string });
    expect(response.status).toBe(400);
    expect(pulled).toBeLessThan(10);
  });

  it("trusts Sec-Fetch-Site over Origin, so it works behind a proxy that terminates TLS", async () => {
    const { a, post } = await setup();
    const response = await post(`/api/incidents/${a.id}/actions`, { action: "acknowledge" }, "ana", { origin: "https://console.test", "sec-fetch-site": "same-origin" });
    expect(response.status).toBe(200);
  });

  it("refuses the event stream to an actor who may not read, and a garbled id names nothing", async () => {
    incidents = createIncidents({ store: memoryStore(), authorize: (_actor, permission) => permission !== "read" });
    const handler = createConsoleHandler(incidents, { authenticate: () => actors.ana! });
    expect((await handler(new Request(`${ORIGIN}/api/events`))).status).toBe(403);
    expect((await handler(new Request(`${ORIGIN}/api/incidents`))).status).toBe(403);
    const open = createConsoleHandler(createIncidents({ store: memoryStore() }), { authenticate: () => actors.ana! });
    expect((await open(new Request(`${ORIGIN}/api/incidents/%E0%A4%A`))).status).toBe(400);
  });

  it("ends its event streams on close(), and reports host bugs to onError with a 500", async () => {
    const errors: unknown[] = [];
    const { a } = await setup();
    const handler = createConsoleHandler(incidents, {
      authenticate: (request) => (request.headers.get("x-user") === "broken" ? ({ id: "", role: "root" } as unknown as Actor) : actors.ana!),
      linkTo: () => {
        throw new Error("linkTo broke");
      },
      onError: (error) => errors.push(error),
    });
    const stream = await handler(new Request(`${ORIGIN}/api/events`));
    const reader = stream.body!.getReader();
    await reader.read();
    handler.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
    expect((await handler(new Request(`${ORIGIN}/api/incidents`, { headers: { "x-user": "broken" } }))).status).toBe(500);
    const detail = await handler(new Request(`${ORIGIN}/api/incidents/${a.id}`));
    expect(detail.status).toBe(200);
    expect(((await detail.json()) as { link: unknown }).link).toBeNull();
    expect(errors.map((e) => (e as Error).message)).toEqual([expect.stringMatching(/invalid actor/), "linkTo broke"]);
    expect(() => createConsoleHandler(incidents, { authenticate: () => null, basePath: "//evil.example" })).toThrow(/basePath/);
  });

  it("streams changes of the actor's workspace only", async () => {
    const { call, report } = await setup();
    const controller = new AbortController();
    const response = await call("/api/events", { user: "ana", signal: controller.signal });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const read = async (until: RegExp) => {
      while (!until.test(text)) text += decoder.decode((await reader.read()).value);
    };
    await read(/connected/);
    await report("ws_b", 7);
    const mine = (await report("ws_a", 8)).incident;
    await read(new RegExp(mine.id));
    expect(text).not.toMatch(/"number":1,|ws_b/);
    expect(text.match(/event: change/g)).toHaveLength(1);
    controller.abort();
  });

  it("filters by assignee, environment, last seen and title text over every page, not only the first", async () => {
    const { call, report } = await setup();
    for (let i = 3; i <= 130; i++) await report("ws_a", i);
    // the one to find: the least severe and oldest-looking, so it sorts last
    const needle = await incidents.as(actors.ana!).escalate({ title: "Checkout agent double-charges", severity: "low", environment: "staging" });
    await incidents.as(actors.ana!).assign(needle.id, "usr_ana");
    type Answer = { items: Array<{ id: string }>; nextCursor: string | null; searched?: number };
    const get = async (query: string) => (await (await call(`/api/incidents?${query}`, { user: "ana" })).json()) as Answer;
    const first = await get("limit=50");
    expect(first.items.map((i) => i.id)).not.toContain(needle.id);
    for (const query of ["q=DOUBLE-CHARGES", "q=%23" + needle.number, "assignee=usr_ana", "environment=staging", "environment=staging,test&kind=manual", `seenSince=${encodeURIComponent(needle.lastSeenAt)}&severity=low`]) {
      const found = await get(query);
      expect({ query, ids: found.items.map((i) => i.id) }).toEqual({ query, ids: [needle.id] });
      // the store's own filters (kind, severity) narrow what is searched
      expect(found.searched).toBeGreaterThan(/kind|severity/.test(query) ? 0 : 50);
    }
    const unassigned = await get("unassigned=1&limit=200");
    expect(unassigned.items.map((i) => i.id)).not.toContain(needle.id);
    expect(unassigned.items).toHaveLength(129);
    // bad values are a 400 naming the field, never an empty page
    for (const [query, field] of [["seenSince=abc", "seenSince"], ["environment=mars", "environment"], ["unassigned=yes", "unassigned"], [`q=${"x".repeat(201)}`, "q"]] as const) {
      const response = await call(`/api/incidents?${query}`, { user: "ana" });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(field);
    }
  });

  it("sends the newest occurrences of a detail, the run of the latest (or a chosen) one, and its link", async () => {
    const { a, call } = await setup({ linkTo: (incident) => `/runs/${incident.runId}#${incident.eventId}` });
    const reporter = incidents.reporter({ workspaceId: "ws_a", agentId: "agt_refunds", environment: "production" });
    for (let k = 2; k <= 30; k++) {
      await reporter.policyBlocked({ runId: `run_r${k}`, eventId: `evt_r${k}`, action: { type: "refund.create", payload: { amount: 10 } }, policy: { id: "pol_1", name: "Policy 1", effect: "block" }, impact: "high" });
    }
    type Detail = { occurrenceLog: Array<{ runId: string }>; occurrenceTotal: number; shownRun: { runId: string; eventId: string; latest: boolean; runs: number }; link: string };
    const detail = async (query = "") => (await (await call(`/api/incidents/${a.id}${query}`, { user: "ana" })).json()) as Detail;
    const latest = await detail();
    expect(latest.occurrenceTotal).toBe(30);
    expect(latest.occurrenceLog.map((o) => o.runId)).toEqual(Array.from({ length: 20 }, (_, i) => `run_r${i + 11}`));
    expect(latest.shownRun).toEqual({ runId: "run_r30", eventId: "evt_r30", latest: true, runs: 30 });
    expect(latest.link).toBe("/runs/run_r30#evt_r30");
    expect((await detail("?occurrences=40")).occurrenceLog).toHaveLength(30);
    const earlier = await detail("?run=run_1");
    expect(earlier.shownRun).toEqual({ runId: "run_1", eventId: "evt_1", latest: false, runs: 30 });
    expect(earlier.link).toBe("/runs/run_1#evt_1");
    expect((await call(`/api/incidents/${a.id}?run=run_elsewhere`, { user: "ana" })).status).toBe(400);
  });
});
