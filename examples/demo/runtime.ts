import type { Incidents, ReportResult, Reporter, RunEvent, RunSource, RunTimeline } from "agent-incidents";

/** How long the scripted day takes on the story clock: `runScenario`'s steps and the triage after. */
export const STORY_MS = 66 * 60_000;

/**
 * A clock that moves only when the story says so, and ends at the wall clock, never after it: the
 * console and the CLI opened on the demo's file afterwards see every time in the past, and an
 * acknowledge made there comes after the story's.
 */
export function storyClock() {
  const end = Date.now();
  let start = end - STORY_MS;
  let scale = 1;
  let offset = 0;
  return {
    now: () => new Date(Math.min(start + Math.round(offset * scale), Date.now())),
    advance: (ms: number) => void (offset += ms),
    /**
     * Starts the story after `iso` (the latest time of a previous run's story), so this run's
     * story follows it. With less than `STORY_MS` between the two, the story is squeezed into
     * what is left; returns the share of its real length it keeps (1 when it fits).
     */
    startAfter(iso: string): number {
      const after = Date.parse(iso) + 1000;
      if (after > start) {
        start = Math.min(after, end);
        scale = (end - start) / STORY_MS;
      }
      return scale;
    },
  };
}

type Clock = ReturnType<typeof storyClock>;

/**
 * A toy agent runtime: runs with event timelines, a policy check before each action, connectors
 * that can fail and approvers who can say no. It reports what goes wrong through the hooks, as a
 * real runtime would.
 */
