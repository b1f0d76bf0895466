import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createIncidents, memoryStore, type IncidentStore, type IncidentsOptions, type Notification } from "agent-incidents";
import { callbackNotifier } from "agent-incidents/notifiers";
import { postgresStore } from "agent-incidents/postgres";
import { sqliteStore } from "agent-incidents/sqlite";
import { fakeClock, type FakeClock } from "agent-incidents/testing";
import { PG_URL, reportSkipped, schemas } from "../stores/pg-env.js";

/** A store that can be opened again (a restart): memory gives the same object back. */
export interface NoiseTarget {
  name: string;
  durable: boolean;
  /** A fresh place for incidents; `reopen()` opens the same place again. */
  fresh(): { open(): IncidentStore };
}

export function noiseTargets(area: string): NoiseTarget[] {
  const dir = mkdtempSync(join(tmpdir(), "agent-incidents-noise-"));
  let files = 0;
  const targets: NoiseTarget[] = [
    {
      name: "memory",
      durable: false,
      fresh() {
        const store = memoryStore();
        return { open: () => store };
      },
    },
    {
      name: "sqlite",
      durable: true,
      fresh() {
        const filename = join(dir, `n-${++files}.db`);
        return { open: () => sqliteStore({ filename }) };
      },
    },
  ];
  if (PG_URL) {
    const schema = schemas(`n_${area}`);
    targets.push({
      name: "postgres",
      durable: true,
      fresh() {
        const name = schema();
        return { open: () => postgresStore({ connectionString: PG_URL!, schema: name, max: 4 }) };
      },
    });
  } else {
    reportSkipped(`noise control (${area}) on postgres`);
  }
  return targets;
}

export const WS = "ws_noise";
export const operator = { id: "usr_op", role: "operator" as const, workspaceId: WS };

/** An incident system on `store` with a fake clock and a receiver that keeps what it is sent. */
export function harness(store: IncidentStore, options: Omit<IncidentsOptions, "store" | "clock" | "routes"> & { clock?: FakeClock } = {}) {
  const clock = options.clock ?? fakeClock("2026-03-01T09:00:00.000Z");
  const received: Notification[] = [];
  const incidents = createIncidents({
    ...options,
    store,
    clock,
    routes: [{ notifier: callbackNotifier((batch) => void received.push(...batch), { name: "pager" }) }],
    delivery: { pollMs: 20, closeTimeoutMs: 2000 },
  });
  const ops = incidents.as(operator);
  /** What the receiver got, as `type #number` lines. */
  const seen = () => received.map((n) => ("incident" in n.data ? `${n.type} #${n.data.incident.number}` : n.type));
  /** Advances the clock, fires the timers due, waits for the notifications. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await incidents.runDue();
    await incidents.settle();
  };
  return { incidents, ops, clock, received, seen, advance };
}

/** A connector failure of `agent`: the shape an LLM provider outage takes. */
export function providerDown(incidents: ReturnType<typeof createIncidents>, agent: string, n: number, code = "rate_limited") {
  return incidents.reporter({ workspaceId: WS, agentId: agent, environment: "production" }).executionFailed({
    runId: `run_${agent}_${n}`,
    eventId: `evt_${n}`,
    action: { type: "llm.complete" },
    connector: { id: "con_openai", provider: "openai" },
    error: { name: "ProviderError", message: "429 Too Many Requests", code },
  });
}

export const OUTAGE_GROUP = { name: "provider-outage", by: ["connector.id", "error.code"] as ["connector.id", "error.code"], windowMs: 60_000 };
