import { timingSafeEqual, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Actor, Incidents } from "agent-incidents";
import { createConsoleHandler } from "agent-incidents/console";
import type { CliIo } from "./index.js";
import { UsageError } from "./text.js";


/**
 * The console for one database, on 127.0.0.1 by default, behind a random token: the URL printed
 * carries it once, the page then keeps it in an HttpOnly, SameSite=Strict cookie. Resolves with
 * exit code 0 when SIGINT or SIGTERM closes it.
 */
export async function serve(incidents: Incidents, actor: Readonly<Actor>, options: { port?: string | undefined; host?: string | undefined }, io: CliIo): Promise<number> {
  const port = options.port === undefined ? 0 : /^\d{1,5}$/.test(options.port) ? Number(options.port) : -1;
  if (port < 0 || port > 65535) throw new UsageError("--port must be a port number (0 to 65535)");
  const host = options.host ?? "127.0.0.1";
  const token = randomBytes(24).toString("base64url");
  const expected = Buffer.from(token);
  const valid = (candidate: string | null | undefined) => {
    if (!candidate) return false;
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  // cookies are not kept apart by port: each server's cookie has its own name, set once listening
  let cookieName = "agent_incidents_token";
  const workspace = actor.workspaceId.length > 80 ? `${actor.workspaceId.slice(0, 79)}…` : actor.workspaceId;
  const handler = createConsoleHandler(incidents, {
    title: `Incidents · ${workspace}`,
    authenticate: (request) => {
      const cookie = new RegExp(`(?:^|;\\s*)${cookieName}=([^;]+)`).exec(request.headers.get("cookie") ?? "");
      return valid(cookie?.[1]) ? actor : null;
    },
  });
  const listener = getRequestListener(async (request) => {
    const url = new URL(request.url);
    // the token from the printed URL: set the cookie, and drop the token from the address bar
    if (url.searchParams.has("token")) {
      if (!valid(url.searchParams.get("token"))) return new Response("Wrong token.", { status: 401 });
      url.searchParams.delete("token");
      // always a path on this server: "//elsewhere" must not become a redirect off it
      const path = `/${url.pathname.replace(/^\/+/, "")}`;
      return new Response(null, {
        status: 303,
        headers: { location: `${path}${url.search}`, "set-cookie": `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/` },
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
  cookieName = `agent_incidents_token_${address.port}`;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  if (host !== "127.0.0.1" && host !== "::1" && host !== "localhost") {
    io.stderr.write(`agent-incidents: listening on ${host}: the token travels over plain HTTP; put TLS in front of it\n`);
  }
  io.stdout.write(`Console for workspace ${actor.workspaceId}, as ${actor.id} (${actor.role}):\n  http://${shown}:${address.port}/?token=${token}\nCtrl-C stops it.\n`);
  return new Promise<number>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      handler.close();
      server.closeAllConnections();
      server.close(() => {
        incidents.close().then(
          () => resolve(0),
          (error: unknown) => {
            io.stderr.write(`agent-incidents: closing the store failed: ${error instanceof Error ? error.message : String(error)}\n`);
            resolve(1);
          },
        );
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
