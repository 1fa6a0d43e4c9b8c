// The job page's agents: for a job run on `headroom agent` processes, one
// row per agent (its share, state, clock, what it sent) with the flags a
// person must see at once — generator-limited, an outlier against the
// fleet, an error — and how far apart the agents started.
import { api, Job, Schemas } from "../../api";
import { clear, fmt, h } from "../../dom";
import type { JobState } from "./state";

type JobAgent = Schemas["JobAgent"];

// asked is how many agents the job asked for (its settings.agents), 0 for a
// job run by the server itself.
const asked = (job: Job): number => {
  const n = (job.settings as { agents?: unknown } | undefined)?.agents;
  return typeof n === "number" && n > 0 ? n : 0;
};

// hasAgents tells whether the job runs on agents: it asked for some, or the
// API lists them (the list is absent while none has taken a share yet).
export const hasAgents = (job: Job): boolean => asked(job) > 0 || (job.agents?.length ?? 0) > 0;

// The badge colour of a share's state; the text always names the state.
const stateLook: Record<string, string> = { assigned: "queued", running: "running", done: "passed", lost: "failed", failed: "failed" };

// signed is a clock offset with its sign: "+0.12 ms", "−3.40 ms".
function signed(v: number): string {
  const s = Math.abs(v) < 10 ? Math.abs(v).toFixed(2) : Math.abs(v).toFixed(1);
  return (v < 0 ? "−" : "+") + s + " ms";
}

// spreadText is the start spread as a sentence.
export function spreadText(job: Job): string {
  const n = job.agents?.length || asked(job);
  const agents = `${n} agent${n === 1 ? "" : "s"}`;
  const sp = job.start_spread_ms;
  if (typeof sp !== "number") return `${agents} · start spread not measured yet`;
  return `${agents} · started within ${sp < 10 ? sp.toFixed(1) : fmt(sp)} ms of each other`;
}

function flags(a: JobAgent): HTMLElement | string {
  const out: HTMLElement[] = [];
  if (a.generator_limited)
    out.push(h("li", h("span.badge", { "data-flag": "generator-limited" }, "generator-limited"), ` ${fmt(a.dropped)} iterations dropped: the agent fell behind its share, not the service`));
  if (a.outlier) out.push(h("li", h("span.badge", { "data-flag": "outlier" }, "outlier"), " " + a.outlier));
  if (a.error) out.push(h("li", h("span.badge", { "data-flag": "error" }, "error"), " " + a.error));
  return out.length ? h("ul.flags", out) : h("span.muted", "none");
}

// renderAgents draws the Agents section into box, or empties it for a job
// not on agents.
export function renderAgents(box: HTMLElement, st: JobState): void {
  const job = st.job;
  if (!hasAgents(job)) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const agents = job.agents ?? [];
  clear(
    box,
    h("h2#agents-h", "Agents"),
    h("p.muted#agents-spread", spreadText(job)),
    agents.length === 0
      ? h("p.muted", st.finished ? "No agent took a share of this job." : `Waiting for ${asked(job) || "the"} agents to take their shares…`)
      : h(
          "table.list#agents-table",
          h("caption.sr", "Each agent's share of the job, its clock and what it sent"),
          h(
            "thead",
            h(
              "tr",
              ["Agent", "Share", "State", "Clock offset ± delay", "Requests", "Dropped", "Flags"].map((c, i) =>
                h("th", { scope: "col", class: i === 4 || i === 5 ? "num" : undefined }, c),
              ),
            ),
          ),
          h(
            "tbody",
            agents.map((a) =>
              h(
                "tr",
                { "data-agent": a.name, "data-state": a.state, "data-flagged": a.generator_limited || a.outlier || a.error ? "" : null },
                h("th", { scope: "row" }, a.name || `agent ${a.agent_id}`),
                h("td.share", `${a.index + 1} of ${a.count}`),
                h("td", h("span.badge", { "data-status": stateLook[a.state] ?? a.state }, a.state)),
                h("td.num", a.state === "assigned" && !a.delay_ms ? "—" : `${signed(a.offset_ms)} ± ${fmt(a.delay_ms, 2)} ms`),
                h("td.num.requests", fmt(a.requests)),
                h("td.num", fmt(a.dropped)),
                h("td", flags(a)),
              ),
            ),
          ),
        ),
  );
}

// followAgents re-reads the job every few seconds while it runs, so the
// agents' figures move with the stream; it returns the stop function.
export function followAgents(box: HTMLElement, st: JobState, everyMs = 2000): () => void {
  let timer: number | undefined;
  let stopped = false;
  const tick = async () => {
    if (stopped || st.closed || st.finished) return;
    try {
      const j = await api<Job>(`/jobs/${st.id}`);
      if (stopped || st.closed) return;
      st.job.agents = j.agents;
      st.job.start_spread_ms = j.start_spread_ms;
      renderAgents(box, st);
    } catch {
      /* keep the last known; the next tick tries again */
    }
    if (!stopped) timer = window.setTimeout(tick, everyMs);
  };
  timer = window.setTimeout(tick, everyMs);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
