/**
 * The page script's review: MTTA, MTTR, the systemic share and the breakdowns over a period. A
 * period the review does not offer (a mistyped or hand-made link) falls back to the default and
 * says so; an empty breakdown says "none yet" instead of drawing nothing.
 */
export const CLIENT_REVIEW = String.raw`
const PERIODS = [["7", "last 7 days"], ["30", "last 30 days"], ["90", "last 90 days"], ["all", "all time"]];
const DEFAULT_PERIOD = "30";

function bars(title, entries) {
  const max = Math.max(1, ...entries.map((e) => e[1]));
  if (entries.every((e) => e[1] === 0)) return el("section", {}, el("p", { class: "muted" }, title + ": none yet."));
  return el("section", {}, el("h3", {}, title), el("div", { class: "bars", role: "list" },
    entries.map(([name, n]) => [el("span", { role: "listitem" }, name), el("div", { class: "bar", "data-width": Math.round((n / max) * 100) }), el("span", {}, n)])));
}

async function review() {
  const given = params.get("since");
  const since = PERIODS.some((p) => p[0] === given) ? given : DEFAULT_PERIOD;
  const notes = given !== null && given !== since
    ? ["Period " + say(given) + " is not one the review offers (7, 30 or 90 days, or all time): showing the " + PERIODS.find((p) => p[0] === since)[1] + "."]
    : [];
  const sinceIso = since === "all" ? null : new Date(Date.now() - Number(since) * 86400000).toISOString();
  let s;
  try { s = await api("/stats" + (sinceIso ? "?since=" + encodeURIComponent(sinceIso) : "")); } catch (error) { show(el("h2", {}, "Review"), notices(notes), problem(message(error))); return; }
  const period = el("form", { class: "inline", method: "get" }, el("input", { type: "hidden", name: "view", value: "review" }),
    select("since", "Period", PERIODS, since, null),
    el("button", { type: "submit" }, "Show"));
  const times = (m, done) => (m.meanMs === null ? "none " + done + " yet" : duration(m.meanMs) + " mean, " + duration(m.medianMs) + " median");
  const share = s.systemic.share === null ? "no resolved incidents" : Math.round(s.systemic.share * 100) + "% of " + s.systemic.resolved + " resolved";
  const recurring = s.topRecurring.length === 0 ? el("section", {}, el("p", { class: "muted" }, "Top recurring: none yet.")) : el("section", {}, el("h3", {}, "Top recurring"), el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, ["Title", "Fingerprint", "Incidents", "Occurrences"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, s.topRecurring.map((t) => el("tr", {}, cell("Title", "title", t.title), cell("Fingerprint", null, el("code", {}, t.fingerprint)), cell("Incidents", null, t.incidents), cell("Occurrences", null, t.occurrences))))));
  show(el("h2", {}, "Review"), notices(notes), period,
    el("dl", {}, el("dt", {}, "Incidents"), el("dd", {}, s.total + " (" + s.unresolved + " unresolved)"),
      el("dt", {}, "MTTA"), el("dd", {}, times(s.mtta, "acknowledged")),
      el("dt", {}, "MTTR"), el("dd", {}, times(s.mttr, "resolved")),
      el("dt", {}, "Systemic"), el("dd", {}, share)),
    bars("By severity", Object.entries(s.bySeverity)),
    bars("By kind", Object.entries(s.byKind).filter((e) => e[1] > 0)),
    bars("By agent", Object.entries(s.byAgent).sort((a, b) => b[1] - a[1]).slice(0, 15)),
    bars("Root causes", Object.entries(s.rootCauses).sort((a, b) => b[1] - a[1])),
    recurring);
  // widths through the CSSOM: the policy allows no inline style attributes
  for (const bar of document.querySelectorAll(".bar")) bar.style.width = bar.dataset.width + "%";
}
`;
