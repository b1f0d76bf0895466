/**
 * The console's live updates: the open event streams of one handler, and the one tailer that
 * feeds them from the store's change feed.
 *
 * A change's path: any process (a runtime, the CLI, another console) commits it to the store's
 * feed → the tailer reads it, every `POLL_MS` or soon after this process's own `incidents.on`
 * change event → it is written to each open stream of the change's workspace. A report never
 * writes to a stream: with 2,000 streams open it costs what it costs with none.
 */
import type { Incidents } from "../incidents.js";
import { NOTIFICATION_EVENTS, type Change } from "../core/notification.js";
import type { Actor } from "../core/schemas.js";
import { isIncidentError } from "../core/errors.js";

/** How often the tailer reads the feed for other processes' changes. */
const POLL_MS = 1000;
/** How long after a change in this process the tailer reads: a burst of reports is read once. */
const POKE_MS = 20;
/** Changes read at once; a longer backlog is read in several reads within one poll. */
const BATCH = 500;
/** How often every stream gets a ping, so proxies keep it open and the page knows it is alive. */
const KEEPALIVE_MS = 15_000;
/** A stream ends after this; the browser reconnects, and `authenticate` is asked again. */
const STREAM_MAX_MS = 5 * 60_000;
/** Streams one actor may have open: a browser opens at most six to one server over HTTP/1.1. */
export const STREAMS_PER_ACTOR = 6;
/** How long a skipped position is waited for, and how many are (beyond that, one is given up). */
const GAP_WAIT_MS = 10_000;
const MAX_GAPS = 1000;
/** What a stream may hold unread before its reader counts as gone: about 300 changes. */
const STREAM_BUFFER_BYTES = 64 * 1024;

const CHANGE_TYPES = NOTIFICATION_EVENTS.map((event) => `incident.${event}` as const);
/** The `incidents.on` type of a feed event: one vocabulary for events, notifications and the page. */
const TYPE_OF = (event: Change["event"]) => `incident.${event}` as const;

interface Stream {
  readonly workspaceId: string;
  readonly actorKey: string;
  readonly openedAt: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
  ended: boolean;
}

export type Opened = { stream: ReadableStream<Uint8Array> } | { refused: { status: number; code: string; message: string } };

export interface LiveUpdates {
  /** A new event stream for `actor`, or why it is refused (too many open, or closed). Rejects when the feed cannot be read. */
  open(actor: Actor, signal?: AbortSignal): Promise<Opened>;
  /** Ends every stream and the tailer; later streams are refused. */
  close(): void;
}

