import { defineStore, memoryStore, type IncidentStore } from "agent-incidents";

/** A third party's store: forwards to another store (the memory store by default) and counts the calls. */
export function countingStore(inner: IncidentStore = memoryStore()): IncidentStore & { readonly calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const count = (method: keyof IncidentStore): void => void calls.set(method, (calls.get(method) ?? 0) + 1);
  return defineStore({
    name: `counting(${inner.name})`,
    durable: inner.durable,
    calls,
    ingest: (request) => (count("ingest"), inner.ingest(request)),
    mutate: (workspaceId, id, apply) => (count("mutate"), inner.mutate(workspaceId, id, apply)),
    get: (workspaceId, id) => (count("get"), inner.get(workspaceId, id)),
    activity: (workspaceId, id) => (count("activity"), inner.activity(workspaceId, id)),
    occurrences: (workspaceId, id) => (count("occurrences"), inner.occurrences(workspaceId, id)),
    snapshot: (workspaceId, id) => (count("snapshot"), inner.snapshot(workspaceId, id)),
    list: (workspaceId, query) => (count("list"), inner.list(workspaceId, query)),
    counts: (workspaceId, filter) => (count("counts"), inner.counts(workspaceId, filter)),
    scan: (workspaceId, query) => (count("scan"), inner.scan(workspaceId, query)),
    close: () => (count("close"), inner.close()),
  });
}
