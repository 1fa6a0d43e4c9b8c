import type { Job, Step } from "../api";
import { lat } from "../api";
import { fmt, h, ms, pct } from "../dom";
import { verdictBadge } from "./jobs";

const SEARCH = new Set(["baseline", "explore", "search"]);

// bracket is what the search knows so far: the highest acceptable and the
// lowest unacceptable rate of the single-instance steps.
export function bracket(steps: Step[]): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (const s of steps) {
    if (!SEARCH.has(s.phase)) continue;
    if (s.verdict === "acceptable") lo = Math.max(lo, s.rate ?? 0);
    if (s.verdict === "unacceptable") hi = hi ? Math.min(hi, s.rate ?? hi) : s.rate ?? 0;
  }
  return { lo, hi };
}

const startOf = (s: Step) => {
  const t = typeof s.start === "string" && !s.start.startsWith("0001-") ? Date.parse(s.start) : NaN;
  return isNaN(t) ? Infinity : t;
};

// inOrderRun sorts steps by when they started; steps without a start keep
// their place after those with one (the server lists them as stored).
export function inOrderRun(steps: Step[]): Step[] {
  return steps.map((s, i) => ({ s, i })).sort((a, b) => startOf(a.s) - startOf(b.s) || a.i - b.i).map((x) => x.s);
}

// byPhase groups steps by phase, the phases in the order they first ran.
export function byPhase(steps: Step[]): { phase: string; steps: Step[] }[] {
  const out: { phase: string; steps: Step[] }[] = [];
  for (const s of inOrderRun(steps)) {
    const phase = String(s.phase ?? "");
    const g = out.find((x) => x.phase === phase);
    if (g) g.steps.push(s);
    else out.push({ phase, steps: [s] });
  }
  return out;
}

const COLUMNS = ["Step", "Phase", "Rate it/s", "Offered", "Throughput req/s", "p50", "p95", "p99", "Errors", "In flight", "Verdict"];

// ladder renders a study's steps grouped by phase in the order they ran, with the bracket narrowing.
export function ladder(steps: Step[], job: Pick<Job, "status">, live?: { lo: number; hi: number }): HTMLElement {
  const groups = byPhase(steps);
  const sorted = groups.flatMap((g) => g.steps);
  const fromSteps = bracket(sorted);
  // The search's own bracket (from its phase events) when it is newer.
  const lo = Math.max(fromSteps.lo, live?.lo ?? 0);
  const hi = live?.hi && (!fromSteps.hi || live.hi < fromSteps.hi) ? live.hi : fromSteps.hi;
  const maxRate = Math.max(1, ...sorted.map((s) => s.rate ?? 0), hi) * 1.1;
  const scale = (v: number) => `${Math.min(100, (v / maxRate) * 100).toFixed(2)}%`;
  const bar = h(
    "div.bracket",
    { role: "img", "aria-label": `Capacity bracket: acceptable up to ${fmt(lo)}/s, unacceptable from ${hi ? fmt(hi) + "/s" : "not found yet"}` },
    h("div.bracket-ok", { style: { width: scale(lo) } }),
    hi ? h("div.bracket-gap", { style: { left: scale(lo), width: `calc(${scale(hi)} - ${scale(lo)})` } }) : null,
    ...sorted.filter((s) => SEARCH.has(s.phase)).map((s) => h("div.tick", { "data-verdict": s.verdict, style: { left: scale(s.rate ?? 0) }, title: `step ${s.index}: ${fmt(s.rate)}/s ${s.verdict}` })),
  );
  const running = job.status === "running";
  return h(
    "div",
    h("h2", "Step ladder"),
    h(
      "p",
      { id: "bracket" },
      lo || hi
        ? [`Acceptable up to `, h("strong", fmt(lo) + " it/s"), hi ? [`, unacceptable from `, h("strong", fmt(hi) + " it/s")] : ", no unacceptable step yet", hi && lo ? ` (bracket ${fmt(hi - lo)} it/s wide)` : ""]
        : running
          ? "The search has not finished a step yet."
          : "No search steps.",
    ),
    bar,
    h(
      "table.list.ladder",
      h("caption.sr", "Study steps, by phase in the order they ran"),
      h("thead", h("tr", COLUMNS.map((c) => h("th", { scope: "col" }, c)))),
      groups.length
        ? groups.map((g) =>
            h(
              "tbody",
              { "data-phase": g.phase },
              h("tr.phase-head", h("th", { scope: "colgroup", colspan: COLUMNS.length }, `${g.phase || "steps"} (${g.steps.length})`)),
              g.steps.map((s) =>
                h(
                  "tr.step",
                  { "data-verdict": s.verdict, "data-phase": g.phase },
                  h("td.num", s.index),
                  h("td", s.phase),
                  h("td.num", fmt(s.rate)),
                  h("td.num", fmt(s.offered)),
                  h("td.num", fmt(s.throughput)),
                  h("td.num", ms(lat(s, "p50"))),
                  h("td.num", ms(lat(s, "p95"))),
                  h("td.num", ms(lat(s, "p99"))),
                  h("td.num", pct(s.error_rate)),
                  h("td.num", fmt(s.in_flight)),
                  h("td", verdictBadge(s.verdict), s.reasons?.length ? h("div.small.muted", s.reasons.join("; ")) : null),
                ),
              ),
            ),
          )
        : h("tbody", h("tr", h("td", { colspan: COLUMNS.length }, "No step finished yet."))),
    ),
  );
}