export function liveUpdates(incidents: Incidents, report: (error: unknown) => void): LiveUpdates {
  const encoder = new TextEncoder();
  const byWorkspace = new Map<string, Set<Stream>>();
  const perActor = new Map<string, number>();
  let open = 0;
  let closed = false;
  /** The last change sent; `null` while no stream is open (the next one starts at the feed's head). */
  let cursor: number | null = null;
  /**
   * Positions skipped by a read, with when to stop waiting for them. PostgreSQL hands out a
   * change's position when it is written and commits in any order: one that is missing may still
   * commit (or was rolled back, and then never comes).
   */
  const gaps = new Map<number, number>();
  let heading: Promise<void> | null = null;
  /** Bumped whenever the tailer stops, so a read still in flight for an old run sends nothing. */
  let generation = 0;
  let polling = false;
  let again = false;
  let failing = false;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let pokeTimer: ReturnType<typeof setTimeout> | undefined;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  let unsubscribe: Array<() => void> = [];

  const poke = () => {
    if (pokeTimer !== undefined || open === 0) return;
    pokeTimer = unref(setTimeout(() => {
      pokeTimer = undefined;
      void poll();
    }, POKE_MS));
  };

  function start(): void {
    unsubscribe = CHANGE_TYPES.map((type) => incidents.on(type, poke));
    keepalive = unref(setInterval(sweep, KEEPALIVE_MS));
    pollTimer = unref(setTimeout(() => void poll(), POLL_MS));
  }

  function stop(): void {
    generation += 1;
    cursor = null;
    gaps.clear();
    failing = false;
    for (const off of unsubscribe.splice(0)) off();
    clearTimeout(pollTimer);
    clearTimeout(pokeTimer);
    clearInterval(keepalive);
    pollTimer = pokeTimer = keepalive = undefined;
  }

  /** Where the first stream starts: changes committed after it opened are all sent. */
  function ready(): Promise<void> {
    if (cursor !== null) return Promise.resolve();
    heading ??= incidents.feed
      .head()
      .then((seq) => {
        cursor ??= seq;
      })
      .finally(() => {
        heading = null;
      });
    return heading;
  }

  async function poll(): Promise<void> {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    const run = generation;
    try {
      await ready();
      const now = Date.now();
      for (const [seq, until] of gaps) if (until < now) gaps.delete(seq);
      if (gaps.size > 0) {
        // what filled a gap since the last read is sent now; what was sent is not sent again
        const back = await incidents.feed.read({ after: Math.min(...gaps.keys()) - 1, limit: BATCH });
        if (run !== generation) return;
        fanOut(back.filter((change) => change.seq <= (cursor ?? 0) && gaps.delete(change.seq)));
      }
      for (let reads = 0; reads < 20 && run === generation; reads++) {
        const read = await incidents.feed.read({ after: cursor ?? 0, limit: BATCH });
        if (run !== generation) return;
        let expected = (cursor ?? 0) + 1;
        for (const change of read) {
          for (let seq = expected; seq < change.seq && gaps.size < MAX_GAPS; seq++) gaps.set(seq, now + GAP_WAIT_MS);
          expected = change.seq + 1;
        }
        fanOut(read);
        cursor = read.at(-1)?.seq ?? cursor;
        if (read.length < BATCH) break;
      }
      if (failing && run === generation) {
        failing = false;
        broadcast(`event: state\ndata: ${JSON.stringify({ live: true })}\n\n`);
      }
    } catch (error) {
      if (run !== generation) return;
      if (isIncidentError(error) && error.code === "CLOSED") {
        // the incident system was closed under the console: nothing will come any more
        endAll();
        return;
      }
      // a store that fails is read again next poll; the host hears of it once per outage
      if (!failing) {
        failing = true;
        safely(() => report(error));
        broadcast(`event: state\ndata: ${JSON.stringify({ live: false, reason: "the incident store is not answering; retrying" })}\n\n`);
      }
    } finally {
      polling = false;
      if (open > 0 && !closed) {
        clearTimeout(pollTimer);
        pollTimer = unref(setTimeout(() => void poll(), again ? 0 : POLL_MS));
      }
      again = false;
    }
  }

  /** One write per stream per poll: the changes of its workspace, together. */
  function fanOut(changes: readonly Change[]): void {
    const texts = new Map<string, string>();
    for (const change of changes) {
      if (!byWorkspace.has(change.workspaceId)) continue;
      const { incident } = change;
      const data = { type: TYPE_OF(change.event), event: change.event, id: change.incidentId, number: incident.number, version: incident.version, seq: change.seq };
      texts.set(change.workspaceId, `${texts.get(change.workspaceId) ?? ""}event: change\ndata: ${JSON.stringify(data)}\n\n`);
    }
    for (const [workspaceId, text] of texts) {
      const bytes = encoder.encode(text);
      for (const stream of [...(byWorkspace.get(workspaceId) ?? [])]) send(stream, bytes);
    }
  }

  function broadcast(text: string): void {
    const bytes = encoder.encode(text);
    for (const streams of [...byWorkspace.values()]) for (const stream of [...streams]) send(stream, bytes);
  }

  function sweep(): void {
    const now = Date.now();
    const ping = encoder.encode("event: ping\ndata: {}\n\n");
    for (const streams of [...byWorkspace.values()]) {
      for (const stream of [...streams]) {
        // a stream does not outlive its sign-in for long: the reconnect authenticates again
        if (now - stream.openedAt >= STREAM_MAX_MS) end(stream);
        else send(stream, ping);
      }
    }
  }

  function send(stream: Stream, bytes: Uint8Array): void {
    if (stream.ended) return;
    // a reader that does not keep up is let go rather than buffered for: it reconnects and catches up
    if ((stream.controller.desiredSize ?? 0) < bytes.byteLength) {
      end(stream, new Error("agent-incidents console: an event stream's reader fell behind; ended it (the page reconnects)"));
      return;
    }
    try {
      stream.controller.enqueue(bytes);
    } catch {
      end(stream); // the client is gone
    }
  }

  function end(stream: Stream, error?: Error): void {
    if (stream.ended) return;
    stream.ended = true;
    const streams = byWorkspace.get(stream.workspaceId);
    streams?.delete(stream);
    if (streams?.size === 0) byWorkspace.delete(stream.workspaceId);
    release(stream.actorKey);
    open -= 1;
    safely(() => (error ? stream.controller.error(error) : stream.controller.close()));
    if (open === 0) stop();
  }

  function endAll(): void {
    for (const streams of [...byWorkspace.values()]) for (const stream of [...streams]) end(stream);
    stop();
  }

  function release(key: string): void {
    const left = (perActor.get(key) ?? 1) - 1;
    if (left > 0) perActor.set(key, left);
    else perActor.delete(key);
  }

  return {
    async open(actor, signal) {
      if (closed) return { refused: { status: 503, code: "CLOSED", message: "The console is shutting down" } };
      const actorKey = `${actor.workspaceId}\u0000${actor.id}`;
      const held = perActor.get(actorKey) ?? 0;
      if (held >= STREAMS_PER_ACTOR) {
        return {
          refused: {
            status: 429,
            code: "TOO_MANY_STREAMS",
            message: `You already have ${STREAMS_PER_ACTOR} live views of the console open, the most a browser keeps to one server: close one, then reload this page`,
          },
        };
      }
      perActor.set(actorKey, held + 1); // held while waiting for the feed, so a burst cannot pass the cap
      try {
        await ready();
      } catch (error) {
        release(actorKey);
        throw error;
      }
      if (closed || signal?.aborted) {
        release(actorKey);
        return closed ? { refused: { status: 503, code: "CLOSED", message: "The console is shutting down" } } : { stream: new ReadableStream({ start: (c) => c.close() }) };
      }
      let stream!: Stream;
      const body = new ReadableStream<Uint8Array>(
        {
          start(controller) {
            stream = { workspaceId: actor.workspaceId, actorKey, openedAt: Date.now(), controller, ended: false };
          },
          cancel: () => end(stream),
        },
        new ByteLengthQueuingStrategy({ highWaterMark: STREAM_BUFFER_BYTES }),
      );
      let streams = byWorkspace.get(actor.workspaceId);
      if (!streams) byWorkspace.set(actor.workspaceId, (streams = new Set()));
      streams.add(stream);
      open += 1;
      if (open === 1) start();
      send(stream, encoder.encode("retry: 2000\n: connected\n\n"));
      signal?.addEventListener("abort", () => end(stream), { once: true });
      return { stream: body };
    },
    close() {
      closed = true;
      endAll();
    },
  };
}

function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // an onError that throws, or a stream already closed: nothing more to do
  }
}
