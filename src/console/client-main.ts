/**
 * The page script's start and its live updates: picks the view from the URL, and keeps it
 * current from the server's event stream without throwing away what the operator is typing.
 */
export const CLIENT_MAIN = String.raw`
async function main() {
  try {
    session = await api("/session");
  } catch (error) {
    show(el("h2", {}, "Incidents"), problem(message(error)));
    return;
  }
  document.getElementById("who").textContent = (session.actor.name || session.actor.id) + " · " + session.actor.role + " · " + session.actor.workspaceId;
  if (session.can.silence) document.getElementById("nav-silences").hidden = false;
  if (params.get("incident")) await detail(params.get("incident"));
  else if (params.get("view") === "review") await review();
  else if (params.get("view") === "silences") await silencesView();
  else await list();
  listen();
}

/** The review and the silences do not follow the incidents' changes. */
const stillView = () => !params.get("incident") && ["review", "silences"].includes(params.get("view"));

/** A view that failed to draw says so, instead of "Loading…" for ever. */
function failed(error) {
  show(el("h2", {}, "Something went wrong"), problem("This view could not be shown: " + (error && error.message ? error.message : "unknown error") + "."),
    el("p", {}, el("a", { href: href({}) }, "Show the incidents")));
}

/** Whether the operator has started filling in a form: a refresh would throw their input away. */
function editing() {
  return [...app.querySelectorAll("input, textarea, select")].some((x) =>
    x.type === "checkbox" ? x.checked !== x.defaultChecked
      : x.tagName === "SELECT" ? [...x.options].some((o) => o.selected !== o.defaultSelected)
      : x.type !== "hidden" && x.value !== x.defaultValue);
}

function changedNotice(id) {
  if (document.getElementById("changed")) return;
  app.prepend(el("p", { id: "changed", role: "status" }, "This incident changed since you opened it. ",
    el("button", { type: "button", onclick: () => refreshKeepingInput(id).catch(failed) }, "Show the latest")));
}

/**
 * Live updates. The header says "live" only while the stream is connected and the server is
 * reading changes: the server pings every 15 s, so silence means the connection is gone even when
 * the browser has not noticed (a laptop that slept, a proxy that dropped it).
 */
function listen() {
  if (!("EventSource" in window)) return;
  const live = document.getElementById("live");
  let source = null;
  let pending = null;
  let watchdog = null;
  /** Whether the view may have missed changes by the next connection (it was connected, or hidden, before). */
  let gap = false;
  const refresh = () => {
    const current = params.get("incident");
    clearTimeout(pending);
    pending = setTimeout(() => (current ? detail(current) : list()).catch(failed), 150);
  };
  /** After a gap (a reconnect, a hidden tab) changes may have been missed: show the latest. */
  const catchUp = () => {
    if (stillView()) return;
    const current = params.get("incident");
    if (editing()) return current ? changedNotice(current) : undefined;
    refresh();
  };
  const alive = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (source) source.close();
      live.textContent = "reconnecting…";
      connect();
    }, 40000);
  };
  const connect = () => {
    live.textContent = "connecting…";
    const mine = new EventSource(BASE + "/api/events");
    source = mine;
    mine.addEventListener("open", () => {
      live.textContent = "live";
      alive();
      if (gap) catchUp();
      gap = true;
    });
    mine.addEventListener("error", () => {
      if (source !== mine) return;
      clearTimeout(watchdog);
      // closed for good (signed out, or the server refused): say so instead of "reconnecting" forever
      live.textContent = mine.readyState === EventSource.CLOSED ? "not live: reload the page" : "reconnecting…";
    });
    mine.addEventListener("ping", alive);
    mine.addEventListener("state", (event) => {
      alive();
      const state = JSON.parse(event.data);
      live.textContent = state.live ? "live" : "not live: " + state.reason;
    });
    mine.addEventListener("change", (event) => {
      alive();
      const change = JSON.parse(event.data);
      const current = params.get("incident");
      if (stillView()) return;
      if (current && current !== change.id) return;
      if (current && shown && shown.version >= change.version) return; // already showing it (our own change)
      if (current && editing()) return changedNotice(current);
      refresh();
    });
  };
  // a hidden tab gives its connection back (browsers allow six per server), and catches up when shown
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      if (source) source.close();
      source = null;
      clearTimeout(watchdog);
      gap = true;
      live.textContent = "paused";
    } else if (!source) {
      connect();
    }
  });
  if (!document.hidden) connect();
}

main().catch(failed);
`;