export class DemoRuntime implements RunSource {
  readonly #runs = new Map<string, RunTimeline & { workspaceId: string }>();
  readonly #clock: Clock;
  readonly #session = Date.now().toString(36);
  #seq = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async loadRun(runId: string, scope: { workspaceId: string }): Promise<RunTimeline | null> {
    const run = this.#runs.get(runId);
    return run && run.workspaceId === scope.workspaceId ? run : null;
  }

  /** Starts a run of an agent; returns a handle that records events and reports through `report`. */
  start(report: Reporter, goal: string) {
    const runId = `run_${this.#session}_${++this.#seq}`;
    const run = { runId, agentId: report.scope.agentId, workspaceId: report.scope.workspaceId, status: "running" as const, startedAt: this.#now(), events: [] as RunEvent[] };
    this.#runs.set(runId, run);
    const event = (type: string, data?: Record<string, unknown>): RunEvent => {
      this.#clock.advance(1500);
      const e: RunEvent = { id: `evt_${run.events.length + 1}`, type, at: this.#now(), ...(data ? { data } : {}) };
      run.events.push(e);
      return e;
    };
    const context = (data?: Record<string, unknown>) => ({ events: [...run.events], ...(data ? { data } : {}) });
    event("run.started", { goal });
    return { runId, event, context, end: (status: RunTimeline["status"]) => Object.assign(run, { status, endedAt: this.#now() }) };
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
}

const REFUND_LIMIT = { id: "pol_refund_limit", name: "Refunds over $500 need a human", effect: "block" as const };
const EXTERNAL_EMAIL = { id: "pol_external_email", name: "No email to unverified domains", effect: "block" as const };
const STRIPE = { id: "con_stripe", provider: "stripe" };

/** Log line for each report. */
export type Logger = (agentId: string, runId: string, what: string, result: ReportResult | null) => void;

/**
 * The scripted day: a refunds agent and a support agent over a handful of runs, reporting each
 * problem through the hooks.
 */
export async function runScenario(incidents: Incidents, runtime: DemoRuntime, clock: Clock, log: Logger): Promise<void> {
  const refunds = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_refunds", environment: "production" });
  const support = incidents.reporter({ workspaceId: "ws_acme", agentId: "agt_support", environment: "development" });

  // 1. an approved $120 refund: Stripe fails to execute it
  {
    const run = runtime.start(refunds, "refund order #1043");
    const action = { type: "refund.create", payload: { amount: 120, currency: "usd", customer: "cus_2203" } };
    run.event("action.approved", { action: action.type });
    const e = run.event("connector.failed", { connector: "stripe", status: 503 });
    const r = await refunds.executionFailed({ runId: run.runId, eventId: e.id, action, connector: STRIPE, error: { name: "StripeAPIError", message: "Stripe API unavailable (503)", code: "api_unavailable", retryable: true }, context: run.context() });
    log("agt_refunds", run.runId, "stripe failed refund.create", r);
    run.end("errored");
  }
  clock.advance(4 * 60_000);

  // 2. a $900 refund: the policy blocks it, high impact
  {
    const run = runtime.start(refunds, "refund order #1042");
    run.event("tool.call", { tool: "orders.lookup", order: "1042" });
    const action = { type: "refund.create", payload: { amount: 900, currency: "usd", customer: "cus_8812", card: "4242 4242 4242 4242" } };
    const e = run.event("action.requested", { action: action.type });
    const r = await refunds.policyBlocked({ runId: run.runId, eventId: e.id, action, policy: { ...REFUND_LIMIT, reason: "amount 900 > 500" }, impact: "high", context: run.context({ customerTier: "gold", apiKey: "sk_live_51Hx" }) });
    log("agt_refunds", run.runId, "policy blocked refund.create ($900)", r);
    // the hook is retried by the runtime's queue: same run and event, counted once
    log("agt_refunds", run.runId, "  retried hook", await refunds.policyBlocked({ runId: run.runId, eventId: e.id, action, policy: REFUND_LIMIT, impact: "high" }));
    run.end("escalated");
  }
  clock.advance(6 * 60_000);

  // 3. a $450 refund: the approver rejects it
  {
    const run = runtime.start(refunds, "refund order #1044");
    const action = { type: "refund.create", payload: { amount: 450, currency: "usd", customer: "cus_7781" } };
    run.event("approval.requested", { approver: "usr_lee" });
    const e = run.event("approval.rejected", { approver: "usr_lee" });
    const r = await refunds.approvalRejected({ runId: run.runId, eventId: e.id, action, approval: { id: `apr_${run.runId}`, decidedBy: "usr_lee", reason: "order already refunded once" }, context: run.context() });
    log("agt_refunds", run.runId, "approver rejected refund.create", r);
    run.end("completed");
  }
  clock.advance(3 * 60_000);

  // 4-6. the support agent keeps trying to email an unverified domain: the third time is "repeated"
  for (const domain of ["gmial.com", "yaho.com", "outlok.com"]) {
    const run = runtime.start(support, `answer ticket from a customer at ${domain}`);
    const action = { type: "email.send", payload: { to: `jane@${domain}`, subject: "Your refund" } };
    const e = run.event("action.requested", { action: action.type });
    const r = await support.policyBlocked({ runId: run.runId, eventId: e.id, action, policy: EXTERNAL_EMAIL, impact: "medium", context: run.context() });
    log("agt_support", run.runId, `policy blocked email.send to ${domain}`, r);
    run.end("completed");
    clock.advance(5 * 60_000);
  }

  // 7. the support agent crashes in development
  {
    const run = runtime.start(support, "summarize ticket #88");
    run.event("llm.call", { model: "gpt-4o-mini", max_tokens: 512 });
    const error = new TypeError("Cannot read properties of undefined (reading 'email')");
    run.event("run.errored", { error: error.message });
    log("agt_support", run.runId, "run ended in error", await support.runEnded({ runId: run.runId, status: "errored", error, context: run.context() }));
    run.end("errored");
  }
  clock.advance(2 * 60_000);

  // 8. a clean run: no incident
  {
    const run = runtime.start(refunds, "refund order #1045");
    run.event("action.executed", { action: "refund.create", amount: 40 });
    log("agt_refunds", run.runId, "run completed", await refunds.runEnded({ runId: run.runId, status: "completed" }));
    run.end("completed");
  }
}
