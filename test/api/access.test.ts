import { describe, expect, it } from "vitest";
import { ForbiddenError, NotFoundError } from "agent-incidents";
import { setup } from "./helpers.js";
import { written } from "agent-incidents/testing";

describe("access", () => {
  const seeded = async () => {
    const ctx = setup();
    const { incident } = written(await ctx.report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    return { ...ctx, id: incident.id };
  };

  it("lets a viewer read and nothing else, refusing before any lookup", async () => {
    const { incidents, id } = await seeded();
    const viewer = incidents.as({ id: "usr_v", role: "viewer", workspaceId: "ws_acme" });
    expect((await viewer.list()).items).toHaveLength(1);
    expect((await viewer.get(id)).id).toBe(id);
    await viewer.counts();
    await viewer.context(id);
    await viewer.stats();
    await expect(viewer.addNote(id, "hi")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(viewer.acknowledge(id)).rejects.toMatchObject({ code: "FORBIDDEN", permission: "triage", role: "viewer" });
    await expect(viewer.resolve("inc_does_not_exist", { note: "x", rootCause: "other" })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(viewer.escalate({ title: "t", severity: "low" })).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("lets an approver read and add notes, not triage", async () => {
    const { incidents, id } = await seeded();
    const approver = incidents.as({ id: "usr_p", role: "approver", workspaceId: "ws_acme" });
    expect((await approver.addNote(id, "I rejected the related approval")).version).toBe(2);
    await expect(approver.acknowledge(id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(approver.setSeverity(id, "high", "x")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(approver.reopen(id)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("lets operators and admins triage, resolve, reopen and escalate", async () => {
    const { incidents, id } = await seeded();
    for (const role of ["operator", "admin"] as const) {
      const actor = incidents.as({ id: `usr_${role}`, role, workspaceId: "ws_acme" });
      await actor.resolve(id, { note: "done", rootCause: "other" });
      await actor.reopen(id, "again");
      expect((await actor.escalate({ title: `by ${role}`, severity: "low" })).kind).toBe("manual");
    }
  });

  it("hides another workspace's incidents as not found", async () => {
    const { incidents, id } = await seeded();
    const outsider = incidents.as({ id: "usr_x", role: "admin", workspaceId: "ws_other" });
    await expect(outsider.get(id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(outsider.context(id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(outsider.acknowledge(id)).rejects.toMatchObject({ code: "NOT_FOUND", message: `Incident ${id} not found` });
    expect((await outsider.list()).items).toEqual([]);
    expect((await outsider.stats()).total).toBe(0);
  });

  it("takes an authorize option that replaces the role policy", async () => {
    const ctx = setup({ authorize: (actor, permission) => permission === "read" || actor.id === "usr_oncall" });
    const { incident } = written(await ctx.report.anomaly({ runId: "run_1", eventId: "e1", pattern: "x" }));
    const oncall = ctx.incidents.as({ id: "usr_oncall", role: "viewer", workspaceId: "ws_acme" });
    expect((await oncall.acknowledge(incident.id)).status).toBe("acknowledged");
    await expect(ctx.ops.addNote(incident.id, "x")).rejects.toBeInstanceOf(ForbiddenError);
  });
});
