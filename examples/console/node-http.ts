/**
 * npx tsx examples/console/node-http.ts
 *
 * The console in Node's own http server, through @hono/node-server's getRequestListener.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { createConsoleHandler } from "agent-incidents/console";
import { authenticate, exampleIncidents } from "./shared.js";

const incidents = await exampleIncidents();
const handler = createConsoleHandler(incidents, { authenticate, basePath: "/incidents" });
const server = createServer(getRequestListener(handler));
server.listen(Number(process.env["PORT"] ?? 3000), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`console: http://127.0.0.1:${port}/incidents`);
});
