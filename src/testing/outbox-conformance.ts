import type { Incidents } from "../incidents.js";
import type { Change, IncidentStore, OutboxEntry } from "../stores/contract.js";
import type * as Vitest from "vitest";
import { written } from "./written.js";

/**
 * The part of the store conformance suite for a store's change feed and outbox (skipped, visibly,
 * for a store without one): the contract delivery relies on to lose nothing and send nothing twice.
 */
export function describeOutboxConformance(api: typeof Vitest, setup: () => { store: IncidentStore; incidents: Incidents }): void {
  const { describe, expect, it } = api;
  const ws = "ws_a";

  const entry = (change: Change, notifier: string, n: number, dueAt = new Date(Date.now() - 1000).toISOString()): OutboxEntry => ({
    id: `dlv_${notifier}_${change.seq}_${n}`,
    notifier,
    workspaceId: change.workspaceId,
    incidentId: change.incidentId,
    notification: { id: `dlv_${notifier}_${change.seq}_${n}`, type: `incident.${change.event}`, timestamp: change.at, data: { incident: change.incident } },
    dueAt,
    digest: false,
  });
  const now = (ms = 0) => new Date(Date.now() + ms).toISOString();

  /** Two incidents: A created and acknowledged, B created. */
  const changes = async ({ store, incidents }: { store: IncidentStore; incidents: Incidents }) => {
    const report = incidents.reporter({ workspaceId: ws, agentId: "agt_feed", environment: "production" });
    const a = written(await report.anomaly({ runId: "run_a", eventId: "evt_a", pattern: "pattern a" })).incident;
    await incidents.as({ id: "usr_ana", role: "operator", workspaceId: ws }).acknowledge(a.id);
    const b = written(await report.anomaly({ runId: "run_b", eventId: "evt_b", pattern: "pattern b" })).incident;
    // a duplicate changes nothing and is not in the feed
    await report.anomaly({ runId: "run_b", eventId: "evt_b", pattern: "pattern b" });
    return { a, b, feed: store.feed! };
  };

  describe("change feed and outbox", () => {
    it("appends every committed change in order, readable after a position and by workspace", async (ctx) => {
      const target = setup();
      if (!target.store.outbox || !target.store.feed) return ctx.skip();
      const before = await target.store.feed.head();
      const { a, b, feed } = await changes(target);
      const read = await feed.read({ after: before, limit: 10 });
      expect(read.map((c) => [c.event, c.incidentId])).toEqual([["created", a.id], ["acknowledged", a.id], ["created", b.id]]);
      expect(read[1]!.previous?.status).toBe("open");
      expect(read[1]!.incident.status).toBe("acknowledged");
      expect(read[0]!.incident.number).toBe(a.number);
      expect(await feed.head()).toBe(read[2]!.seq);
      expect(await feed.read({ after: read[0]!.seq, limit: 1 })).toEqual([read[1]]);
      expect(await feed.read({ after: before, limit: 10, workspaceId: "ws_other" })).toEqual([]);
    });

    it("plans each change once, in order, writes what the planner returns, and nothing when it throws", async (ctx) => {
      const target = setup();
      const outbox = target.store.outbox;
      if (!outbox) return ctx.skip();
      const { a } = await changes(target);
      await expect(outbox.plan(10, () => { throw new Error("planner broke"); })).rejects.toThrow();
      expect(await outbox.deliveries({ limit: 10 })).toEqual([]);
      const seen: string[] = [];
      const notifiedBefore: boolean[] = [];
      const planned = await outbox.plan(10, (batch, notified) => {
        seen.push(...batch.map((c) => c.event));
        notifiedBefore.push(notified("pager", a.id));
        return batch.map((c, i) => entry(c, "pager", i));
      });
      expect(planned).toBe(3);
      expect(seen).toEqual(["created", "acknowledged", "created"]);
      expect(notifiedBefore).toEqual([false]);
      expect(await outbox.plan(10, () => [])).toBe(0);
      // remembered: the planner of a later change knows the notifier heard of the incident
      await target.incidents.as({ id: "usr_ana", role: "operator", workspaceId: ws }).resolve(a.id, { note: "done", rootCause: "other" });
      let heard = false;
      await outbox.plan(10, (_batch, notified) => ((heard = notified("pager", a.id) && !notified("slack", a.id)), []));
      expect(heard).toBe(true);
      expect((await outbox.deliveries({ limit: 10, notifier: "pager" })).map((d) => d.status)).toEqual(["pending", "pending", "pending"]);
    });

    it("claims a notifier's due entries in order, holds an incident's later entries behind one held back, and never twice", async (ctx) => {
      const target = setup();
      const outbox = target.store.outbox;
      if (!outbox) return ctx.skip();
      const { a, b } = await changes(target);
      await outbox.plan(10, (batch) => [...batch.map((c, i) => entry(c, "pager", i)), entry(batch[0]!, "slack", 9)]);
      // two workers at once: each entry goes to one of them
      const [one, two] = await Promise.all([
        outbox.claim({ worker: "w1", notifier: "pager", now: now(), leaseUntil: now(60_000), limit: 10 }),
        outbox.claim({ worker: "w2", notifier: "pager", now: now(), leaseUntil: now(60_000), limit: 10 }),
      ]);
      const claimed = [...one, ...two];
      expect(new Set(claimed.map((c) => c.id)).size).toBe(claimed.length);
      expect(claimed.every((c) => c.notifier === "pager")).toBe(true);
      // whoever got A's acknowledgement also got its creation, ahead of it
      const holder = one.some((c) => c.incidentId === a.id) ? one : two;
      expect(holder.filter((c) => c.incidentId === a.id).map((c) => c.notification.type)).toEqual(["incident.created", "incident.acknowledged"]);
      // A's creation fails and waits for a retry: its acknowledgement waits behind it, B is free
      const created = holder.find((c) => c.incidentId === a.id)!;
      await outbox.settle(created.id, holder === one ? "w1" : "w2", { status: "pending", attempts: 1, at: now(), dueAt: now(60_000), error: "503" });
      await outbox.release("w1");
      await outbox.release("w2");
      const next = await outbox.claim({ worker: "w3", notifier: "pager", now: now(), leaseUntil: now(60_000), limit: 10 });
      expect(next.map((c) => c.incidentId)).toEqual([b.id]);
      expect((await outbox.deliveries({ ids: [created.id], limit: 1 }))[0]).toMatchObject({ status: "pending", attempts: 1, lastError: "503" });
    });

    it("settles, lists dead letters, sends them again (also to another notifier), prunes, and reports notifiers nobody has", async (ctx) => {
      const target = setup();
      const outbox = target.store.outbox;
      if (!outbox) return ctx.skip();
      await changes(target);
      await outbox.plan(10, (batch) => batch.map((c, i) => entry(c, "old", i)));
      const claimed = await outbox.claim({ worker: "w", notifier: "old", now: now(), leaseUntil: now(60_000), limit: 1 });
      await outbox.settle(claimed[0]!.id, "w", { status: "dead", attempts: 3, at: now(), error: "400" });
      // a settle by a worker that does not hold the entry changes nothing
      await outbox.settle(claimed[0]!.id, "someone else", { status: "delivered", attempts: 9, at: now() });
      expect(await outbox.deliveries({ status: "dead", limit: 10 })).toMatchObject([{ id: claimed[0]!.id, attempts: 3, lastError: "400" }]);
      await outbox.heartbeat(["new"], now());
      expect(await outbox.stranded(now(1000))).toEqual(["old"]);
      expect(await outbox.stranded(now(-60_000))).toEqual([]);
      // one being tried is left to its try; a notifier with a fresh heartbeat is not buried
      const trying = await outbox.claim({ worker: "w2", notifier: "old", now: now(), leaseUntil: now(60_000), limit: 1 });
      expect(await outbox.bury("new", "has a heartbeat", now(), now(-60_000))).toEqual([]);
      const buried = await outbox.bury("old", "nobody has it", now(), now(-1000));
      expect(buried).toHaveLength(1);
      await outbox.settle(trying[0]!.id, "w2", { status: "dead", attempts: 1, at: now(), error: "gone" });
      const incidentOfMoved = (await outbox.deliveries({ status: "dead", limit: 10 }))[0]!.incidentId;
      expect(await outbox.retry({ status: "dead", notifier: "old" }, { now: now(), to: "new" })).toBe(3);
      // the new name counts as having heard of the incidents it took over: it gets their follow-ups
      let heard = false;
      await target.incidents.as({ id: "usr_ana", role: "operator", workspaceId: ws }).addNote(incidentOfMoved, "still on it");
      await outbox.plan(10, (_batch, notified) => ((heard = notified("new", incidentOfMoved)), []));
      expect(heard).toBe(true);
      const again = await outbox.claim({ worker: "w", notifier: "new", now: now(), leaseUntil: now(60_000), limit: 10 });
      expect(again.map((c) => c.attempts)).toEqual([0, 0, 0]);
      for (const c of again) await outbox.settle(c.id, "w", { status: "delivered", attempts: 1, at: now() });
      expect(await outbox.retry({ notifier: "new" }, { now: now() })).toBe(0);
      expect(await outbox.prune({ settledBefore: now(-60_000), changesBefore: now(-60_000) })).toBe(0);
      expect(await outbox.prune({ settledBefore: now(60_000), changesBefore: now(60_000) })).toBe(3);
      expect(await outbox.deliveries({ limit: 10 })).toEqual([]);
    });
  });
}
