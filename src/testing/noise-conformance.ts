import type { Activity, ActivityActor, Incident } from "../core/incident.js";
import type { Silence, Timer } from "../core/noise.js";
import { isIncidentError } from "../core/errors.js";
import { cursorKeyOf, type ListQuery } from "../core/query.js";
import type { Incidents } from "../incidents.js";
import type { IncidentStore } from "../stores/contract.js";
import type * as Vitest from "vitest";
import { written } from "./written.js";

const NO_TIMERS = "the store has no timers: the engine keeps them in memory";
const NO_SILENCES = "the store has no silences: the engine keeps them in memory";

/**
 * The part of the store conformance suite for noise control: incidents' group and noise fields,
 * list filters by group, changes without an activity entry, durable timers and silences (the last
 * two skipped, visibly, for a store without them). Called by `describeStoreConformance`.
 */
export function describeNoiseConformance(api: typeof Vitest, setup: () => { store: IncidentStore; incidents: Incidents }): void {
  const { describe, expect, it } = api;
  const ws = "ws_a";
  const T = (minute: number, second = 0) => new Date(Date.UTC(2026, 2, 1, 12, minute, second)).toISOString();
  const system: ActivityActor = { type: "system", id: "noise", role: null };
  const ana: ActivityActor = { type: "user", id: "usr_ana", role: "operator" };
  let activities = 0;

  /** Reports `n` incidents of distinct fingerprints, of one workspace. */
  const seed = async (incidents: Incidents, n: number, workspaceId = ws): Promise<Incident[]> => {
    const report = incidents.reporter({ workspaceId, agentId: "agt_noise", environment: "production" });
    const out: Incident[] = [];
    for (let i = 0; i < n; i++) out.push(written(await report.anomaly({ runId: `run_${i}`, eventId: `evt_${i}`, pattern: `pattern ${i}` })).incident);
    return out;
  };

  /** Sets fields as the engine would, with an activity entry unless `audited` is false. */
  const change = (store: IncidentStore, id: string, fields: Partial<Incident>, audited = true, workspaceId = ws) =>
    store.mutate(workspaceId, id, (current) => {
      const version = audited ? current.version + 1 : current.version;
      const incident: Incident = { ...current, ...fields, version, updatedAt: fields.updatedAt ?? current.updatedAt };
      const activity: Activity | null = audited
        ? { id: `act_noise_${++activities}`, incidentId: id, type: "grouped", actor: system, at: incident.updatedAt, version, before: null, after: null, message: null }
        : null;
      return { incident, activity, event: "grouped" };
    });

  const query = (q: Partial<ListQuery> = {}): ListQuery => ({ sort: "severity", limit: 50, ...q });
  const ids = (items: Incident[]) => items.map((i) => i.id);

  describe("noise control: incidents", () => {
    it("writes a change without an activity entry: the incident and its feed change, no audit entry", async () => {
      const { store, incidents } = setup();
      const [incident] = await seed(incidents, 1);
      const head = store.feed ? await store.feed.head() : 0;
      const noise = { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [0, 1] };
      const after = await change(store, incident!.id, { noise, updatedAt: T(30) }, false);
      expect(after.noise).toEqual(noise);
      const read = await store.get(ws, incident!.id);
      expect(read).toEqual(after);
      expect((await store.activity(ws, incident!.id)).map((a) => a.type)).toEqual(["created"]);
      if (store.feed) {
        const changes = await store.feed.read({ after: head, limit: 10 });
        expect(changes.map((c) => [c.event, c.incidentId, c.at])).toEqual([["grouped", incident!.id, T(30)]]);
        expect(changes[0]!.incident.noise).toEqual(noise);
        expect(changes[0]!.previous?.noise.samples).toEqual([]);
      }
      // an audited change after it gets the next version, as ever
      const audited = await change(store, incident!.id, { groupKey: "k" });
      expect(audited.version).toBe(2);
      expect((await store.activity(ws, incident!.id)).map((a) => a.version)).toEqual([1, 2]);
    });

    it("round-trips the group and noise fields, and reads an incident without them as in no group, quiet for no reason", async () => {
      const { store, incidents } = setup();
      const [group, member] = await seed(incidents, 2);
      expect(member).toMatchObject({ groupId: null, groupKey: null, group: null, noise: { heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] } });
      const key = JSON.stringify(["by-connector", "stripe"]);
      // a group rule's key values are data: a __proto__ key stays a key
      const values: Record<string, string> = JSON.parse('{"trigger.connector.id":"stripe","__proto__":"x"}');
      const info = { rule: "by-connector", key: values, agents: ["agt_noise", "agt_\u{1F600}"] };
      await change(store, group!.id, { groupKey: key, group: info, noise: { heldUntil: T(5), snoozedUntil: T(9), snoozeReason: "deploy \u{1F680}", flapping: true, samples: [1, 0, 1] } });
      await change(store, member!.id, { groupId: group!.id, groupKey: key });
      const g = (await store.get(ws, group!.id))!;
      expect(g.group).toEqual(info);
      expect(Object.keys(g.group!.key).sort()).toEqual(["__proto__", "trigger.connector.id"]);
      expect(Object.getPrototypeOf(g.group!.key)).toBe(Object.prototype);
      expect(g.noise).toEqual({ heldUntil: T(5), snoozedUntil: T(9), snoozeReason: "deploy \u{1F680}", flapping: true, samples: [1, 0, 1] });
      expect(g.groupKey).toBe(key);
      const m = (await store.get(ws, member!.id))!;
      expect([m.groupId, m.groupKey]).toEqual([group!.id, key]);
      const scanned = await store.scan(ws, { createdSince: null });
      expect(scanned.find((i) => i.id === group!.id)).toEqual(g);
      expect(scanned.find((i) => i.id === member!.id)).toEqual(m);
    });

    it("lists members of groups only when asked: by default, with members, by group, by group key; counts and scans count them all", async () => {
      const { store, incidents } = setup();
      const [group, m1, m2, candidate, other] = await seed(incidents, 5);
      const key = JSON.stringify(["rule", "x"]);
      await change(store, group!.id, { groupKey: key });
      await change(store, m1!.id, { groupId: group!.id, groupKey: key });
      await change(store, m2!.id, { groupId: group!.id, groupKey: key, severity: "critical" });
      await change(store, candidate!.id, { groupKey: key });
      // another workspace's member of a group of the same id is not listed here
      const [outsider] = await seed(incidents, 1, "ws_b");
      await change(store, outsider!.id, { groupId: group!.id, groupKey: key }, true, "ws_b");

      const everything = await store.list(ws, query({ members: true }));
      expect(ids(everything).sort()).toEqual(ids([group!, m1!, m2!, candidate!, other!]).sort());
      const visible = (list: Incident[]) => ids(everything.filter((i) => list.some((l) => l.id === i.id)));
      expect(ids(await store.list(ws, query()))).toEqual(visible([group!, candidate!, other!]));
      expect(ids(await store.list(ws, query({ groupId: group!.id })))).toEqual(visible([m1!, m2!]));
      expect(ids(await store.list(ws, query({ groupId: group!.id, members: false })))).toEqual(visible([m1!, m2!]));
      expect(ids(await store.list(ws, query({ groupId: group!.id, severity: ["critical"] })))).toEqual([m2!.id]);
      expect(ids(await store.list(ws, query({ groupKey: key })))).toEqual(visible([group!, candidate!]));
      expect(ids(await store.list(ws, query({ groupKey: key, members: true })))).toEqual(visible([group!, m1!, m2!, candidate!]));
      expect(ids(await store.list(ws, query({ groupKey: JSON.stringify(["rule", "y"]), members: true })))).toEqual([]);
      expect(ids(await store.list(ws, query({ groupId: other!.id })))).toEqual([]);
      expect(ids(await store.list(ws, query({ sort: "recency", groupId: group!.id })))).toEqual([m2!.id, m1!.id]);
      expect(ids(await store.list("ws_b", query()))).toEqual([]);
      expect(ids(await store.list("ws_b", query({ groupId: group!.id })))).toEqual([outsider!.id]);

      const counts = await store.counts(ws, {});
      const total = Object.values(counts).reduce((sum, cell) => sum + Object.values(cell ?? {}).reduce((n: number, v) => n + (v ?? 0), 0), 0);
      expect(total).toBe(5);
      expect(await store.scan(ws, { createdSince: null })).toHaveLength(5);

      // a member that leaves its group is listed again, and pages of members do not repeat
      await change(store, m1!.id, { groupId: null });
      expect(ids(await store.list(ws, query())).sort()).toEqual(ids([group!, m1!, candidate!, other!]).sort());
      const first = await store.list(ws, query({ members: true, limit: 2 }));
      expect(first).toHaveLength(3);
      const last = first[1]!;
      const rest = await store.list(ws, query({ members: true, limit: 10, after: cursorKeyOf(last) }));
      expect([...ids(first.slice(0, 2)), ...ids(rest)]).toEqual(ids(await store.list(ws, query({ members: true }))));
    });
  });

  describe("noise control: durable timers", () => {
    const timer = (subject: string, dueAt: string, workspaceId = ws, kind: Timer["kind"] = "group"): Timer => ({ id: `${kind}:${subject}`, workspaceId, kind, subject, dueAt });

    it("schedules, lists earliest first by workspace, moves a timer scheduled again, and cancels", async (ctx) => {
      const timers = setup().store.timers;
      if (!timers) return ctx.skip(NO_TIMERS);
      expect(await timers.list({ limit: 10 })).toEqual([]);
      const a = timer("inc_a", T(3));
      const b = timer("inc_b", T(1), "ws_b", "snooze");
      const c = timer("sil_c", T(2), ws, "silence");
      await timers.schedule([a, b, c]);
      expect(await timers.list({ limit: 10 })).toEqual([b, c, a]);
      expect(await timers.list({ limit: 10, workspaceId: ws })).toEqual([c, a]);
      expect(await timers.list({ limit: 1 })).toEqual([b]);
      // scheduled again, within one call too: the last one wins
      await timers.schedule([{ ...a, dueAt: T(9) }, { ...a, dueAt: T(0) }]);
      expect(await timers.list({ limit: 10 })).toEqual([{ ...a, dueAt: T(0) }, b, c]);
      await timers.cancel(b.id);
      await timers.cancel("group:inc_missing");
      expect(await timers.list({ limit: 10 })).toEqual([{ ...a, dueAt: T(0) }, c]);
      await timers.schedule([]);
    });

    it("claims due timers earliest first, up to the limit, each once while leased; a lease that ran out lets another worker claim", async (ctx) => {
      const timers = setup().store.timers;
      if (!timers) return ctx.skip(NO_TIMERS);
      const due = [timer("inc_1", T(2)), timer("inc_2", T(1)), timer("inc_3", T(3), "ws_b"), timer("inc_4", T(10))];
      await timers.schedule(due);
      expect(await timers.claim({ worker: "w1", now: T(5), leaseUntil: T(6), limit: 0 })).toEqual([]);
      expect(await timers.claim({ worker: "w1", now: T(5), leaseUntil: T(6), limit: 2 })).toEqual([due[1], due[0]]);
      // at its due time exactly, a timer is due; leased ones are not claimed again
      expect(await timers.claim({ worker: "w2", now: T(3), leaseUntil: T(7), limit: 10 })).toEqual([due[2]]);
      expect(await timers.claim({ worker: "w2", now: T(5, 30), leaseUntil: T(7), limit: 10 })).toEqual([]);
      // w1's lease ran out at T(6): w3 takes both over; w1's done then deletes nothing
      expect(await timers.claim({ worker: "w3", now: T(6, 1), leaseUntil: T(8), limit: 10 })).toEqual([due[1], due[0]]);
      await timers.done(due[1]!.id, "w1", due[1]!.dueAt);
      expect((await timers.list({ limit: 10 })).map((t) => t.id)).toEqual([due[1]!.id, due[0]!.id, due[2]!.id, due[3]!.id]);
      await timers.done(due[1]!.id, "w3", due[1]!.dueAt);
      await timers.done(due[2]!.id, "w2", due[2]!.dueAt);
      expect((await timers.list({ limit: 10 })).map((t) => t.id)).toEqual([due[0]!.id, due[3]!.id]);
      // w3's lease ran out at T(8); one not yet due is never claimed
      expect(await timers.claim({ worker: "w4", now: T(9), leaseUntil: T(20), limit: 10 })).toEqual([due[0]]);
    });

    it("keeps a timer scheduled again while claimed: done leaves it, unclaimed, at its new time", async (ctx) => {
      const timers = setup().store.timers;
      if (!timers) return ctx.skip(NO_TIMERS);
      const t = timer("inc_snoozed", T(1), ws, "snooze");
      await timers.schedule([t]);
      const [claimed] = await timers.claim({ worker: "w1", now: T(2), leaseUntil: T(30), limit: 1 });
      expect(claimed).toEqual(t);
      const moved = { ...t, dueAt: T(4) };
      await timers.schedule([moved]);
      await timers.done(t.id, "w1", t.dueAt);
      expect(await timers.list({ limit: 10 })).toEqual([moved]);
      // unclaimed: due at its new time though w1's old lease has not run out
      expect(await timers.claim({ worker: "w2", now: T(4), leaseUntil: T(5), limit: 1 })).toEqual([moved]);
      // the same time again, rescheduled while claimed: also unclaimed, so done by the old holder leaves it
      await timers.schedule([moved]);
      await timers.done(t.id, "w2", moved.dueAt);
      expect(await timers.list({ limit: 10 })).toEqual([moved]);
      expect(await timers.claim({ worker: "w3", now: T(4), leaseUntil: T(5), limit: 1 })).toEqual([moved]);
      await timers.done(t.id, "w3", moved.dueAt);
      expect(await timers.list({ limit: 10 })).toEqual([]);
    });

    it("never hands one timer to two of many workers claiming at once", async (ctx) => {
      const timers = setup().store.timers;
      if (!timers) return ctx.skip(NO_TIMERS);
      const all = Array.from({ length: 30 }, (_, i) => timer(`inc_${String(i).padStart(2, "0")}`, T(0, i)));
      await timers.schedule(all);
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, w) => timers.claim({ worker: `w${w}`, now: T(1), leaseUntil: T(2), limit: w % 2 === 0 ? 1 : 3 })),
      );
      const claimed = claims.flat().map((t) => t.id);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBe(30);
      for (const batch of claims) expect(batch.map((t) => t.dueAt)).toEqual([...batch.map((t) => t.dueAt)].sort());
      // each worker finishes its own: nothing is left
      await Promise.all(claims.flatMap((batch, w) => batch.map((t) => timers.done(t.id, `w${w}`, t.dueAt))));
      expect(await timers.list({ limit: 100 })).toEqual([]);
    });
  });

  describe("noise control: silences", () => {
    const silence = (id: string, fields: Partial<Silence> = {}): Silence => ({
      id,
      workspaceId: ws,
      match: { agents: ["agt_noise"] },
      startsAt: T(0),
      endsAt: T(60),
      untilResolved: null,
      comment: "maintenance window",
      createdBy: ana,
      createdAt: T(0),
      expiredAt: null,
      expiredBy: null,
      ...fields,
    });

    it("creates and reads silences as they were, whatever their keys and ids; another workspace's is not there", async (ctx) => {
      const silences = setup().store.silences;
      if (!silences) return ctx.skip(NO_SILENCES);
      const tags: Record<string, string> = JSON.parse('{"__proto__":"polluted","constructor":"x","team":"payments \u{1F4B3}"}');
      const hostile = silence("sil_'; DROP TABLE silences; --\u{1F600}\u00e9", {
        match: { tags, kinds: ["anomaly", "policy_blocked"] },
        endsAt: null,
        untilResolved: "inc_\u{1F525}",
        comment: "line one\nline \"two\" \\ \u2028 \u{1F600}",
      });
      await silences.create(hostile);
      const read = await silences.get(ws, hostile.id);
      expect(read).toEqual(hostile);
      expect(Object.keys(read!.match.tags!).sort()).toEqual(["__proto__", "constructor", "team"]);
      expect(Object.getPrototypeOf(read!.match.tags!)).toBe(Object.prototype);
      expect(await silences.get("ws_b", hostile.id)).toBeNull();
      expect(await silences.get(ws, "sil_missing")).toBeNull();
      // an id given twice is refused, and the first silence stays as it was
      const twice = await silences.create(silence(hostile.id, { comment: "again" })).then(() => null, (error: unknown) => error);
      expect(isIncidentError(twice)).toBe(true);
      expect(await silences.get(ws, hostile.id)).toEqual(hostile);
      expect(await silences.list({ limit: 10 })).toEqual([hostile]);
    });

    it("lists newest first by workspace, and with activeAt only those in force then (start included, end and expiry excluded)", async (ctx) => {
      const silences = setup().store.silences;
      if (!silences) return ctx.skip(NO_SILENCES);
      const made = [
        silence("sil_a", { createdAt: T(1), startsAt: T(10), endsAt: T(20) }),
        silence("sil_b", { createdAt: T(2), startsAt: T(5), endsAt: null, untilResolved: "inc_1" }),
        silence("sil_c", { createdAt: T(2), startsAt: T(0), endsAt: T(30), expiredAt: T(15), expiredBy: ana }),
        silence("sil_d", { createdAt: T(3), workspaceId: "ws_b", startsAt: T(0), endsAt: T(50) }),
      ];
      for (const s of made) await silences.create(s);
      const [a, b, c, d] = made;
      expect(await silences.list({ limit: 10 })).toEqual([d, c, b, a]);
      expect(await silences.list({ limit: 10, workspaceId: ws })).toEqual([c, b, a]);
      expect(await silences.list({ limit: 2, workspaceId: ws })).toEqual([c, b]);
      const active = async (at: string) => (await silences.list({ limit: 10, workspaceId: ws, activeAt: at })).map((s) => s.id);
      expect(await active(T(4))).toEqual(["sil_c"]);
      expect(await active(T(5))).toEqual(["sil_c", "sil_b"]);
      expect(await active(T(10))).toEqual(["sil_c", "sil_b", "sil_a"]);
      expect(await active(T(14, 59))).toEqual(["sil_c", "sil_b", "sil_a"]);
      expect(await active(T(15))).toEqual(["sil_b", "sil_a"]);
      expect(await active(T(20))).toEqual(["sil_b"]);
      expect(await active(T(999))).toEqual(["sil_b"]);
      expect((await silences.list({ limit: 10, activeAt: T(20) })).map((s) => s.id)).toEqual(["sil_d", "sil_b"]);
    });

    it("expires a silence once: the first expiry stays, and another workspace's or an unknown silence is null", async (ctx) => {
      const silences = setup().store.silences;
      if (!silences) return ctx.skip(NO_SILENCES);
      const s = silence("sil_e");
      await silences.create(s);
      expect(await silences.expire("ws_b", s.id, T(5), ana)).toBeNull();
      expect(await silences.expire(ws, "sil_missing", T(5), ana)).toBeNull();
      expect(await silences.get(ws, s.id)).toEqual(s);
      const first = await silences.expire(ws, s.id, T(5), ana);
      expect(first).toEqual({ ...s, expiredAt: T(5), expiredBy: ana });
      const bo: ActivityActor = { type: "user", id: "usr_bo", role: "admin" };
      const [again, concurrent] = await Promise.all([silences.expire(ws, s.id, T(6), bo), silences.expire(ws, s.id, T(7), bo)]);
      expect(again).toEqual(first);
      expect(concurrent).toEqual(first);
      expect(await silences.get(ws, s.id)).toEqual(first);
      expect((await silences.list({ limit: 10, activeAt: T(4, 59) })).map((x) => x.id)).toEqual([s.id]);
      expect(await silences.list({ limit: 10, activeAt: T(5) })).toEqual([]);
    });
  });
}
