/**
 * Coalesces concurrent reports of one fingerprint. In an outage, every agent's failures recur into
 * a few incidents, and one-transaction-per-report makes them queue on one row. Here, while a
 * write of fingerprint F is in flight, further reports of F wait; when it commits they go to the
 * store together, through `ingestMany`, in one transaction. Each report keeps its own decision and
 * occurrence, and its promise resolves after the commit that holds it. A batch that fails is
 * retried one report at a time, so one bad report (a host rule that throws) fails only itself.
 */
import type { IncidentStore, IngestRequest, IngestResult } from "./stores/contract.js";

/** Most reports one transaction takes. */
const MAX_BATCH = 64;

interface Waiting {
  request: IngestRequest;
  resolve(result: IngestResult): void;
  reject(error: unknown): void;
}

/** `ingest` for the engine: the store's own, coalescing concurrent reports when it has `ingestMany`. */
export function createBatcher(store: IncidentStore): (request: IngestRequest) => Promise<IngestResult> {
  const ingestMany = store.ingestMany?.bind(store);
  if (!ingestMany) return (request) => store.ingest(request);
  /** Reports waiting behind a write in flight, per workspace and fingerprint. */
  const lanes = new Map<string, Waiting[]>();

  const drain = (key: string): void => {
    const waiting = lanes.get(key)!;
    if (waiting.length === 0) {
      lanes.delete(key);
      return;
    }
    const batch = waiting.splice(0, MAX_BATCH);
    const write =
      batch.length === 1
        ? store.ingest(batch[0]!.request).then(batch[0]!.resolve, batch[0]!.reject)
        : ingestMany(batch.map((w) => w.request)).then(
            (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
            async () => {
              for (const w of batch) await store.ingest(w.request).then(w.resolve, w.reject);
            },
          );
    void write.finally(() => drain(key));
  };

  return (request) => {
    // kinds that never merge always create: nothing to coalesce
    if (!request.merge) return store.ingest(request);
    const key = JSON.stringify([request.workspaceId, request.fingerprint]);
    const waiting = lanes.get(key);
    if (waiting) return new Promise<IngestResult>((resolve, reject) => waiting.push({ request, resolve, reject }));
    lanes.set(key, []);
    const first = store.ingest(request);
    void first.then(
      () => drain(key),
      () => drain(key),
    );
    return first;
  };
}
