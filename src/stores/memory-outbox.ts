/**
 * The change feed and outbox in this process's memory: the memory store's, and the engine's for a
 * store that has none. The same contract as the SQL stores' tables (per-incident order, leases,
 * retries, dead letters), so delivery has one path whatever the store; only durability differs.
 */
import { copyJson } from "../core/plain.js";
import type { Change, ChangeInput, DeliveryRecord, OutboxEntry } from "../core/notification.js";
import type { ChangeFeed, Outbox } from "./contract.js";

interface Row extends DeliveryRecord {
  seq: number;
  claimedBy: string | null;
  leaseUntil: string | null;
}

/** A feed nobody plans from keeps at most this many changes (for live views): the oldest go first. */
const MAX_CHANGES = 10_000;

export interface MemoryOutbox {
  readonly outbox: Outbox;
  readonly feed: ChangeFeed;
  /** Appends a committed change to the feed. */
  append(change: ChangeInput): void;
}

export function memoryOutbox(): MemoryOutbox {
  // planning goes in order: the planned changes are always a prefix of the feed
  const changes: Array<Change & { planned: boolean; writtenAt: string }> = [];
  let plannedCount = 0;
  let nextChange = 1;
  /** Whether a process plans from this feed: then no unplanned change is ever trimmed. */
  let planning = false;
  const rows = new Map<string, Row>();
  /** Pending rows per notifier, in seq order. */
  const pending = new Map<string, Row[]>();
  const notified = new Set<string>();
  const heartbeats = new Map<string, string>();
  let nextSeq = 1;

  const key = (notifier: string, incidentId: string) => JSON.stringify([notifier, incidentId]);
  const queue = (notifier: string): Row[] => {
    let list = pending.get(notifier);
    if (!list) pending.set(notifier, (list = []));
    return list;
  };
  const unqueue = (row: Row): void => {
    const list = pending.get(row.notifier);
    const i = list?.indexOf(row) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) pending.delete(row.notifier);
  };
  const enqueue = (row: Row): void => {
    const list = queue(row.notifier);
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > row.seq) i--;
    list.splice(i, 0, row);
  };
  const record = (row: Row): DeliveryRecord => {
    const { seq: _seq, claimedBy: _by, leaseUntil: _until, ...rest } = row;
    return copyJson(rest);
  };

  const outbox: Outbox = {
    async plan(limit, plan) {
      planning = true;
      const batch = changes.slice(plannedCount, plannedCount + limit);
      if (batch.length === 0) return 0;
      const entries = plan(copyJson(batch.map(({ planned: _p, writtenAt: _w, ...change }) => change)), (notifier, incidentId) => notified.has(key(notifier, incidentId)));
      const now = new Date().toISOString();
      for (const entry of entries) add(entry, now);
      for (const change of batch) change.planned = true;
      plannedCount += batch.length;
      return batch.length;
    },
    async claim(request) {
      const out: Row[] = [];
      const blocked = new Set<string>();
      for (const row of pending.get(request.notifier) ?? []) {
        if (out.length >= request.limit) break;
        // an older entry of the incident that is held back holds back the later ones too
        const order = JSON.stringify([row.incidentId, row.digest]);
        if (blocked.has(order)) continue;
        if (row.dueAt > request.now || (row.leaseUntil !== null && row.leaseUntil >= request.now)) {
          blocked.add(order);
          continue;
        }
        row.claimedBy = request.worker;
        row.leaseUntil = request.leaseUntil;
        out.push(row);
      }
      return out.map(record);
    },
    async settle(id, worker, outcome) {
      const row = rows.get(id);
      if (!row || row.claimedBy !== worker) return;
      row.claimedBy = null;
      row.leaseUntil = null;
      row.attempts = outcome.attempts;
      if (outcome.dueAt !== undefined) row.dueAt = outcome.dueAt;
      row.lastError = outcome.error ?? null;
      if (outcome.status !== "pending") {
        row.status = outcome.status;
        row.settledAt = outcome.at;
        unqueue(row);
      }
    },
    async release(worker) {
      for (const row of rows.values()) {
        if (row.claimedBy === worker) {
          row.claimedBy = null;
          row.leaseUntil = null;
        }
      }
    },
    async prune({ settledBefore, changesBefore }) {
      let n = 0;
      for (const [id, row] of rows) {
        if (row.status !== "pending" && row.settledAt !== null && row.settledAt < settledBefore) {
          rows.delete(id);
          n++;
        }
      }
      let drop = 0;
      const nobodyDelivers = heartbeats.size === 0 && !planning;
      while (drop < changes.length && changes[drop]!.writtenAt < (changes[drop]!.planned || nobodyDelivers ? changesBefore : settledBefore)) drop++;
      // a feed nobody plans from (no routes in this process) keeps its newest changes only
      if (nobodyDelivers) drop = Math.max(drop, changes.length - MAX_CHANGES);
      changes.splice(0, drop);
      plannedCount = Math.max(0, plannedCount - drop);
      return n;
    },
    async deliveries(query) {
      const ids = query.ids ? new Set(query.ids) : null;
      const out: DeliveryRecord[] = [];
      for (const row of [...rows.values()].reverse()) {
        if (out.length >= query.limit) break;
        if ((query.status && row.status !== query.status) || (query.notifier && row.notifier !== query.notifier) || (ids && !ids.has(row.id))) continue;
        out.push(record(row));
      }
      return out;
    },
    async retry(query, update) {
      const ids = query.ids ? new Set(query.ids) : null;
      let n = 0;
      for (const row of rows.values()) {
        // one being tried right now is left to its try
        if (row.status === "delivered" || (row.leaseUntil !== null && row.leaseUntil >= update.now) || (query.status && row.status !== query.status) || (query.notifier && row.notifier !== query.notifier) || (ids && !ids.has(row.id))) continue;
        if (row.status === "pending") unqueue(row);
        Object.assign(row, { status: "pending", dueAt: update.now, settledAt: null, claimedBy: null, leaseUntil: null });
        if (!update.keep) Object.assign(row, { attempts: 0, lastError: null, createdAt: update.now });
        if (update.to !== undefined) {
          row.notifier = update.to;
          notified.add(key(update.to, row.incidentId));
        }
        enqueue(row);
        n++;
      }
      return n;
    },
    async heartbeat(names, now) {
      for (const name of names) heartbeats.set(name, now);
    },
    async stranded(before) {
      const out: string[] = [];
      for (const [notifier, list] of pending) {
        const seen = heartbeats.get(notifier);
        if ((seen === undefined || seen < before) && list.some((row) => row.createdAt < before)) out.push(notifier);
      }
      return out;
    },
    async bury(notifier, error, at, before) {
      const seen = heartbeats.get(notifier);
      if (seen !== undefined && seen >= before) return [];
      // one being tried right now is left to its try
      const buried = (pending.get(notifier) ?? []).filter((row) => row.leaseUntil === null || row.leaseUntil < at);
      for (const row of buried) {
        unqueue(row);
        Object.assign(row, { status: "dead", lastError: error, settledAt: at, claimedBy: null, leaseUntil: null });
      }
      return buried.map(record);
    },
  };

  function add(entry: OutboxEntry, now: string): void {
    const row: Row = { ...copyJson(entry), seq: nextSeq++, attempts: 0, createdAt: now, status: "pending", lastError: null, settledAt: null, claimedBy: null, leaseUntil: null };
    rows.set(row.id, row);
    queue(row.notifier).push(row);
    notified.add(key(row.notifier, row.incidentId));
  }

  const feed: ChangeFeed = {
    async read(query) {
      const out: Change[] = [];
      for (const c of changes) {
        if (out.length >= query.limit) break;
        if (c.seq <= query.after || (query.workspaceId !== undefined && c.workspaceId !== query.workspaceId)) continue;
        const { planned: _p, writtenAt: _w, ...change } = c;
        out.push(copyJson(change));
      }
      return out;
    },
    async head() {
      return nextChange - 1;
    },
  };

  return {
    outbox,
    feed,
    append(change) {
      changes.push({ ...change, seq: nextChange++, planned: false, writtenAt: new Date().toISOString() });
      // planned changes beyond the cap go at once; the rest waits for prune()
      if (changes.length > MAX_CHANGES && plannedCount > 0) {
        changes.shift();
        plannedCount -= 1;
      }
    },
  };
}
