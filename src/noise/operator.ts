/**
 * The operator's side of noise control: silences (create, list, expire), snooze, and why an
 * incident is quiet (the badge a reader sees). Each silence change is audited on the silence
 * (who, when, comment); a silence's end is a durable timer that sends what it held back.
 */
import { z } from "zod";
import { NotFoundError, ValidationError } from "../core/errors.js";
import type { ActivityActor, Incident } from "../core/incident.js";
import { InstantSchema, quietReason, withResolvedEnd, silenceState, SilenceInputSchema, timer, type QuietReason, type Silence, type SilenceInput } from "../core/noise.js";
import { IdSchema, parseArgument, parseOrThrow } from "../core/schemas.js";
import { toPlain } from "../core/plain.js";
import type { Engine } from "../engine.js";
import type { NoiseView } from "../core/noise.js";
import { createNoiseViews } from "../notifiers/noise-view.js";

/** A silence as `ops.silences` returns it, with its state now. */
export type SilenceRecord = Silence & { state: "pending" | "active" | "expired" };

/** `ops.silences`: hold back the notifications of matching incidents for a while. */
export interface Silences {
  /**
   * Creates a silence: incidents matching `match` are still created, counted and listed, but
   * notify nobody from `startsAt` (default now) until `endsAt`, or until the incident
   * `untilResolved` resolves. When it ends, each unresolved incident it held back is sent its
   * current state once. Operator role or above; audited with `comment`.
   */
  create(input: SilenceInput): Promise<SilenceRecord>;
  /** Silences of the workspace, newest first; `state` picks pending, active or expired ones. */
  list(query?: { state?: "pending" | "active" | "expired"; limit?: number }): Promise<SilenceRecord[]>;
  /** Ends a silence now; what it held back is sent. Expiring an expired silence changes nothing. */
  expire(id: string): Promise<SilenceRecord>;
}

const ListSchema = z
  .object({ state: z.enum(["pending", "active", "expired"]).optional(), limit: z.number().int().min(1).max(1000).optional() })
  .strict()
  .optional();

/** `ops.snooze` options. */
export const SnoozeSchema = z
  .object({ until: InstantSchema, reason: z.string().trim().min(1, "must say why (it is audited)").max(2000) })
  .strict();
/** What `ops.snooze` accepts: until when, and why. */
export type SnoozeInput = z.input<typeof SnoozeSchema>;

export function createSilences(engine: Engine, workspaceId: string, who: ActivityActor): Silences {
  const record = (silence: Silence): SilenceRecord => ({ ...silence, state: silenceState(silence, engine.now()) });
  /** A silence until an incident resolves reads as ending at that resolve. */
  const ended = async (silence: Silence): Promise<Silence> =>
    silence.untilResolved === null || silence.expiredAt !== null ? silence : withResolvedEnd(silence, await engine.store.get(workspaceId, silence.untilResolved));
  return {
    async create(input) {
      const s = parseOrThrow(SilenceInputSchema, toPlain(input, "silence"), "silence");
      const now = engine.now();
      const comment = required(engine.text(s.comment), "silence", "comment");
      if (s.endsAt !== undefined && s.endsAt <= now) {
        throw new ValidationError("silence", [{ path: ["endsAt"], message: "is in the past: a silence must end after now", code: "custom" }]);
      }
      if (s.untilResolved !== undefined) {
        const incident = await engine.store.get(workspaceId, s.untilResolved);
        if (!incident) throw new NotFoundError(s.untilResolved);
        if (incident.status === "resolved") {
          throw new ValidationError("silence", [{ path: ["untilResolved"], message: `incident #${incident.number} is already resolved`, code: "custom" }]);
        }
      }
      const silence: Silence = {
        id: engine.newId("sil"),
        workspaceId,
        match: s.match,
        startsAt: s.startsAt ?? now,
        endsAt: s.endsAt ?? null,
        untilResolved: s.untilResolved ?? null,
        comment,
        createdBy: who,
        createdAt: now,
        expiredAt: null,
        expiredBy: null,
      };
      // the end's timer first: a silence written without it would hold back for ever
      if (silence.endsAt !== null) await engine.timers.schedule([timer("silence", workspaceId, silence.id, silence.endsAt)]);
      await engine.silences.create(silence);
      return record(silence);
    },
    async list(query) {
      const q = parseOrThrow(ListSchema, query, "silences query");
      const limit = q?.limit ?? 100;
      // the state is known only once read: read enough to fill the page with the state asked for
      const all = await engine.silences.list({ workspaceId, limit: q?.state ? 1000 : limit });
      const records = (await Promise.all(all.map(ended))).map(record);
      return (q?.state ? records.filter((r) => r.state === q.state) : records).slice(0, limit);
    },
    async expire(idInput) {
      const id = parseArgument(IdSchema, idInput, "id");
      const before = await engine.silences.get(workspaceId, id);
      if (!before) throw new NotFoundError(id);
      if (before.expiredAt !== null || (before.endsAt !== null && before.endsAt <= engine.now())) return record(before);
      const now = engine.now();
      // the re-send is a timer due now: it survives this process, and runs once
      await engine.timers.schedule([timer("silence", workspaceId, id, now)]);
      const expired = await engine.silences.expire(workspaceId, id, now, who);
      if (!expired) throw new NotFoundError(id);
      return record(expired);
    },
  };
}

/** Reads why incidents are quiet, for the badges of `get()` and `list()`. */
export function createQuietReader(engine: Engine) {
  // a read must work even when the host's clock is broken: badges then go by the system clock
  const views = createNoiseViews({ store: engine.store, silences: engine.silences, inhibit: engine.noise.inhibit, now: () => nowOrSystem(engine) });
  return async (workspaceId: string, incidents: readonly Incident[]): Promise<Map<string, QuietReason>> => {
    const out = new Map<string, QuietReason>();
    if (incidents.length === 0) return out;
    let view: NoiseView;
    try {
      view = await views.read(workspaceId);
    } catch {
      view = { silences: [], sources: [] };
    }
    const now = nowOrSystem(engine);
    for (const incident of incidents) {
      const reason = quietReason(incident, now, view, engine.noise.inhibit);
      if (reason) out.set(incident.id, reason);
    }
    return out;
  };
}

function nowOrSystem(engine: Engine): string {
  try {
    return engine.now();
  } catch {
    return new Date().toISOString();
  }
}

/** Operator text after cleaning (NUL and unpaired surrogates removed): still not empty. */
export function required(text: string, subject: string, field: string): string {
  if (text.trim().length === 0) throw new ValidationError(subject, [{ path: [field], message: "must say why (it is audited): it is empty once control characters are removed", code: "custom" }]);
  return text;
}
