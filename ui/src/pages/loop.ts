// The rest of the loop for one job: a soak's trends, a spike's recovery, an
// assessment of the autoscaled fleet — each with its verdict and arithmetic.
import { api, Assessment, Result, Soak, Spike } from "../api";
import { chart } from "../charts";
import { fmt, h, ms, pct } from "../dom";
import type { Page } from "../router";

// value formats a figure in its unit: bytes as KiB/MiB/GiB, ratios as %.
export function value(v: unknown, unit: string): string {
  if (typeof v !== "number" || !isFinite(v)) return "—";
  if (unit === "bytes") {
    const a = Math.abs(v);
    if (a >= 2 ** 30) return fmt(v / 2 ** 30, 2) + " GiB";
    if (a >= 2 ** 20) return fmt(v / 2 ** 20, 1) + " MiB";
    if (a >= 2 ** 10) return fmt(v / 2 ** 10, 1) + " KiB";
    return fmt(v, 0) + " B";
  }
  if (unit === "ratio") return pct(v);
  if (unit === "ms") return (v < 0 ? "−" : "") + ms(Math.abs(v));
  return (v < 0 ? "−" : "") + fmt(Math.abs(v), 1);
}

const badge = (verdict: string, good: boolean) =>
  h("span.badge", { "data-verdict": good ? "pass" : verdict === "not available" ? "generator-limited" : "fail" }, verdict);

function soakSection(s: Soak): HTMLElement {
  const rows = s.signals.map((g) =>
    h(
      "tr",
      { "data-signal": g.name },
      h("th", { scope: "row" }, g.name, g.resource ? "" : h("small.muted", " (reported)")),
      h("td", badge(g.verdict, g.verdict !== "leak")),
      h("td.num", g.verdict === "not available" ? "—" : value(g.slope_per_hour, g.unit) + "/h"),
      h("td.num", g.verdict === "not available" ? "—" : `${value(g.ci_low, g.unit)} – ${value(g.ci_high, g.unit)}`),
      h("td.num", value(g.level, g.unit)),
      h("td.num", g.verdict === "not available" ? "—" : `${value(g.growth, g.unit)} vs ${value(g.threshold, g.unit)}`),
      h("td.num", g.hours_to_limit ? `${fmt(g.hours_to_limit, 1)} h to ${value(g.limit, g.unit)}` : "—"),
      h("td", g.note ?? ""),
    ),
  );
  const sec = h(
    "section#soak",
    h("h2", "Soak ", badge(s.verdict, s.verdict === "flat")),
    h("p", `Held ${fmt(s.target)} for ${fmt((Date.parse(s.to) - Date.parse(s.from)) / 1000, 0)} s judged (warm-up left out). Slopes are Theil–Sen with Sen's 95% interval; a leak's growth must pass its threshold and go on in the last half.`),
    h(
      "table",
      h("thead", h("tr", ["Signal", "Verdict", "Slope", "95% CI", "Level", "Growth vs threshold", "Limit", "Note"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", rows),
    ),
  );
  const charts = h("div.grid2");
  for (const g of s.signals) {
    if (!g.samples?.length || !["memory", "heap", "goroutines", "open_files"].includes(g.name)) continue;
    // Bytes are drawn in MiB, so the axis reads.
    const scale = g.unit === "bytes" ? 2 ** 20 : 1;
    const unit = g.unit === "bytes" ? "MiB" : g.unit;
    const c = chart({ title: `${g.name} (${unit}) and its Theil–Sen trend`, y: unit, series: [{ label: g.name, width: 2 }, { label: "Theil–Sen", dash: [5, 4], color: "--fg-muted" }] });
    const t0 = Date.parse(g.samples[0].t) / 1000;
    const xs: number[] = g.samples.map((p) => Date.parse(p.t) / 1000);
    const ys: number[] = g.samples.map((p) => p.v / scale);
    const slope = g.slope_per_hour / scale / 3600;
    // The line's intercept as Theil–Sen's: the median of y − slope·x.
    const rest = xs.map((x, i) => ys[i] - slope * (x - t0)).sort((a, b) => a - b);
    const b = rest.length % 2 ? rest[(rest.length - 1) / 2] : (rest[rest.length / 2 - 1] + rest[rest.length / 2]) / 2;
    c.setData([xs, ys, xs.map((x) => b + slope * (x - t0))]);
    charts.append(c.el);
  }
  sec.append(charts);
  return sec;
}

function spikeSection(s: Spike): HTMLElement {
  const p = s.profile ?? {};
  const r = s.autoscaler;
  return h(
    "section#spike",
    h("h2", "Spike ", badge(s.verdict, s.recovered)),
    h("p.statement", s.statement),
    h(
      "div.tiles",
      tile("jump", `${fmt(p.baseline)} → ${fmt(p.peak)} it/s`),
      tile("worst second p99", ms(s.worst_second_p99_ms), `baseline ${ms(s.baseline_p99_ms)}`),
      tile("errors", `${s.errors} of ${s.requests}`, pct(s.error_rate)),
      tile("recovery", s.recovered ? `${s.recovery_s} s` : "not recovered", "after the drop"),
      r ? tile("autoscaler", r.decided_s != null ? `decided after ${fmt(r.decided_s, 0)} s` : "did not react", r.serving_s != null ? `serving after ${fmt(r.serving_s, 0)} s · ${fmt(r.before)} → ${fmt(r.most)}` : "") : null,
    ),
  );
}

function assessSection(a: Assessment): HTMLElement {
  const crossings = a.crossings.map((c) =>
    h("tr", h("td.num", `${fmt(c.at_s, 0)} s`), h("td.num", fmt(c.offered)), h("td.num", fmt(c.serving, 0)), h("td.num", c.lag_s != null ? `${fmt(c.lag_s, 0)} s` : "none")),
  );
  return h(
    "section#assess",
    h("h2", "Assess ", badge(a.verdict, a.verdict === "passed")),
    h("p.statement", a.statement),
    h(
      "div.tiles",
      tile("seconds missed", `${a.miss_count} of ${a.seconds}`),
      tile("longest lag", a.max_lag_s ? `${fmt(a.max_lag_s, 0)} s` : "—", "crossing → new capacity serving"),
      tile("most serving", `${fmt(a.most_serving, 0)} of ${a.max_instances}`),
      a.corrected ? tile("corrected threshold", `${fmt(a.corrected.autoscale_rps)} req/s`, `autoscale_at ${pct(a.corrected.autoscale_at, 0)}`) : null,
    ),
    h("h3", "Arithmetic"),
    h("ul.arith", a.arithmetic.map((l) => h("li", l))),
    crossings.length
      ? h("table", h("thead", h("tr", ["Crossing at", "Offered it/s", "Serving", "Lag"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", crossings))
      : null,
  );
}

function tile(label: string, v: string, sub = ""): HTMLElement {
  return h("div.tile", h("div.label", label), h("div.value", v), sub ? h("div.sub", sub) : null);
}

export const loopPage: Page = async (root, { id }) => {
  root.append(h("p", h("a", { href: `/jobs/${id}` }, `← Job #${id}`)), h("h1", `Soak, spike and assess · job #${id}`));
  let result: Result;
  try {
    result = await api(`/jobs/${id}/result`);
  } catch (e) {
    root.append(h("p.error", { role: "alert" }, (e as Error).message));
    return;
  }
  const parts = [result.soak && soakSection(result.soak), result.spike && spikeSection(result.spike), result.assess && assessSection(result.assess)].filter(Boolean);
  if (!parts.length) root.append(h("p", "This job has no soak, spike or assessment."));
  root.append(...(parts as HTMLElement[]));
};
