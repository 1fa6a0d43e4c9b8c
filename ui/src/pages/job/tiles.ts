// The job page's summary tiles: the last second while it runs, the whole job once finished.
import { lat, Result } from "../../api";
import { clear, fmt, h, ms, pct } from "../../dom";
import type { JobState } from "./state";

const tile = (label: string, value: string) => h("div.tile", h("div.tlabel", label), h("div.tvalue", value));

export function renderTiles(tiles: HTMLElement, st: JobState): void {
  const s = st.job.summary ?? {};
  const finished = st.finished && Object.keys(s).length > 0;
  const tl = st.tl;
  const lastI = tl.length - 1;
  const v = (a: (number | null)[]) => (lastI >= 0 ? a[lastI] : null);
  const total = (a: (number | null)[]) => a.reduce<number>((x, y) => x + (y ?? 0), 0);
  const num = (k: string) => (s as Record<string, unknown>)[k] as number | undefined;
  clear(
    tiles,
    h("p.tnote", finished ? "Whole job" : "Last second"),
    tile("Throughput", (finished ? fmt(s.throughput_rps) : fmt(v(tl.all.rps))) + " req/s"),
    tile("p50", ms(finished ? lat(s, "p50") : v(tl.all.p50))),
    tile("p95", ms(finished ? lat(s, "p95") : v(tl.all.p95))),
    tile("p99", ms(finished ? lat(s, "p99") : v(tl.all.p99))),
    tile("Errors", finished ? `${fmt(s.errors)} (${pct(s.error_rate)})` : fmt(v(tl.all.errs)) + "/s"),
    tile("In flight", fmt(v(tl.inFlight))),
    tile("Dropped", fmt(finished ? num("dropped_iterations") : total(tl.dropped))),
  );
}

// renderSLO shows a finished run's objectives.
export function renderSLO(box: HTMLElement, result: Result): void {
  const slo = result.slo ?? [];
  if (!slo.length) return;
  clear(
    box,
    h("h2", "Objectives"),
    h(
      "table.list",
      h("thead", h("tr", ["Objective", "Threshold", "Measured", "Result"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        slo.map((o) =>
          h(
            "tr",
            h("th", { scope: "row" }, o.name),
            h("td", o.threshold),
            h("td.num", `${fmt(o.value, 2)} ${o.unit ?? ""}`),
            h("td", h("span.badge", { "data-verdict": o.pass ? "pass" : "fail" }, o.pass ? "pass" : "fail"), o.note ? " " + o.note : ""),
          ),
        ),
      ),
    ),
  );
}
