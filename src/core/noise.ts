/**
 * Noise control, the pure part: which group an incident belongs to, flap detection, silences and
 * inhibition, and why an incident is quiet. Noise control holds back notifications, never
 * incidents: every decision here is a function of (state, change, now), so a fake clock drives it.
 */
import { z } from "zod";
import type { ActivityActor, Incident } from "./incident.js";
import { FIELD_PATHS, fieldOf, matches, MatcherSchema, type FieldPath, type Matcher } from "./matcher.js";
import { IdSchema, TimestampSchema } from "./schemas.js";

const NameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, "must be 1 to 100 letters, digits, _ . : or -, starting with a letter or digit");

/** One grouping rule: incidents that match and share the `by` fields become members of one group. */
export const GroupRuleSchema = z
  .object({
    name: NameSchema,
    match: MatcherSchema.optional(),
    by: z.array(z.enum(FIELD_PATHS)).min(1).max(10),
    windowMs: z.number().int().min(1000).max(86_400_000),
    minIncidents: z.number().int().min(2).max(10_000).default(2),
  })
  .strict();
/** A grouping rule as given to `createIncidents({ noise: { groups } })`. */
export type GroupRuleInput = z.input<typeof GroupRuleSchema>;
/** A validated grouping rule. */
export type GroupRule = z.output<typeof GroupRuleSchema>;

/** While an open incident matches `source`, incidents matching `target` with the same `equal` fields notify nobody. */
export const InhibitRuleSchema = z
  .object({
    source: MatcherSchema,
    target: MatcherSchema,
    equal: z.array(z.enum(FIELD_PATHS)).max(10).default([]),
  })
  .strict();
/** An inhibition rule as validated. */
export type InhibitRule = z.output<typeof InhibitRuleSchema>;

/** Flap detection thresholds, in percent of weighted state changes (Icinga 2's defaults: 25 and 30). */
export const FlappingSchema = z
  .object({ low: z.number().min(0).max(100).default(25), high: z.number().min(0).max(100).default(30) })
  .strict()
  .refine((f) => f.low <= f.high, { message: "low must not be above high", path: ["low"] });
/** Validated flap detection thresholds. */
export type FlappingOptions = z.output<typeof FlappingSchema>;

/** `createIncidents({ noise })`: grouping, inhibition and flap detection. */
export const NoiseOptionsSchema = z
  .object({
    groups: z
      .array(GroupRuleSchema)
      .max(100)
      .superRefine((groups, ctx) => {
        const names = new Set<string>();
        groups.forEach((g, i) => {
          if (names.has(g.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `"${g.name}" names two groups: names must be unique` });
          names.add(g.name);
        });
      })
      .default([]),
    inhibit: z.array(InhibitRuleSchema).max(100).default([]),
    flapping: z.union([z.literal(false), FlappingSchema]).default({ low: 25, high: 30 }),
  })
  .strict();
/** What `createIncidents({ noise })` accepts. */
export type NoiseOptionsInput = z.input<typeof NoiseOptionsSchema>;
/** Validated noise options. */
export type NoiseOptions = z.output<typeof NoiseOptionsSchema>;

// ---- grouping ----

/** The group an incident would join: the rule and the key its `by` fields make, or `null`. */
export function groupOf(rules: readonly GroupRule[], incident: Incident): { rule: GroupRule; key: string; values: Record<string, string> } | null {
  if (incident.kind === "group" || incident.kind === "manual") return null;
  for (const rule of rules) {
    if (rule.match && !matches(rule.match, incident)) continue;
    const values: Record<string, string> = Object.create(null);
    let complete = true;
    for (const path of rule.by) {
      const value = fieldOf(incident, path);
      if (value === null) {
        complete = false;
        break;
      }
      values[path] = value;
    }
    // an incident without every `by` field is not grouped by this rule
    if (!complete) continue;
    return { rule, key: JSON.stringify([rule.name, ...rule.by.map((p) => values[p])]), values };
  }
  return null;
}

/** The fingerprint of a group incident: one open group per rule and key in a workspace. */
export function groupFingerprint(workspaceId: string, key: string): string {
  return JSON.stringify(["group", workspaceId, key]);
}

/** A group's title: what fails, and for how many agents. */
export function groupTitle(values: Record<string, string>, agents: number, members: number): string {
  const what = Object.values(values).join(" ");
  return agents > 1 ? `${what} failing for ${agents} agents` : `${what} failing in ${members} incidents`;
}

