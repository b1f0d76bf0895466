/**
 * The console page: one HTML document with its CSS and script inline (allowed by a per-response
 * nonce, nothing from another origin). The script builds every element with `textContent`, so a
 * string from an agent is always shown as text, never parsed as HTML. The script's parts live in
 * the `client-*.ts` files, one per view, and are joined into one inline script here.
 */
import { CLIENT_BASE } from "./client-base.js";
import { CLIENT_DETAIL } from "./client-detail.js";
import { CLIENT_LIST } from "./client-list.js";
import { CLIENT_MAIN } from "./client-main.js";
import { CLIENT_NOISE } from "./client-noise.js";
import { CLIENT_REVIEW } from "./client-review.js";
import { CLIENT_SILENCES } from "./client-silences.js";

const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: #777; --critical: #c0262d; --high: #d9651b; --medium: #b58a00; --low: #4a7bb7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; overflow-wrap: break-word; }
header { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; align-items: baseline; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.1rem; margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 100%; }
header nav { display: flex; gap: 1rem; white-space: nowrap; }
header .who { margin-left: auto; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
header .live { white-space: nowrap; }
main { padding: 1rem 1.25rem; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
time { white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
td .label { display: none; }
.sev { display: inline-block; min-width: 4.8rem; padding: 0 .4rem; border-radius: 3px; color: #fff; font-weight: 600; text-align: center; }
.sev.critical { background: var(--critical); } .sev.high { background: var(--high); } .sev.medium { background: var(--medium); } .sev.low { background: var(--low); }
form.inline { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin: .75rem 0; }
form.filters a.clear { align-self: center; }
label { display: flex; flex-direction: column; gap: .15rem; font-size: .85rem; }
label.check { flex-direction: row; align-items: center; gap: .35rem; }
input, select, textarea, button { font: inherit; max-width: 100%; }
button { padding: .3rem .8rem; cursor: pointer; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
.form-status { flex-basis: 100%; }
.form-status:empty { display: none; }
.error { color: var(--critical); font-weight: 600; margin: .25rem 0; }
.muted { color: var(--muted); }
.notice { border-left: 3px solid var(--medium); padding: 0 .75rem; margin: .5rem 0; }
.notice p { margin: .3rem 0; }
.empty { font-weight: 600; }
.counts { display: flex; gap: 1rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
.counts div { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .7rem; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem 1rem; }
dt { color: var(--muted); }
dd { margin: 0; min-width: 0; }
pre { white-space: pre-wrap; word-break: break-word; background: #8881; padding: .5rem; border-radius: 4px; }
li.trigger { font-weight: 700; }
.bars { display: grid; grid-template-columns: max-content 1fr max-content; gap: .25rem .75rem; align-items: center; margin-bottom: 1rem; }
.bar { height: .9rem; background: var(--low); border-radius: 2px; }
section { margin: 1.25rem 0; }
h2 { font-size: 1.2rem; } h3 { font-size: 1rem; margin-bottom: .4rem; }
.live { font-size: .8rem; color: var(--muted); }
.badge { display: inline-block; max-width: 24rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; margin: 0 0 0 .4rem; padding: 0 .45rem; border: 1px solid var(--line); border-radius: 999px; font-size: .8rem; font-weight: 600; color: inherit; background: #8881; }
p.badges .badge { margin: 0 .4rem 0 0; }
.badge.group { border-color: var(--low); } .badge.silenced, .badge.snoozed, .badge.inhibited, .badge.held, .badge.grouped { color: var(--muted); } .badge.flapping { border-color: var(--medium); }
.badge.active { border-color: var(--low); } .badge.expired { color: var(--muted); }
p.badges { margin: -.5rem 0 .5rem; }
details > summary { cursor: pointer; font-weight: 600; margin: .5rem 0; }
@media (max-width: 640px) {
  header { padding: .5rem .75rem; gap: .1rem .6rem; }
  header nav { gap: .6rem; }
  header .who { margin-left: 0; flex: 0 1 auto; }
  main { padding: .75rem; }
  dl { gap: .15rem .75rem; }
  .counts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .5rem; }
  .counts .breakdown { display: none; }
  .counts div { padding: .3rem .5rem; font-size: .9rem; min-width: 0; }
  .sev { min-width: 4.2rem; }
  table.cards, table.cards tbody, table.cards caption { display: block; }
  table.cards thead { display: none; }
  table.cards caption { text-align: left; }
  table.cards tr { display: flex; flex-wrap: wrap; gap: 0 .6rem; border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; padding: .35rem .6rem; }
  table.cards td { flex: 1 1 100%; border: 0; padding: .1rem 0; display: flex; gap: .5rem; align-items: baseline; }
  table.cards td.inline { flex: 0 0 auto; }
  table.cards td .label { display: inline; flex: 0 0 6.5rem; color: var(--muted); }
  table.cards td.inline .label, table.cards td.title .label { display: none; }
  table.cards td.title, table.cards td.what { font-weight: 600; }
  table.cards td.blank { display: none; }
  table.cards code { overflow-wrap: anywhere; min-width: 0; }
}
`;

/** The client, one script: reads the URL, calls the JSON API, renders with DOM methods only. */
const SCRIPT = [CLIENT_BASE, CLIENT_NOISE, CLIENT_LIST, CLIENT_DETAIL, CLIENT_REVIEW, CLIENT_SILENCES, CLIENT_MAIN].join("\n");

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function consolePage(options: { nonce: string; title: string; base: string }): string {
  const { nonce, title, base } = options;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-base="${escapeHtml(base)}">
<header><h1>${escapeHtml(title)}</h1><nav aria-label="Views"><a href="${escapeHtml(base || "/")}">Incidents</a><a href="${escapeHtml(base || "")}?view=review">Review</a><a href="${escapeHtml(base || "")}?view=silences" id="nav-silences" hidden>Silences</a></nav><span class="who" id="who"></span><span class="live" id="live" aria-live="polite"></span></header>
<main id="app"><p class="muted">Loading…</p></main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
