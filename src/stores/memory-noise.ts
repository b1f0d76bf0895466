/**
 * Timers and silences in this process's memory: the memory store's, and the engine's for a store
 * without its own (they do not survive a restart, and only this process sees them). Everything
 * handed in or out is a copy.
 */
import { CallbackError } from "../core/errors.js";
import type { ActivityActor } from "../core/incident.js";
import type { Silence, Timer } from "../core/noise.js";
import { copyJson } from "../core/plain.js";
import type { SilenceStore, TimerStore } from "./contract.js";

const byDue = (a: Timer, b: Timer): number => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Durable-timer semantics in memory: scheduling an id again moves it and drops its lease; a claim
 * leases due timers earliest first; `done` deletes only what its worker still holds unchanged.
 * `check` runs before every call (the memory store throws `ClosedError` from it once closed).
 */
export function memoryTimers(check: () => void = () => undefined): TimerStore {
  const timers = new Map<string, { timer: Timer; worker: string | null; leaseUntil: string | null }>();
  return {
    async schedule(list) {
      check();
      for (const timer of list) timers.set(timer.id, { timer: { ...timer }, worker: null, leaseUntil: null });
    },
    async claim({ worker, now, leaseUntil, limit }) {
      check();
      const due = [...timers.values()]
        .filter((t) => t.timer.dueAt <= now && (t.leaseUntil === null || t.leaseUntil < now))
        .sort((a, b) => byDue(a.timer, b.timer))
        .slice(0, Math.max(0, limit));
      for (const t of due) {
        t.worker = worker;
        t.leaseUntil = leaseUntil;
      }
      return due.map((t) => ({ ...t.timer }));
    },
    async done(id, worker, dueAt) {
      check();
      const t = timers.get(id);
      if (t && t.worker === worker && t.timer.dueAt === dueAt) timers.delete(id);
    },
    async cancel(id) {
      check();
      timers.delete(id);
    },
    async list({ workspaceId, limit }) {
      check();
      return [...timers.values()]
        .map((t) => t.timer)
        .filter((t) => workspaceId === undefined || t.workspaceId === workspaceId)
        .sort(byDue)
        .slice(0, Math.max(0, limit))
        .map((t) => ({ ...t }));
    },
  };
}

const newestFirst = (a: Silence, b: Silence): number =>
  a.createdAt > b.createdAt ? -1 : a.createdAt < b.createdAt ? 1 : a.id > b.id ? -1 : a.id < b.id ? 1 : 0;

const activeAt = (s: Silence, at: string): boolean => s.startsAt <= at && (s.endsAt === null || s.endsAt > at) && (s.expiredAt === null || s.expiredAt > at);

/**
 * Silences in memory, scoped to a workspace like incidents; ids are unique across workspaces, as
 * in the SQL stores. `check` runs before every call, as for {@link memoryTimers}.
 */
export function memorySilences(check: () => void = () => undefined): SilenceStore {
  const silences = new Map<string, Silence>();
  const find = (workspaceId: string, id: string): Silence | null => {
    const silence = silences.get(id);
    return silence && silence.workspaceId === workspaceId ? silence : null;
  };
  return {
    async create(silence) {
      check();
      if (silences.has(silence.id)) throw new CallbackError("ids", `ids() returned an id that is already taken (${silence.id}): ids must be unique`);
      silences.set(silence.id, copyJson(silence));
    },
    async get(workspaceId, id) {
      check();
      const silence = find(workspaceId, id);
      return silence ? copyJson(silence) : null;
    },
    async list({ workspaceId, activeAt: at, limit }) {
      check();
      return [...silences.values()]
        .filter((s) => (workspaceId === undefined || s.workspaceId === workspaceId) && (at === undefined || activeAt(s, at)))
        .sort(newestFirst)
        .slice(0, Math.max(0, limit))
        .map((s) => copyJson(s));
    },
    async expire(workspaceId: string, id: string, at: string, by: ActivityActor) {
      check();
      const silence = find(workspaceId, id);
      if (!silence) return null;
      if (silence.expiredAt === null) silences.set(id, { ...silence, expiredAt: at, expiredBy: copyJson(by) });
      return copyJson(silences.get(id)!);
    },
  };
}
