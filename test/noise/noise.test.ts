import { describe, expect, it } from "vitest";
import { InvalidTransitionError, ValidationError, ForbiddenError } from "agent-incidents";
import { harness, noiseTargets, OUTAGE_GROUP, operator, providerDown, WS } from "./harness.js";

const resolution = { note: "provider recovered", rootCause: "external" as const };

for (const target of noiseTargets("features")) {
  describe(`noise control on ${target.name}`, () => {
    it("groups one outage across agents into one group incident that alone pages", async () => {
      const { incidents, ops, seen, advance, received } = harness(target.fresh().open(), { noise: { groups: [OUTAGE_GROUP] } });
      try {
        for (let a = 1; a <= 5; a++) await providerDown(incidents, `agt_${a}`, 1);
        await incidents.settle();
        // each agent's first notification waits for the group window
        expect(seen()).toEqual([]);
        await advance(60_000);
        const { items } = await ops.list();
        expect(items.map((i) => [i.kind, i.title, i.occurrences])).toEqual([["group", "con_openai rate_limited failing for 5 agents", 5]]);
        const group = items[0]!;
        expect(group.group?.agents).toEqual(["agt_1", "agt_2", "agt_3", "agt_4", "agt_5"]);
        expect(seen()).toEqual([`incident.created #${group.number}`]);
        // the page counts every member that joined in the window, not just the first
        const page = received[0]!.data as { incident: { title: string; occurrences: number } };
        expect([page.incident.title, page.incident.occurrences]).toEqual(["con_openai rate_limited failing for 5 agents", 5]);
        const members = await ops.list({ group: group.id });
        expect(members.items).toHaveLength(5);
        expect(members.items.every((m) => m.groupId === group.id && m.quiet?.kind === "grouped")).toBe(true);
        expect((await ops.list({ members: true })).items).toHaveLength(6);

        // members recur without paging; the group's count is of members
        for (let a = 1; a <= 5; a++) await providerDown(incidents, `agt_${a}`, 2);
        await incidents.settle();
        expect(seen()).toEqual([`incident.created #${group.number}`]);

        // resolving the group resolves its members, each audited by the operator
        await ops.resolve(group.id, resolution);
        const member = await ops.get(members.items[0]!.id);
        expect(member.status).toBe("resolved");
        expect(member.resolution?.note).toBe("provider recovered");
        expect(member.activity.at(-1)).toMatchObject({ type: "resolved", actor: { id: operator.id } });
        await incidents.settle();
        expect(seen()).toEqual([`incident.created #${group.number}`, `incident.resolved #${group.number}`]);

        // a member that fails again reopens itself, out of the group, held for a new window
        await providerDown(incidents, "agt_1", 3);
        const reopened = await ops.get(members.items.find((m) => m.agentId === "agt_1")!.id);
        expect([reopened.status, reopened.groupId, reopened.quiet?.kind]).toEqual(["open", null, "held"]);
        await advance(60_000);
        // alone in its window: its own page goes out
        expect(seen().at(-1)).toBe(`incident.reopened #${reopened.number}`);
      } finally {
        await incidents.close();
      }
    });

    it("pages an incident on its own when too few fail alike within the window", async () => {
      const { incidents, ops, seen, advance } = harness(target.fresh().open(), { noise: { groups: [{ ...OUTAGE_GROUP, minIncidents: 3 }] } });
      try {
        const { incident } = await providerDown(incidents, "agt_1", 1);
        const other = (await providerDown(incidents, "agt_2", 1, "timeout")).incident!;
        await advance(59_999);
        expect(seen()).toEqual([]);
        await advance(1);
        expect(seen().sort()).toEqual([`incident.created #${incident!.number}`, `incident.created #${other.number}`]);
        expect((await ops.get(incident!.id)).quiet).toBeNull();
        // fired once: nothing more on a second run
        expect(await incidents.runDue()).toBe(0);
      } finally {
        await incidents.close();
      }
    });

    it("silences: created, counted and shown with a badge; the held state is sent once when it is expired", async () => {
      const { incidents, ops, seen, advance } = harness(target.fresh().open());
      try {
        const silence = await ops.silences.create({ match: { agents: "agt_1", connectors: ["con_openai"] }, endsAt: "2026-03-01T10:00:00.000Z", comment: "provider maintenance" });
        expect(silence).toMatchObject({ state: "active", comment: "provider maintenance", createdBy: { id: operator.id } });
        const { incident } = await providerDown(incidents, "agt_1", 1);
        const other = (await providerDown(incidents, "agt_2", 1)).incident!;
        await incidents.settle();
        expect(seen()).toEqual([`incident.created #${other.number}`]);
        expect((await ops.get(incident!.id)).quiet).toEqual({ kind: "silenced", silenceId: silence.id });
        expect((await ops.counts()).critical.open).toBe(2);

        await ops.silences.expire(silence.id);
        await advance(0);
        expect(seen()).toEqual([`incident.created #${other.number}`, `incident.unsilenced #${incident!.number}`]);
        expect((await ops.silences.list()).map((s) => s.state)).toEqual(["expired"]);
        // expiring again changes nothing and sends nothing
        await ops.silences.expire(silence.id);
        await advance(0);
        expect(seen()).toHaveLength(2);
      } finally {
        await incidents.close();
      }
    });

    it("a silence ends by itself at endsAt, and one until an incident resolves ends with the resolve", async () => {
      const { incidents, ops, seen, advance } = harness(target.fresh().open());
      try {
        const parent = (await providerDown(incidents, "agt_0", 1)).incident!;
        await ops.silences.create({ match: { agents: "agt_1" }, endsAt: "2026-03-01T09:30:00.000Z", comment: "deploy" });
        await ops.silences.create({ match: { agents: "agt_2" }, untilResolved: parent.id, comment: "until the provider is back" });
        const one = (await providerDown(incidents, "agt_1", 1)).incident!;
        const two = (await providerDown(incidents, "agt_2", 1)).incident!;
        await advance(29 * 60_000);
        expect(seen()).toEqual([`incident.created #${parent.number}`]);
        await advance(60_000);
        expect(seen()).toEqual([`incident.created #${parent.number}`, `incident.unsilenced #${one.number}`]);
        await ops.resolve(parent.id, resolution);
        await advance(0);
        expect(seen().slice(2).sort()).toEqual([`incident.resolved #${parent.number}`, `incident.unsilenced #${two.number}`].sort());
        expect((await ops.silences.list()).map((s) => s.state)).toEqual(["expired", "expired"]);
        // a reopen of that incident does not bring its silence back
        await ops.reopen(parent.id, "flaky");
        await providerDown(incidents, "agt_2", 2);
        await incidents.settle();
        expect(seen()).toContain(`incident.recurred #${two.number}`);
      } finally {
        await incidents.close();
      }
    });

    it("inhibition: an open provider-down incident quiets the agent errors it explains", async () => {
      const { incidents, ops, seen } = harness(target.fresh().open(), {
        noise: { inhibit: [{ source: { kinds: "anomaly", tags: { provider: "openai" } }, target: { kinds: "agent_error" }, equal: ["environment"] }] },
      });
      try {
        const monitor = incidents.reporter({ workspaceId: WS, agentId: "agt_monitor", environment: "production" });
        const down = (await monitor.anomaly({ runId: "run_m", eventId: "e1", pattern: "provider_down", tags: ["provider:openai"] })).incident!;
        const failing = incidents.reporter({ workspaceId: WS, agentId: "agt_9", environment: "production" });
        const error = (await failing.runEnded({ runId: "run_9", status: "errored", error: { name: "Error", message: "upstream 503" } }))!.incident!;
        const staging = incidents.reporter({ workspaceId: WS, agentId: "agt_9", environment: "staging" });
        const other = (await staging.runEnded({ runId: "run_s", status: "errored", error: { name: "Error", message: "upstream 503" } }))!.incident!;
        await incidents.settle();
        expect(seen().sort()).toEqual([`incident.created #${down.number}`, `incident.created #${other.number}`].sort());
        expect((await ops.get(error.id)).quiet).toEqual({ kind: "inhibited", by: { id: down.id, number: down.number } });
        // once the source resolves, the target notifies again
        await ops.resolve(down.id, resolution);
        await failing.runEnded({ runId: "run_10", status: "errored", error: { name: "Error", message: "upstream 503" } });
        await incidents.settle();
        expect(seen()).toContain(`incident.recurred #${error.number}`);
      } finally {
        await incidents.close();
      }
    });

    it("snooze: quiet until it ends, then open and notified again; refused on an open incident; a resolve cancels it", async () => {
      const { incidents, ops, seen, advance } = harness(target.fresh().open());
      try {
        const incident = (await providerDown(incidents, "agt_1", 1)).incident!;
        await expect(ops.snooze(incident.id, { until: "2026-03-01T09:10:00.000Z", reason: "waiting on openai" })).rejects.toBeInstanceOf(InvalidTransitionError);
        await ops.acknowledge(incident.id);
        await expect(ops.snooze(incident.id, { until: "2026-03-01T08:00:00.000Z", reason: "past" })).rejects.toBeInstanceOf(ValidationError);
        // a time without milliseconds is the same instant: it fires on time
        const snoozed = await ops.snooze(incident.id, { until: "2026-03-01T09:10:00Z", reason: "waiting on openai" });
        expect(snoozed.noise.snoozedUntil).toBe("2026-03-01T09:10:00.000Z");
        await providerDown(incidents, "agt_1", 2);
        await advance(9 * 60_000);
        expect(seen()).toEqual([`incident.created #${incident.number}`, `incident.acknowledged #${incident.number}`]);
        await advance(60_000);
        const after = await ops.get(incident.id);
        expect([after.status, after.noise.snoozedUntil, after.activity.at(-1)?.type]).toEqual(["open", null, "unsnoozed"]);
        expect(seen().at(-1)).toBe(`incident.unsnoozed #${incident.number}`);

        await ops.acknowledge(incident.id);
        await ops.snooze(incident.id, { until: "2026-03-01T09:30:00.000Z", reason: "again" });
        await ops.resolve(incident.id, resolution);
        await advance(30 * 60_000);
        expect((await ops.get(incident.id)).status).toBe("resolved");
        await expect(incidents.as({ ...operator, role: "viewer" }).snooze(incident.id, { until: "2026-03-02T00:00:00.000Z", reason: "x" })).rejects.toBeInstanceOf(ForbiddenError);
      } finally {
        await incidents.close();
      }
    });

    it("flapping: an incident that resolves and reopens again and again says so once, then stays quiet until it calms", async () => {
      const { incidents, ops, seen } = harness(target.fresh().open());
      try {
        let id = "";
        for (let cycle = 0; cycle < 6; cycle++) {
          const { incident } = await providerDown(incidents, "agt_1", cycle);
          id = incident!.id;
          await ops.resolve(id, resolution);
        }
        await incidents.settle();
        const types = seen().map((line) => line.split(" ")[0]);
        expect(types.filter((t) => t === "incident.flapping_started")).toHaveLength(1);
        const started = types.indexOf("incident.flapping_started");
        expect(types.slice(started + 1)).toEqual([]);
        expect((await ops.get(id)).noise.flapping).toBe(true);
        // steady failures without resolves calm it down
        for (let n = 10; n < 40; n++) await providerDown(incidents, "agt_1", n);
        await incidents.settle();
        expect(seen().filter((line) => line.startsWith("incident.flapping_stopped"))).toHaveLength(1);
        expect((await ops.get(id)).noise.flapping).toBe(false);
      } finally {
        await incidents.close();
      }
    });

    it.runIf(target.durable)("timers survive a restart: a silence, a snooze and a group window fire once, after it", async () => {
      const place = target.fresh();
      const first = harness(place.open(), { noise: { groups: [OUTAGE_GROUP] } });
      const grouped = [(await providerDown(first.incidents, "agt_1", 1)).incident!, (await providerDown(first.incidents, "agt_2", 1)).incident!];
      const snoozed = (await first.incidents.reporter({ workspaceId: WS, agentId: "agt_s", environment: "production" }).anomaly({ runId: "r", eventId: "e", pattern: "spike" })).incident!;
      await first.ops.acknowledge(snoozed.id);
      await first.ops.snooze(snoozed.id, { until: "2026-03-01T09:05:00.000Z", reason: "later" });
      await first.ops.silences.create({ match: { agents: "agt_q" }, endsAt: "2026-03-01T09:05:00.000Z", comment: "quiet" });
      const silenced = (await first.incidents.reporter({ workspaceId: WS, agentId: "agt_q", environment: "production" }).anomaly({ runId: "r_q", eventId: "e", pattern: "spike" })).incident!;
      await first.incidents.settle();
      await first.incidents.close();

      const second = harness(place.open(), { noise: { groups: [OUTAGE_GROUP] }, clock: first.clock });
      try {
        first.clock.advance(5 * 60_000);
        // two group windows (the second finds its incident grouped already), a snooze, a silence
        expect(await second.incidents.runDue()).toBe(4);
        expect(await second.incidents.runDue()).toBe(0);
        await second.incidents.settle();
        const group = (await second.ops.list({ kind: "group" })).items[0]!;
        expect(group.occurrences).toBe(2);
        expect((await second.ops.get(grouped[0]!.id)).groupId).toBe(group.id);
        expect((await second.ops.get(snoozed.id)).status).toBe("open");
        expect(second.seen().sort()).toEqual(
          [`incident.created #${group.number}`, `incident.unsnoozed #${snoozed.number}`, `incident.unsilenced #${silenced.number}`].sort(),
        );
      } finally {
        await second.incidents.close();
      }
    });

    it("refuses bad noise options, silences and snoozes with errors that say what is wrong, and writes nothing", async () => {
      const { incidents, ops } = harness(target.fresh().open());
      try {
        await expect(ops.silences.create({ match: { agents: [] }, endsAt: "2026-03-02T00:00:00.000Z", comment: "x" })).rejects.toThrow(/at least one value/);
        await expect(ops.silences.create({ match: { agents: "a" }, comment: "no end" } as never)).rejects.toThrow(/endsAt or untilResolved/);
        await expect(ops.silences.create({ match: { regex: ".*" } as never, endsAt: "2026-03-02T00:00:00.000Z", comment: "x" })).rejects.toBeInstanceOf(ValidationError);
        await expect(ops.silences.create({ match: { agents: "a" }, endsAt: "2026-03-01T08:00:00.000Z", comment: "past" })).rejects.toThrow(/in the past/);
        const hostile = JSON.parse('{"match":{"tags":{"__proto__":"x"}},"endsAt":"2026-03-02T00:00:00.000Z","comment":"proto \\u0000 key"}');
        const made = await ops.silences.create(hostile);
        expect(Object.keys(made.match.tags!)).toEqual(["__proto__"]);
        expect((await ops.silences.list()).map((s) => s.id)).toEqual([made.id]);
        await expect(incidents.as({ ...operator, role: "approver" }).silences.create({ match: { agents: "a" }, endsAt: "2026-03-02T00:00:00.000Z", comment: "x" })).rejects.toBeInstanceOf(ForbiddenError);
        await expect(ops.silences.expire("sil_nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
        // a comment of control characters only is empty once cleaned: refused, nothing written
        await expect(ops.silences.create({ match: { agents: "a" }, endsAt: "2026-03-02T00:00:00.000Z", comment: "\u0000\u0000" })).rejects.toBeInstanceOf(ValidationError);
        expect(await ops.silences.list()).toHaveLength(1);
      } finally {
        await incidents.close();
      }
    });
  });
}
