/**
 * npx tsx examples/console/hono.ts
 *
 * The console as a route of a Hono app: the same handler runs unchanged on Bun, Deno or
 * Cloudflare (here on Node, through @hono/node-server).
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createConsoleHandler } from "agent-incidents/console";
import { authenticate, exampleIncidents } from "./shared.js";

const incidents = await exampleIncidents();
const handler = createConsoleHandler(incidents, { authenticate, basePath: "/incidents" });
const app = new Hono();
app.get("/", (c) => c.html('<a href="/incidents">Incidents</a>'));
app.all("/incidents", (c) => handler(c.req.raw));
app.all("/incidents/*", (c) => handler(c.req.raw));
serve({ fetch: app.fetch, port: Number(process.env["PORT"] ?? 3000), hostname: "127.0.0.1" }, ({ port }) => console.log(`console: http://127.0.0.1:${port}/incidents`));
