/**
 * npx tsx examples/console/express.ts
 *
 * The console mounted in an Express app under /incidents, next to the app's own routes.
 */
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import express from "express";
import { createConsoleHandler } from "agent-incidents/console";
import { authenticate, exampleIncidents } from "./shared.js";

const incidents = await exampleIncidents();
const app = express();
app.get("/", (_req, res) => void res.send('<a href="/incidents">Incidents</a>'));
// the handler reads the full URL, so it is mounted with its basePath rather than stripped by app.use
const console_ = getRequestListener(createConsoleHandler(incidents, { authenticate, basePath: "/incidents" }));
app.use((req, res, next) => (req.path === "/incidents" || req.path.startsWith("/incidents/") ? void console_(req, res) : next()));
const server = app.listen(Number(process.env["PORT"] ?? 3000), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`console: http://127.0.0.1:${port}/incidents`);
});
