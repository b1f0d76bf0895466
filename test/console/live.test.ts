/**
 * The console's live updates: one tailer per handler reads the store's change feed and writes to
 * the open event streams, so a change made by any process reaches every page of its workspace,
 * and a report never waits for the streams.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createIncidents, memoryStore, type Actor, type Incidents } from "agent-incidents";
import { sqliteStore } from "agent-incidents/sqlite";
import { createConsoleHandler, type ConsoleHandler } from "agent-incidents/console";

const ORIGIN = "http://console.test";
const dir = mkdtempSync(join(tmpdir(), "agent-incidents-live-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: Array<{ close(): Promise<void> } | ConsoleHandler> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

function system(store = memoryStore()): Incidents {
  const incidents = createIncidents({ store });
  open.push(incidents);
  return incidents;
}

/** The actor is named by the `x-user` header: `usr_N` in `ws_a` unless it says `ws_b:`. */
function consoleFor(incidents: Incidents, options: Partial<Parameters<typeof createConsoleHandler>[1]> = {}) {
  const handler = createConsoleHandler(incidents, {
    authenticate: (request) => {
      const user = request.headers.get("x-user") ?? "usr_ana";
      const [workspaceId, id] = user.includes(":") ? user.split(":") : ["ws_a", user];
      return { id: id!, role: "operator", workspaceId: workspaceId! } satisfies Actor;
    },
    ...options,
  });
  open.push(handler);
  return (user = "usr_ana", signal?: AbortSignal) => handler(new Request(`${ORIGIN}/api/events`, { headers: { "x-user": user }, ...(signal ? { signal } : {}) }));
}