// ---- flapping (Icinga 2's algorithm) ----

/** How many state changes flap detection remembers. */
export const FLAP_WINDOW = 20;

/**
 * The weighted share of state changes in the last {@link FLAP_WINDOW} samples, 0-100: sample i
 * (0 = oldest) weighs 0.8 + 0.02·i, so recent changes count more. Missing samples count as no
 * change. `samples` holds 1 for a change (a resolve, a reopen) and 0 for none (a recurrence).
 */
export function flapPercent(samples: readonly number[]): number {
  const recent = samples.slice(-FLAP_WINDOW);
  const offset = FLAP_WINDOW - recent.length;
  let sum = 0;
  recent.forEach((changed, i) => {
    if (changed) sum += 0.8 + 0.02 * (i + offset);
  });
  return (sum / FLAP_WINDOW) * 100;
}

/** The noise state after one more sample: flapping starts above `high` percent and stops below `low`. */
export function sampleFlap(state: NoiseState, changed: boolean, options: FlappingOptions | false): NoiseState {
  if (options === false) return state;
  const samples = [...state.samples, changed ? 1 : 0].slice(-FLAP_WINDOW);
  const percent = flapPercent(samples);
  const flapping = state.flapping ? percent >= options.low : percent > options.high;
  return { ...state, samples, flapping };
}

/** Noise state kept on every incident. */
export const NoiseStateSchema = z.object({
  /** The first notification waits until then for the incident's group to form. */
  heldUntil: TimestampSchema.nullable(),
  /** Snoozed: quiet until then, when it returns to open. */
  snoozedUntil: TimestampSchema.nullable(),
  snoozeReason: z.string().nullable(),
  flapping: z.boolean(),
  /** The last state-change samples for flap detection: 1 changed, 0 did not. */
  samples: z.array(z.number().int().min(0).max(1)),
});
/** An incident's noise state: held for its group, snoozed, flapping. */
export type NoiseState = z.infer<typeof NoiseStateSchema>;

/** The noise state of an incident nothing has quieted. */
export const QUIET_NONE: NoiseState = Object.freeze({ heldUntil: null, snoozedUntil: null, snoozeReason: null, flapping: false, samples: [] }) as NoiseState;

/** What a group incident says about its members. */
export const GroupInfoSchema = z.object({
  rule: z.string(),
  /** The `by` fields' values the members share. */
  key: z.record(z.string(), z.string()),
  /** Agents of the members, at most 100. */
  agents: z.array(z.string()),
});
/** What a group incident says about its members. */
export type GroupInfo = z.infer<typeof GroupInfoSchema>;

// ---- silences ----

/**
 * An ISO-8601 UTC time, written back as `toISOString()` does: times are compared as strings, and
 * `09:30:00Z` must not sort after `09:30:00.000Z`.
 */
export const InstantSchema = TimestampSchema.transform((value) => new Date(value).toISOString());

/** `ops.silences.create` input. */
export const SilenceInputSchema = z
  .object({
    match: MatcherSchema,
    startsAt: InstantSchema.optional(),
    endsAt: InstantSchema.optional(),
    untilResolved: IdSchema.optional(),
    comment: z.string().trim().min(1, "must say why (it is audited)").max(2000),
  })
  .strict()
  .refine((s) => (s.endsAt === undefined) !== (s.untilResolved === undefined), {
    message: "give either endsAt or untilResolved (an incident id)",
    path: ["endsAt"],
  })
  .refine((s) => s.endsAt === undefined || s.startsAt === undefined || s.endsAt > s.startsAt, {
    message: "must be after startsAt",
    path: ["endsAt"],
  });
/** What `ops.silences.create` accepts. */
export type SilenceInput = z.input<typeof SilenceInputSchema>;

/** A silence: incidents matching it are created, counted and shown, but notify nobody while it lasts. */
export interface Silence {
  id: string;
  workspaceId: string;
  match: Matcher;
  startsAt: string;
  /** When it ends by itself; `null` for one that lasts until `untilResolved` resolves. */
  endsAt: string | null;
  /** The incident whose resolve ends it. */
  untilResolved: string | null;
  comment: string;
  createdBy: ActivityActor;
  createdAt: string;
  /** Ended early by an operator. */
  expiredAt: string | null;
  expiredBy: ActivityActor | null;
}

