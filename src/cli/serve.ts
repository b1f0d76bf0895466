import { timingSafeEqual, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Actor, Incidents } from "agent-incidents";
import { createConsoleHandler } from "agent-incidents/console";
import type { CliIo } from "./index.js";
import { UsageError } from "./index.js";

const COOKIE = "agent_incidents_token";

/**
 * The console for one database, on 127.0.0.1 by default, behind a random token: the URL printed
 * carries it once, the page then keeps it in an HttpOnly, SameSite=Strict cookie. Resolves with
 * exit code 0 when SIGINT or SIGTERM closes it.
 */
export async function serve(incidents: Incidents, actor: Readonly<Actor>, options: { port?: string | undefined; host?: string | undefined }, io: CliIo): Promise<number> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("--port must be a port number (0 to 65535)");
  const host = options.host ?? "127.0.0.1";
  const token = randomBytes(24).toString("base64url");
  const expected = Buffer.from(token);
  const valid = (candidate: string | null | undefined) => {
    if (!candidate) return false;
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const handler = createConsoleHandler(incidents, {
    title: `Incidents · ${actor.workspaceId}`,
    authenticate: (request) => {
      const cookie = /(?:^|;\s*)agent_incidents_token=([^;]+)/.exec(request.headers.get("cookie") ?? "");
      return valid(cookie?.[1]) ? actor : null;
    },
  });
  const listener = getRequestListener(async (request) => {
    const url = new URL(request.url);
    // the token from the printed URL: set the cookie, and drop the token from the address bar
    if (url.searchParams.has("token")) {
      if (!valid(url.searchParams.get("token"))) return new Response("Wrong token.", { status: 401 });
      url.searchParams.delete("token");
      return new Response(null, {
        status: 303,
        headers: { location: `${url.pathname}${url.search}`, "set-cookie": `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` },
      });
    }
    return handler(request);
  });
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  io.stdout.write(`Console for workspace ${actor.workspaceId}, as ${actor.id} (${actor.role}):\n  http://${shown}:${address.port}/?token=${token}\nCtrl-C stops it.\n`);
  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      server.closeAllConnections();
      server.close(() => void incidents.close().finally(() => resolve(0)));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
