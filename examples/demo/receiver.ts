import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook, type Notification } from "agent-incidents/notifiers";

/**
 * A webhook receiver such as an on-call tool would run: checks each request's signature,
 * dedupes on the delivery id (delivery is at-least-once) and keeps what it got.
 */
export async function startReceiver() {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const seen = new Set<string>();
  const received: Array<{ notification: Notification; duplicate: boolean }> = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    try {
      const notification = verifyWebhook(secret, body, req.headers as Record<string, string>);
      received.push({ notification, duplicate: seen.has(notification.id) });
      seen.add(notification.id);
      res.writeHead(204).end();
    } catch {
      res.writeHead(401).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/on-call`,
    secret,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