/** Reads an event stream as the page would, keeping everything it said. */
function reading(response: Response) {
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const seen = { text: "", ended: false, failed: null as unknown };
  let wake = () => {};
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen.text += decoder.decode(value, { stream: true });
        wake();
      }
    } catch (error) {
      seen.failed = error;
    } finally {
      seen.ended = true;
      wake();
    }
  })();
  /** Resolves once the stream has said it; rejects if it ends without. */
  const until = async (pattern: RegExp) => {
    while (!pattern.test(seen.text)) {
      if (seen.ended) throw new Error(`the stream ended without ${pattern}: ${seen.text}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  return Object.assign(seen, { until, cancel: () => reader.cancel() });
}

/** Counts the handler's reads of the feed, to bound waits by polls rather than by time. */
function countReads(incidents: Incidents) {
  const calls = { count: 0 };
  const read = incidents.feed.read.bind(incidents.feed);
  incidents.feed.read = (query) => {
    calls.count += 1;
    return read(query);
  };
  return calls;
}
const afterPolls = (calls: { count: number }, n: number) => {
  const target = calls.count + n;
  return expect.poll(() => calls.count, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(target);
};

async function blocked(incidents: Incidents, i: number, workspaceId = "ws_a") {
  const result = await incidents.reporter({ workspaceId, agentId: "agt_refunds", environment: "production" }).policyBlocked({
    runId: `run_${i}`,
    eventId: `evt_${i}`,
    action: { type: "refund.create" },
    policy: { id: `pol_${i}`, name: `Policy ${i}`, effect: "block" },
    impact: "high",
  });
  if (!result.incident) throw new Error(`report ${i} was not written: ${result.outcome}`);
  return result.incident;
}

describe("console live updates", { timeout: 60_000 }, () => {
  it("streams a change made through another instance on the same SQLite file (another process) within two polls", async () => {
    const file = join(dir, "shared.db");
    const consoleSide = system(sqliteStore({ filename: file }));
    const runtime = system(sqliteStore({ filename: file }));
    const reads = countReads(consoleSide);
    const events = consoleFor(consoleSide);
    const stream = reading(await events());
    await stream.until(/connected/);
    const other = reading(await events("ws_b:usr_bob"));
    await other.until(/connected/);

    const incident = await blocked(runtime, 1);
    await afterPolls(reads, 2); // the second read after the commit starts once the first is sent
    expect(stream.text).toContain(`"id":"${incident.id}"`);
    expect(stream.text).toMatch(/event: change\ndata: \{"type":"incident\.created","event":"created",/);
    expect(other.text).not.toContain(incident.id);

    // an operator's change in that process too, with the event name the page gets
    await runtime.as({ id: "usr_cli", role: "operator", workspaceId: "ws_a" }).acknowledge(incident.id);
    await afterPolls(reads, 2);
    expect(stream.text).toMatch(new RegExp(`"type":"incident\\.acknowledged","event":"acknowledged","id":"${incident.id}","number":1,"version":2`));
  });

  it("refuses a seventh stream of one actor with 429 and says why; another actor is not limited, and a closed stream frees its place", async () => {
    const incidents = system();
    const events = consoleFor(incidents);
    const aborts = Array.from({ length: 6 }, () => new AbortController());
    for (const abort of aborts) expect((await events("usr_ana", abort.signal)).status).toBe(200);
    const seventh = await events("usr_ana");
    expect(seventh.status).toBe(429);
    expect(((await seventh.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: "TOO_MANY_STREAMS",
      message: expect.stringMatching(/already have 6 live views .* close one, then reload/),
    });
    expect((await events("usr_bo")).status).toBe(200);
    expect((await events("ws_b:usr_ana")).status).toBe(200); // the same id in another workspace is someone else
    aborts[0]!.abort();
    expect((await events("usr_ana")).status).toBe(200);
    expect((await events("usr_ana")).status).toBe(429);
  });

  it("ends a stream whose reader does not keep up instead of buffering for it, and keeps feeding the others", async () => {
    const incidents = system();
    const events = consoleFor(incidents);
    const slow = (await events("usr_slow")).body!.getReader(); // never read
    let dropped: unknown = null;
    slow.closed.catch((error: unknown) => (dropped = error));
    const fast = reading(await events("usr_fast"));
    await fast.until(/connected/);
    const ops = incidents.as({ id: "usr_ana", role: "operator", workspaceId: "ws_a" });
    const { id } = await blocked(incidents, 1);
    // each change is about 150 bytes: 64 KiB unread is some 450 changes
    let version = 1;
    for (let batch = 0; batch < 40 && dropped === null; batch++) {
      for (let i = 0; i < 50; i++) version = (await ops.addNote(id, `note ${batch}.${i}`)).version;
      await fast.until(new RegExp(`"version":${version},`));
    }
    expect(String(dropped)).toMatch(/fell behind/);
    expect(fast.ended).toBe(false);
    version = (await ops.addNote(id, "after the slow one left")).version;
    await fast.until(new RegExp(`"version":${version},`));
    // its place is free again
    for (let i = 0; i < 6; i++) expect((await events("usr_slow")).status).toBe(200);
  });

  it("a report with 500 streams open writes to none of them: the one tailer does, after the report resolved", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    try {
      const incidents = system();
      const reads = countReads(incidents);
      let subscriptions = 0;
      const on = incidents.on.bind(incidents);
      incidents.on = ((type, handler) => {
        subscriptions += 1;
        return on(type, handler);
      }) as Incidents["on"];
      const events = consoleFor(incidents);
      const streams = await Promise.all(Array.from({ length: 500 }, async (_, i) => (await events(`usr_${i}`)).body!.getReader()));
      for (const reader of streams) expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/connected/);
      let written = 0;
      const next = streams.map((reader) => reader.read().then(({ value }) => ((written += 1), new TextDecoder().decode(value))));

      const incident = await blocked(incidents, 1);
      await new Promise((resolve) => setImmediate(resolve)); // whatever the report left queued has run
      expect(written).toBe(0);
      expect(subscriptions).toBeLessThan(50); // one listener per change type (13 of them), not one per stream (500)

      for (let step = 0; step < 50 && written < 500; step++) await vi.advanceTimersByTimeAsync(100);
      expect(written).toBe(500);
      for (const text of await Promise.all(next)) expect(text).toContain(incident.id);

      // close() ends them all and the tailer with them: no more reads, whatever the clock does
      const handler = open.find((thing): thing is ConsoleHandler => typeof thing === "function")!;
      handler.close();
      for (const reader of streams) expect((await reader.read()).done).toBe(true);
      const before = reads.count;
      await blocked(incidents, 2);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(reads.count).toBe(before);
      expect((await events("usr_late")).status).toBe(503);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps its streams through a failing store: onError hears of it once, the page is told, and changes come when it answers", async () => {
    const incidents = system();
    const read = incidents.feed.read;
    let failing = false;
    incidents.feed.read = (query) => (failing ? Promise.reject(new Error("database is locked")) : read(query));
    const reads = countReads(incidents);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const errors: unknown[] = [];
    try {
      const events = consoleFor(incidents, { onError: (error) => errors.push(error) });
      const stream = reading(await events());
      await stream.until(/connected/);
      failing = true;
      const incident = await blocked(incidents, 1);
      await afterPolls(reads, 3);
      expect(errors.map((e) => (e as Error).message)).toEqual(["database is locked"]);
      expect(stream.text).toContain('event: state\ndata: {"live":false,"reason":"the incident store is not answering; retrying"}');
      expect(stream.text).not.toContain(incident.id);
      expect(stream.ended).toBe(false);

      failing = false;
      await afterPolls(reads, 2);
      expect(stream.text).toContain(`"id":"${incident.id}"`);
      expect(stream.text).toContain('event: state\ndata: {"live":true}');
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("ends its streams when the incident system closes under it", async () => {
    const incidents = createIncidents({ store: memoryStore() });
    const events = consoleFor(incidents);
    const stream = reading(await events());
    await stream.until(/connected/);
    await incidents.close();
    await expect.poll(() => stream.ended, { timeout: 30_000 }).toBe(true);
    expect(stream.failed).toBeNull();
  });
});

describe("changes that commit out of order (PostgreSQL hands out positions before commit)", () => {
  it("a change missing from one read is sent when it shows up, once, and nothing is sent twice", async () => {
    const incidents = system();
    const events = consoleFor(incidents);
    const stream = reading(await events());
    await stream.until(/connected/);
    // the feed hides the second change for a while, as an open transaction would
    let hidden: number | null = null;
    let hide = true;
    const read = incidents.feed.read.bind(incidents.feed);
    incidents.feed.read = async (query) => (await read(query)).filter((change) => {
      if (hidden === null && change.event === "created" && change.incident.number === 2) hidden = change.seq;
      return !(hide && change.seq === hidden);
    });
    const reads = countReads(incidents);
    const [a, b, c] = [await blocked(incidents, 1), await blocked(incidents, 2), await blocked(incidents, 3)];
    await stream.until(new RegExp(`"id":"${c.id}"`));
    expect(stream.text).toContain(`"id":"${a.id}"`);
    expect(stream.text).not.toContain(`"id":"${b.id}"`);
    hide = false;
    await stream.until(new RegExp(`"id":"${b.id}"`));
    await afterPolls(reads, 3);
    for (const incident of [a, b, c]) expect(stream.text.split(`"id":"${incident.id}"`).length - 1).toBe(1);
  });
});
