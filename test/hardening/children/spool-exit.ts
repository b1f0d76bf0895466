// A host whose store never answers: its report is spooled, and the script ends without close().
// The process must still exit on its own: the spool's retry timers do not keep it alive.
import { createIncidents, defineStore, memoryStore, StorageError } from "../../../src/index.js";

const down = defineStore({ ...memoryStore(), name: "down", ingest: () => Promise.reject(new StorageError("down", "connection refused", { retryable: true })) });
const incidents = createIncidents({ store: down });
const result = await incidents.reporter({ workspaceId: "ws", agentId: "agt", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "p" });
process.stdout.write(`${result.outcome}\n`);
