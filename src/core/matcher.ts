/**
 * Matchers: the one shape that picks incidents for groups, silences and inhibition. Every field
 * given must match (values are exact strings; an array matches any of its values); no regexes, so
 * matching stays cheap and predictable on the report path. Pure.
 */
import { z } from "zod";
import type { Incident } from "./incident.js";
import { EnvironmentSchema, IdSchema, KindSchema, SeveritySchema, TagSchema } from "./schemas.js";

const MAX_VALUES = 100;

const oneOrMany = <T extends z.ZodType>(schema: T) =>
  z
    .union([schema, z.array(schema).min(1, "must list at least one value").max(MAX_VALUES, `must list at most ${MAX_VALUES} values`)])
    .transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const ValueSchema = z.string().min(1, "must not be empty").max(1000, "must be at most 1000 characters");

/**
 * Tags as `{ key: value }`. Copied into a null-prototype object by hand: a parsed record would
 * lose a `__proto__` key, and a silence of `{ __proto__: "x" }` would then match every incident.
 */
const TagsSchema = z
  .custom<Record<string, string>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "must be an object of tag names to values" })
  .transform((tags, ctx) => {
    const out: Record<string, string> = Object.create(null);
    const keys = Object.keys(tags);
    if (keys.length > 50) ctx.addIssue({ code: "custom", message: "must have at most 50 tags" });
    for (const key of keys) {
      const value = (tags as Record<string, unknown>)[key];
      const k = TagSchema.safeParse(key);
      const v = TagSchema.safeParse(value);
      if (!k.success || !v.success) {
        ctx.addIssue({ code: "custom", path: [key], message: "tag names and values must be non-empty text of at most 100 characters" });
        continue;
      }
      out[key] = v.data;
    }
    return out;
  });

/** Validates a {@link Matcher}: at least one field, every value an exact string. */
export const MatcherSchema = z
  .object({
    severities: oneOrMany(SeveritySchema).optional(),
    kinds: oneOrMany(KindSchema).optional(),
    agents: oneOrMany(IdSchema).optional(),
    environments: oneOrMany(EnvironmentSchema).optional(),
    connectors: oneOrMany(ValueSchema).optional(),
    policies: oneOrMany(ValueSchema).optional(),
    errorCodes: oneOrMany(ValueSchema).optional(),
    /** Tags the incident must carry, written `key: value` (tags `key:value` or `key=value` match). */
    tags: TagsSchema.optional(),
    fingerprints: oneOrMany(ValueSchema).optional(),
  })
  .strict();

/** What a matcher accepts: each field one value or a list of them. */
export type MatcherInput = z.input<typeof MatcherSchema>;
/** A validated matcher: every field a list. */
export type Matcher = z.output<typeof MatcherSchema>;

/** The connector id, policy id and error code of an incident's trigger, when it has them. */
function triggerField(incident: Incident, object: string, key: string): string | null {
  const holder = incident.trigger[object];
  if (typeof holder !== "object" || holder === null || Array.isArray(holder)) return null;
  const value = (holder as Record<string, unknown>)[key];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : null;
}

const oneOf = (allowed: readonly string[] | undefined, value: string | null): boolean => allowed === undefined || (value !== null && allowed.includes(value));

/** Whether `incident` matches every field `matcher` gives. An empty matcher matches everything. */
export function matches(matcher: Matcher, incident: Incident): boolean {
  if (
    !oneOf(matcher.severities, incident.severity) ||
    !oneOf(matcher.kinds, incident.kind) ||
    !oneOf(matcher.agents, incident.agentId) ||
    !oneOf(matcher.environments, incident.environment) ||
    !oneOf(matcher.connectors, triggerField(incident, "connector", "id")) ||
    !oneOf(matcher.policies, triggerField(incident, "policy", "id")) ||
    !oneOf(matcher.errorCodes, triggerField(incident, "error", "code")) ||
    !oneOf(matcher.fingerprints, incident.fingerprint)
  ) {
    return false;
  }
  if (matcher.tags) {
    for (const [key, value] of Object.entries(matcher.tags)) {
      if (!incident.tags.includes(`${key}:${value}`) && !incident.tags.includes(`${key}=${value}`)) return false;
    }
  }
  return true;
}

/** Fields a group's `by` and an inhibition's `equal` may name. */
export const FIELD_PATHS = [
  "agentId",
  "environment",
  "kind",
  "severity",
  "fingerprint",
  "connector.id",
  "connector.provider",
  "error.code",
  "error.name",
  "policy.id",
  "action.type",
  "pattern",
] as const;
/** One of {@link FIELD_PATHS}: an incident field, or a field of its trigger such as `connector.id`. */
export type FieldPath = (typeof FIELD_PATHS)[number];

/** The value of a field path on an incident, or `null` when it has none. */
export function fieldOf(incident: Incident, path: FieldPath): string | null {
  switch (path) {
    case "agentId":
      return incident.agentId;
    case "environment":
    case "kind":
    case "severity":
    case "fingerprint":
      return incident[path];
    case "pattern": {
      const value = incident.trigger["pattern"];
      return typeof value === "string" ? value : null;
    }
    default: {
      const [object, key] = path.split(".") as [string, string];
      return triggerField(incident, object, key);
    }
  }
}