/** Whether a silence holds notifications back at `at` (an `untilResolved` one: also ask whether its incident resolved). */
export function silenceActive(silence: Silence, at: string): boolean {
  return silence.startsAt <= at && (silence.endsAt === null || silence.endsAt > at) && (silence.expiredAt === null || silence.expiredAt > at);
}

/**
 * A silence that lasts until an incident resolves, read as ending at that incident's first resolve
 * after the silence was made (a reopen does not bring it back); `incident` `null` when that
 * incident no longer exists (the silence then ended when it was made).
 */
export function withResolvedEnd(silence: Silence, incident: Incident | null): Silence {
  if (silence.untilResolved === null || silence.expiredAt !== null) return silence;
  if (incident === null) return { ...silence, endsAt: silence.createdAt };
  const resolvedAt = incident.episodes.map((e) => e.resolvedAt).find((r): r is string => r !== null && r >= silence.createdAt);
  return resolvedAt === undefined ? silence : { ...silence, endsAt: resolvedAt };
}

/** A silence's state as an operator reads it. */
export function silenceState(silence: Silence, at: string): "pending" | "active" | "expired" {
  if (silenceActive(silence, at)) return "active";
  return silence.startsAt > at && silence.expiredAt === null ? "pending" : "expired";
}

// ---- timers ----

/** What a durable timer does when it fires. */
export type TimerKind = "group" | "snooze" | "silence";

/** A durable timer: a row in the store, fired once by whichever process delivers. */
export interface Timer {
  /** `<kind>:<subject>`: scheduling the same id again moves it. */
  id: string;
  workspaceId: string;
  kind: TimerKind;
  /** The incident (group window, snooze) or silence (its end) it is about. */
  subject: string;
  dueAt: string;
}

/** The timer of one kind for one subject. */
export function timer(kind: TimerKind, workspaceId: string, subject: string, dueAt: string): Timer {
  return { id: `${kind}:${subject}`, workspaceId, kind, subject, dueAt };
}

// ---- why an incident is quiet ----

/** Why an incident notifies nobody right now; the console shows it as a badge. */
export type QuietReason =
  | { kind: "grouped"; groupId: string }
  | { kind: "held"; until: string }
  | { kind: "snoozed"; until: string }
  | { kind: "flapping" }
  | { kind: "silenced"; silenceId: string }
  | { kind: "inhibited"; by: { id: string; number: number } };

/** The silences and inhibiting incidents of one workspace, as the planner sees them. */
export interface NoiseView {
  /** Silences that are or were lately in force, judged at each change's time (see {@link withResolvedEnd}). */
  silences: readonly Silence[];
  /** Unresolved incidents that match some rule's `source`. */
  sources: readonly Incident[];
}

/**
 * Why `incident` is quiet at `at`, or `null` when its changes notify as usual. Checked in order:
 * a member of a group (the group notifies), held for its group window, snoozed, flapping,
 * silenced, inhibited.
 */
export function quietReason(incident: Incident, at: string, view: NoiseView, inhibit: readonly InhibitRule[]): QuietReason | null {
  if (incident.groupId !== null) return { kind: "grouped", groupId: incident.groupId };
  const noise = incident.noise;
  if (noise.heldUntil !== null && noise.heldUntil > at && incident.status !== "resolved") return { kind: "held", until: noise.heldUntil };
  if (noise.snoozedUntil !== null && incident.status !== "resolved") return { kind: "snoozed", until: noise.snoozedUntil };
  if (noise.flapping) return { kind: "flapping" };
  for (const silence of view.silences) {
    if (silenceActive(silence, at) && matches(silence.match, incident)) return { kind: "silenced", silenceId: silence.id };
  }
  for (const rule of inhibit) {
    if (!matches(rule.target, incident)) continue;
    for (const source of view.sources) {
      if (source.id === incident.id || source.status === "resolved" || !matches(rule.source, source)) continue;
      if (rule.equal.every((path: FieldPath) => fieldOf(source, path) === fieldOf(incident, path))) return { kind: "inhibited", by: { id: source.id, number: source.number } };
    }
  }
  return null;
}

/** Whether a silence or inhibition rule could use `incident` as a source. */
export function isInhibitSource(inhibit: readonly InhibitRule[], incident: Incident): boolean {
  return incident.status !== "resolved" && inhibit.some((rule) => matches(rule.source, incident));
}
