import uPlot from "uplot";
import { api, FINISHED, Get, Job, lat, Result, Schemas, Step } from "../api";
import { chart, Chart, Data } from "../charts";
import { dur, fmt, h, ms, pct } from "../dom";
import type { Page } from "../router";
import { readiness, statusBadge } from "./jobs";
import { ladder } from "./ladder";

// usl is X(N) = λN / (1 + σ(N−1) + κN(N−1)).
export function usl(n: number, u: { lambda: number; sigma: number; kappa: number }): number {
  return (u.lambda * n) / (1 + u.sigma * (n - 1) + u.kappa * n * (n - 1));
}

export const studyPage: Page = async (root, { id }) => {
  let job: Job;
  try {
    job = await api<Job>(`/jobs/${id}`);
  } catch (e) {
    root.append(h("h1", `Study #${id}`), h("p.error", { role: "alert" }, (e as Error).message));
    return;
  }
  root.append(
    h("h1", `Study #${id} `, statusBadge(job.status), " ", readiness(job)),
    h("p", h("a", { href: `/jobs/${id}` }, "Live view and seconds"), " · ", h("a", { href: `/jobs/${id}/findings` }, "Findings")),
  );
  if (job.summary?.readiness) root.append(h("p#readiness", { "data-ready": String(job.summary.ready) }, job.summary.readiness));
  if (job.kind !== "study") {
    root.append(h("p", "This job is a run, not a study."));
    return;
  }
  let st: Result;
  try {
    st = await api<Result>(`/jobs/${id}/result`);
  } catch (e) {
    if (!FINISHED.has(job.status)) {
      // Still running: the ladder from /steps is what there is.
      const d = await api<Get<"/jobs/{id}/steps">>(`/jobs/${id}/steps`).catch(() => ({ steps: [] }));
      root.append(h("p.muted", "The study is still running; its analysis appears when it ends."), ladder(d.steps ?? [], job));
      return;
    }
    root.append(h("p.error", { role: "alert" }, "No study result: " + (e as Error).message));
    return;
  }
  const charts: Chart[] = [];
  const cap: Schemas["Bounds"] = st.capacity ?? {};
  const rpi: number = cap.requests_per_iteration || 1;
  const search: Step[] = (st.steps ?? []).filter((s) => s.throughput > 0 || s.offered > 0);
  const byOffered = [...search].sort((a, b) => a.offered - b.offered);

  // Capacity headline.
  root.append(
    h(
      "section.tiles",
      { "aria-label": "Capacity" },
      tile("Single-instance capacity", `${cap.at_least ? "≥ " : ""}${fmt(cap.single_instance_rps)} req/s`, `${fmt(cap.single_instance_rate)} it/s`),
      tile("Unacceptable from", cap.unacceptable_rps ? `${fmt(cap.unacceptable_rps)} req/s` : "not found", cap.limited_by ? `limited by ${cap.limited_by}` : ""),
      cap.required_rps ? tile("Required", `${fmt(cap.required_rps)} req/s`, cap.required_met ? "met" : "not met") : null,
      tile("Under load", dur(st.load_s), `${fmt(st.requests_sent)} requests`),
    ),
  );

  // Throughput vs offered load, with the line a service that keeps up follows.
  const tp = chart(
    {
      title: "Throughput vs offered load (req/s)",
      time: false,
      x: "offered req/s",
      y: "req/s",
      height: 260,
      series: [
        { label: "throughput", color: "--c2", points: true },
        { label: "goodput", color: "--c4", points: true },
        { label: "keeps up (y = x)", color: "--fg-muted", dash: [4, 4] },
      ],
    },
    [byOffered.map((s) => s.offered * rpi), byOffered.map((s) => s.throughput), byOffered.map((s) => s.goodput), byOffered.map((s) => s.offered * rpi)] as Data,
  );
  // Latency vs load.
  const lv = chart(
    {
      title: "Latency vs offered load (ms)",
      time: false,
      x: "offered req/s",
      y: "ms",
      height: 260,
      series: [
        { label: "p50", color: "--c2" },
        { label: "p95", color: "--c3" },
        { label: "p99", color: "--c1", width: 2 },
      ],
    },
    [byOffered.map((s) => s.offered * rpi), byOffered.map((s) => lat(s, "p50") ?? null), byOffered.map((s) => lat(s, "p95") ?? null), byOffered.map((s) => lat(s, "p99") ?? null)] as Data,
  );
  // Throughput vs concurrency with the USL curve.
  const u: Schemas["Scalability"] = st.usl ?? {};
  const inFlight = (s: Step) => s.in_flight ?? 0;
  const pts = [...search].filter((s) => inFlight(s) > 0).sort((a, b) => inFlight(a) - inFlight(b));
  const maxN = Math.max(1, ...pts.map(inFlight)) * 1.4;
  const grid = Array.from({ length: 60 }, (_, i) => (maxN * (i + 1)) / 60);
  const measured: uPlot.AlignedData = [pts.map(inFlight), pts.map((s) => s.throughput)];
  const curve: uPlot.AlignedData = [grid, grid.map((n) => (u.reported ? usl(n, { lambda: u.lambda ?? NaN, sigma: u.sigma ?? NaN, kappa: u.kappa ?? NaN }) : null)) as number[]];
  const joined = uPlot.join([measured, curve]);
  const uc = chart(
    {
      title: "Throughput vs concurrency, with the USL fit",
      time: false,
      x: "mean concurrency N",
      y: "req/s",
      height: 260,
      series: [
        { label: "measured", color: "--c2", points: true },
        { label: u.reported ? `USL λ=${fmt(u.lambda, 2)} σ=${fmt(u.sigma, 3)} κ=${fmt(u.kappa, 4)}` : "USL (refused)", color: "--c3", width: 2 },
      ],
    },
    joined,
  );
  charts.push(tp, lv, uc);
  root.append(
    h("section", h("h2", "Load and latency"), h("div.grid2", tp.el, lv.el)),
    h(
      "section",
      h("h2", "Scalability"),
      uc.el,
      h(
        "p",
        { id: "usl" },
        u.reported
          ? `USL fit over ${u.points} points, R² ${fmt(u.r2, 3)}; ${u.peak_concurrency ? `throughput peaks at ${fmt(u.peak_throughput_rps)} req/s at N≈${fmt(u.peak_concurrency)}` : `throughput approaches ${fmt(u.ceiling_rps)} req/s`}.`
          : `USL not reported: ${u.refused || "no fit"}.`,
      ),
      st.littles_law?.statement ? h("p", "Little's Law: ", st.littles_law.statement) : null,
    ),
  );

  // Predicted vs verified.
  const p: Schemas["Prediction"] = st.prediction ?? {};
  const maxBar = Math.max(p.predicted_rps || 0, p.measured_rps || 0, 1);
  const barRow = (label: string, v: number | null | undefined, cls: string) =>
    h(
      "div.barrow",
      h("span.barlabel", label),
      h("div.bartrack", h(`div.${cls}` as "div", { style: { width: `${((v ?? 0) / maxBar) * 100}%` } })),
      h("span.num", v == null ? "not verified" : fmt(v) + " req/s"),
    );
  root.append(
    h(
      "section",
      { id: "prediction" },
      h("h2", `${p.instances ?? "N"} instances: predicted vs verified`),
      barRow("predicted", p.predicted_rps, "bar-pred"),
      barRow("verified", p.measured_rps, "bar-meas"),
      h("p", p.ratio != null ? `measured / predicted = ${fmt(p.ratio, 2)}. ` : "", p.statement ?? ""),
    ),
  );

  // Stress and recovery.
  const s: Schemas["Recovery"] = st.stress ?? {};
  root.append(
    h(
      "section",
      { id: "stress" },
      h("h2", "Stress and recovery"),
      s.skipped
        ? h("p", "Not run: ", s.skipped)
        : [
            h(
              "dl.meta",
              h("dt", "Stress rate"),
              h("dd", `${fmt(s.rate)} it/s for ${dur(s.hold_s)}`),
              h("dt", "Throughput"),
              h("dd", `${fmt(s.throughput_rps)} req/s, errors ${pct(s.error_rate)}`),
              h("dt", "Worst second p99"),
              h("dd", ms(s.worst_second_p99_ms)),
              h("dt", "Recovery"),
              h("dd", s.recovered ? `${s.recovery_s} s at ${fmt(s.recovery_rate)} it/s` : `not within ${dur(s.window_s)}`),
            ),
            h("p", s.statement ?? ""),
          ],
    ),
  );
  const stressW = (st.windows ?? []).filter((w) => w.phase === "stress");
  if (stressW.length) {
    const sc = chart(
      {
        title: "Stress phase: p99 and throughput per second",
        y: "ms",
        y2: "req/s",
        series: [
          { label: "p99", color: "--c1", width: 2 },
          { label: "throughput", color: "--c2", scale: "y2" },
        ],
      },
      [stressW.map((w) => Date.parse(w.start ?? "") / 1000), stressW.map((w) => lat(w, "p99") ?? null), stressW.map((w) => (w.requests ?? 0) / (w.duration_s || 1))] as Data,
    );
    charts.push(sc);
    root.querySelector("#stress")!.append(sc.el);
  }

  // Recommendation with its arithmetic.
  const r: Schemas["Recommendation"] = st.recommendation ?? {};
  root.append(
    h(
      "section",
      { id: "recommendation" },
      h("h2", "Recommendation"),
      h(
        "div.tiles",
        tile("Autoscale at", `${fmt(r.autoscale_rps)} req/s per instance`, `${pct(r.autoscale_at, 0)} of ${fmt(r.basis_rps)} req/s${r.cpu_at_autoscale != null ? `, CPU ${pct(r.cpu_at_autoscale, 0)}${r.cpu_cores ? ` of ${r.cpu_cores} cores` : ""}` : ""}`),
        tile("Instances", `${r.min_instances ?? "—"} – ${r.max_instances ?? "—"}`, `sustained ${fmt(r.sustained_rps)}, peak ${fmt(r.peak_rps)} req/s`),
      ),
      h("h3", "Arithmetic"),
      h("ol.arith", (r.arithmetic ?? []).map((a) => h("li.mono", a))),
    ),
    h("section.ladder", ladder([...(st.steps ?? []), ...(p.steps ?? [])], job)), // study.json's steps
  );
  if (st.notes?.length) root.append(h("section", h("h2", "Notes"), h("ul", st.notes.map((n) => h("li", n)))));
  return () => charts.forEach((c) => c.destroy());
};

function tile(label: string, value: string, note?: string): HTMLElement {
  return h("div.tile", h("div.tlabel", label), h("div.tvalue", value), note ? h("div.tnote", note) : null);
}
