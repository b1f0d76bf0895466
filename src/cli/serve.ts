/**
 * `agent-incidents serve`: the console for one database, on 127.0.0.1 by default, at a secret URL.
 *
 * The token is the first segment of every path (`http://127.0.0.1:PORT/TOKEN/`), and the console
 * is mounted under it, so the page and its API calls carry it by themselves. There is no cookie:
 * a browser sends a cookie to every port of a host, so a cookie set for this server would reach
 * any other local server the browser visits, and that server could then sign in here. A path is
 * sent only to this server's own origin (and the console's `Referrer-Policy: same-origin` keeps
 * it out of the Referer of links to anywhere else).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Actor, Incidents } from "agent-incidents";
import { createConsoleHandler } from "agent-incidents/console";
import type { CliIo } from "./index.js";
import { emit, EXIT, OutputError, ReaderGone } from "./output.js";
import { CliError, UsageError } from "./text.js";

const NOT_HERE = "Nothing here: open the URL that agent-incidents serve printed.";

/** Serves until SIGINT or SIGTERM, then resolves with exit code 0 (1 if closing the store failed). */
export async function serve(incidents: Incidents, actor: Readonly<Actor>, options: { port?: string | undefined; host?: string | undefined }, io: CliIo): Promise<number> {
  const port = options.port === undefined ? 0 : /^\d{1,5}$/.test(options.port) ? Number(options.port) : -1;
  if (port < 0 || port > 65535) throw new UsageError("--port must be a port number (0 to 65535)");
  const host = options.host ?? "127.0.0.1";
  const token = randomBytes(24).toString("base64url");
  const expected = Buffer.from(`/${token}`);
  /** Whether `path` is under this server's token, compared in constant time. */
  const mine = (path: string) => {
    const given = Buffer.from(path.slice(0, expected.length));
    return given.length === expected.length && timingSafeEqual(given, expected) && (path.length === expected.length || path[expected.length] === "/");
  };
  const workspace = actor.workspaceId.length > 80 ? `${actor.workspaceId.slice(0, 79)}…` : actor.workspaceId;
  const handler = createConsoleHandler(incidents, {
    title: `Incidents · ${workspace}`,
    basePath: `/${token}`,
    authenticate: (request) => (mine(new URL(request.url).pathname) ? actor : null),
  });
  const listener = getRequestListener(async (request) => {
    // checked here, in constant time, before the handler compares paths its own way
    if (!mine(new URL(request.url).pathname)) {
      return new Response(NOT_HERE, { status: 404, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
    }
    return handler(request);
  });
  const server = createServer(listener);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
  } catch (error) {
    handler.close();
    await incidents.close().catch(() => undefined);
    throw new CliError(listenProblem(error as NodeJS.ErrnoException, host, port));
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;

  let stopped: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (code: number) => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    handler.close();
    server.closeAllConnections();
    server.close(() => {
      incidents.close().then(
        () => stopped(code),
        (error: unknown) => {
          io.stderr.write(`agent-incidents: closing the store failed: ${error instanceof Error ? error.message : String(error)}\n`);
          stopped(EXIT.error);
        },
      );
    });
  };
  const onSignal = () => stop(EXIT.ok);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    if (host !== "127.0.0.1" && host !== "::1" && host !== "localhost") {
      io.stderr.write(`agent-incidents: listening on ${host}: the URL's token travels over plain HTTP; put TLS in front of it\n`);
    }
    emit(io.stdout, `Console for workspace ${actor.workspaceId}, as ${actor.id} (${actor.role}):\n  http://${shown}:${address.port}/${token}/\nCtrl-C stops it.\n`);
  } catch (error) {
    // nobody can see the URL: a server no one can open is of no use
    if (!(error instanceof OutputError || error instanceof ReaderGone)) throw error;
    io.stderr.write(`agent-incidents: ${error instanceof OutputError ? error.message : "cannot write the output"}: stopped the console, whose URL no one could see\n`);
    stop(EXIT.error);
  }
  return done;
}

function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case "EADDRINUSE":
      return `port ${port} on ${host} is in use: give another --port, or leave it out for a free one`;
    case "EACCES":
      return `may not listen on port ${port} on ${host}${port < 1024 ? " (ports below 1024 need privileges)" : ""}`;
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot listen on ${host}: not an address of this machine`;
    default:
      return `cannot listen on ${host}:${port}: ${error.message}`;
  }
}
