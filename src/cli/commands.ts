/**
 * The incident commands on an operator's `Operator`: what each asks of the public API, and what it
 * prints (text for a person, JSON for a script). `list --all` writes page by page, so an export of
 * any size is never held whole.
 */
import { SEVERITIES, type Incident, type ListedIncident, type ListQueryInput, type Operator, type Severity } from "agent-incidents";
import { listQuery, oneOf, resolution, statsPeriod, type ListValues, type ResolveValues } from "./flags.js";
import { badge, groupNumbers, groupText, quietText } from "./quiet.js";
import { header, row, showText, statsText, tag } from "./render.js";
import { planSilence, planSnooze, runSilence, runSnooze, silenceSummary, type NoiseValues } from "./silences.js";
import { cell, CliError, compactJson, UsageError } from "./text.js";

/** How many of a group's members `show` lists. */
const SHOWN_MEMBERS = 100;

export interface CommandValues extends ListValues, ResolveValues, NoiseValues {
  json?: boolean | undefined;
  reason?: string | undefined;
  title?: string | undefined;
  summary?: string | undefined;
  since?: string | undefined;
}

/** What a command prints: all at once, or (a long list) line by line through `write`. */
export type Output =
  /** `more`: the cursor of the next page, when there is one. */
  | { json: unknown; text: (color: boolean) => string; more?: string }
  | { stream: (write: (line: string) => void, color: boolean) => Promise<void> };

/** Checks a command's values before the database is opened: usage errors first (exit 2). */
export function checkValues(command: string, args: readonly string[], values: CommandValues): void {
  if (command === "list") listQuery(values);
  if (command === "resolve") resolution(values);
  if (command === "stats") statsPeriod(values.since, Date.now());
  if (command === "silence") planSilence(args, values, Date.now());
  if (command === "snooze") planSnooze(values, Date.now());
  if (command === "severity") {
    oneOf("LEVEL", args[1]!, SEVERITIES);
    if (values.reason === undefined) throw new UsageError("severity needs --reason TEXT");
  }
  if (command === "escalate") {
    if (values.title === undefined || values.severity === undefined) throw new UsageError("escalate needs --title TEXT and --severity LEVEL");
    oneOf("--severity", values.severity, SEVERITIES);
  }
}

export async function execute(command: string, args: readonly string[], values: CommandValues, ops: Operator): Promise<Output> {
  const changed = (incident: Incident): Output => ({ json: incident, text: (color) => `${tag(incident, color)} is ${incident.status} (version ${incident.version})` });
  const id = async () => resolveId(ops, args[0]!);
  switch (command) {
    case "list": {
      const { query, all } = listQuery(values);
      if (all) return { stream: (write, color) => everyPage(ops, query, values.json === true, write, color) };
      const page = await ops.list(query);
      const groups = await groupNumbers(ops, page.items);
      const now = Date.now();
      return {
        json: page,
        text: (color) => (page.items.length === 0 ? "no incidents match" : [header(color), ...page.items.map((i) => row(i, color, badge(i.quiet, now, groups)))].join("\n")),
        ...(page.nextCursor ? { more: page.nextCursor } : {}),
      };
    }
    case "show":
      return show(ops, await id());
    case "silence":
      return runSilence(planSilence(args, values, Date.now()), ops, (name) => resolveId(ops, name));
    case "snooze":
      return runSnooze(planSnooze(values, Date.now()), ops, await id());
    case "ack":
      return changed(await ops.acknowledge(await id()));
    case "investigate":
      return changed(await ops.startInvestigating(await id()));
    case "assign":
      return changed(await ops.assign(await id(), args[1] === "-" ? null : args[1]!));
    case "note":
      return changed(await ops.addNote(await id(), args[1]!));
    case "severity":
      return changed(await ops.setSeverity(await id(), args[1] as Severity, values.reason!));
    case "resolve":
      return changed(await ops.resolve(await id(), resolution(values)));
    case "reopen":
      return changed(await ops.reopen(await id(), values.reason));
    case "escalate": {
      const incident = await ops.escalate({
        title: values.title!,
        severity: values.severity as Severity,
        ...(values.summary ? { summary: values.summary } : {}),
        ...(values.agent ? { agentId: values.agent } : {}),
      });
      return { json: incident, text: (color) => `escalated: ${tag(incident, color)} ${cell(incident.title, 200).trimEnd()}` };
    }
    case "stats": {
      const period = statsPeriod(values.since, Date.now());
      const stats = await ops.stats(period.since === null ? {} : { since: period.since });
      return { json: stats, text: () => statsText(stats, period.label) };
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

/** One incident: its context, why it is quiet, and a group's members (in the JSON too, as `quiet` and `members`). */
async function show(ops: Operator, incidentId: string): Promise<Output> {
  const [context, detail] = await Promise.all([ops.context(incidentId), ops.get(incidentId)]);
  const members = detail.kind === "group" ? await ops.list({ group: detail.id, sort: "recency", limit: SHOWN_MEMBERS }) : null;
  const groups = await groupNumbers(ops, [detail, ...(members?.items ?? [])]);
  const silence = detail.quiet?.kind === "silenced" ? await silenceSummary(ops, detail.quiet.silenceId) : "";
  const now = Date.now();
  return {
    json: { ...context, quiet: detail.quiet, ...(members ? { members: members.items } : {}) },
    text: (color) =>
      showText(context, color, {
        quiet: quietText(detail, detail.quiet, now, groups, silence),
        group: groupText(detail),
        members: members && {
          // "grouped in" this group goes without saying here
          rows: members.items.map((m) => row(m, color, m.quiet?.kind === "grouped" && m.quiet.groupId === detail.id ? "" : badge(m.quiet, now, groups))),
          more: members.nextCursor ? Math.max(1, detail.occurrences - members.items.length) : 0,
        },
      }),
  };
}

/** Every match, page after page: NDJSON (one incident per line) with --json, else one table. */
async function everyPage(ops: Operator, query: ListQueryInput, json: boolean, write: (line: string) => void, color: boolean): Promise<void> {
  let cursor = query.cursor;
  let first = true;
  const groups = new Map<string, string>();
  const now = Date.now();
  const line = (i: ListedIncident) => (json ? compactJson(i) : row(i, color, badge(i.quiet, now, groups)));
  do {
    const page = await ops.list({ ...query, ...(cursor ? { cursor } : {}) });
    if (first && !json) write(page.items.length === 0 ? "no incidents match\n" : `${header(color)}\n`);
    first = false;
    if (!json) await groupNumbers(ops, page.items, groups);
    if (page.items.length > 0) write(`${page.items.map(line).join("\n")}\n`);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** An incident by id, or by number (42 or #42) in the actor's workspace. */
async function resolveId(ops: Operator, name: string): Promise<string> {
  const number = /^#?(\d{1,15})$/.exec(name);
  if (!number) return name;
  const wanted = Number(number[1]);
  let cursor: string | undefined;
  do {
    // group members too: they are incidents of their own, named by their number
    const page = await ops.list({ sort: "recency", limit: 500, members: true, ...(cursor ? { cursor } : {}) });
    const found = page.items.find((i) => i.number === wanted);
    if (found) return found.id;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  throw new CliError(`no incident #${wanted} in workspace ${ops.actor.workspaceId}`);
}
