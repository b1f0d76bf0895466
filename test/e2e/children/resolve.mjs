// An operator process: waits for the barrier, then resolves one incident with its own note.
import { createIncidents } from "agent-incidents";
import { openStore } from "./store.mjs";

const [spec, id, note, barrier] = process.argv.slice(2);
const incidents = createIncidents({ store: await openStore(spec) });
const ops = incidents.as({ id: `usr_${note}`, role: "operator", workspaceId: "ws_mp" });
await new Promise((r) => setTimeout(r, Math.max(0, Number(barrier) - Date.now())));
try {
  const incident = await ops.resolve(id, { note, rootCause: "connector_failure" });
  process.stdout.write(JSON.stringify({ ok: true, version: incident.version }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, code: error.code, name: error.name }));
}
await incidents.close();
