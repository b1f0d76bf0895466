/**
 * `--match key=value[,value]`: a silence's matcher as an operator types it, and as the CLI writes
 * it back (`agent=agt_1 connector=con_openai`). Keys are looked up in a `Map` and tags built in a
 * null-prototype object, so `__proto__` is only ever a name that is refused or a tag that is kept.
 */
import { EnvironmentSchema, KINDS, SEVERITIES, type Matcher, type MatcherInput } from "agent-incidents";
import { didYouMean, plain, UsageError } from "./text.js";
import { oneOf, shortValue } from "./flags.js";

type Field = Exclude<keyof MatcherInput, "tags">;
interface Key {
  field: Field | "tags";
  /** The longest value the library takes (it would refuse a longer one after the database is open). */
  max: number;
  allowed?: readonly string[];
}

const ENVIRONMENTS = EnvironmentSchema.options;
const VALUE = 1000;
const KEYS = new Map<string, Key>([
  ["severity", { field: "severities", max: VALUE, allowed: SEVERITIES }],
  ["kind", { field: "kinds", max: VALUE, allowed: KINDS }],
  ["agent", { field: "agents", max: 200 }],
  ["environment", { field: "environments", max: VALUE, allowed: ENVIRONMENTS }],
  ["connector", { field: "connectors", max: VALUE }],
  ["policy", { field: "policies", max: VALUE }],
  ["error-code", { field: "errorCodes", max: VALUE }],
  ["tag", { field: "tags", max: 100 }],
  ["fingerprint", { field: "fingerprints", max: VALUE }],
]);
/** The plural spellings (`severities=`, `agents=`) name the same fields. */
const PLURALS = new Map([["severities", "severity"], ["kinds", "kind"], ["agents", "agent"], ["environments", "environment"], ["connectors", "connector"], ["policies", "policy"], ["error-codes", "error-code"], ["tags", "tag"], ["fingerprints", "fingerprint"]]);
/** Values per field, as the library allows. */
const MAX_VALUES = 100;

/** The matcher that `--match` flags (each `key=value[,value]`) describe; a usage error names the flag that is wrong. */
export function parseMatch(flags: readonly string[] | undefined): MatcherInput {
  if (!flags || flags.length === 0) throw new UsageError("silence add needs --match key=value (agent, connector, severity, kind, environment, policy, error-code, tag, fingerprint)");
  const lists = new Map<Field, string[]>();
  const tags: Record<string, string> = Object.create(null);
  let tagCount = 0;
  for (const flag of flags) {
    const at = flag.indexOf("=");
    const name = at < 0 ? flag : flag.slice(0, at);
    const key = KEYS.get(PLURALS.get(name) ?? name);
    if (!key) throw new UsageError(`--match ${shortValue(name)}: unknown key; use one of ${[...KEYS.keys()].join(", ")}${didYouMean(name, [...KEYS.keys()])}`);
    const values = at < 0 ? [] : flag.slice(at + 1).split(",").map((v) => v.trim()).filter(Boolean);
    if (values.length === 0) throw new UsageError(`--match ${name}= needs a value, like ${name}=${key.field === "tags" ? "provider:openai" : (key.allowed?.[0] ?? "x")}`);
    for (const value of values) {
      if (value.length > key.max) throw new UsageError(`--match ${name}: a value may be at most ${key.max} characters, not ${value.length} (${shortValue(value)})`);
      if (key.allowed) oneOf(`--match ${name}`, value, key.allowed);
    }
    if (key.field === "tags") {
      for (const value of values) {
        const colon = value.indexOf(":");
        const tag = colon > 0 ? value.slice(0, colon).trim() : "";
        const tagValue = colon > 0 ? value.slice(colon + 1).trim() : "";
        if (!tag || !tagValue) throw new UsageError(`--match tag=${shortValue(value)}: write a tag as name:value, like tag=provider:openai`);
        if (!(tag in tags)) tagCount++;
        tags[tag] = tagValue;
      }
      if (tagCount > 50) throw new UsageError("--match tag: at most 50 tags");
      continue;
    }
    const list = lists.get(key.field) ?? [];
    for (const value of values) if (!list.includes(value)) list.push(value);
    if (list.length > MAX_VALUES) throw new UsageError(`--match ${name}: at most ${MAX_VALUES} values`);
    lists.set(key.field, list);
  }
  const matcher: MatcherInput = {};
  for (const [field, values] of lists) Object.assign(matcher, { [field]: values });
  if (tagCount > 0) matcher.tags = tags;
  return matcher;
}

/** A matcher as the operator would type it: `agent=agt_1,agt_2 connector=con_openai tag=provider:openai`. */
export function matchText(matcher: Matcher): string {
  const quote = (value: string) => {
    const cut = value.length > 60 ? `${value.slice(0, 59)}…` : value;
    return /[\s,="]/.test(cut) || cut === "" ? JSON.stringify(cut) : cut;
  };
  const parts: string[] = [];
  // in the order of KEYS, whatever order the store gave the fields back in (jsonb sorts them)
  for (const [name, { field }] of KEYS) {
    const value = matcher[field];
    if (value === undefined) continue;
    const values = field === "tags" ? Object.entries(value as Record<string, string>).map(([k, v]) => `${k}:${v}`) : (value as string[]);
    if (values.length > 0) parts.push(`${name}=${values.map(quote).join(",")}`);
  }
  return plain(parts.join(" ")) || "everything";
}
