import { api, Correlation, Finding, Get, Job, lat, Reading, Schemas, StepLevel } from "../api";
import { chart, Chart, cssVar, Data } from "../charts";
import { fmt, h, ms, pct, when } from "../dom";
import type { Page } from "../router";
import { statusBadge } from "./jobs";

// pick reads a field in snake_case or as Go's default name.
function pick(o: object | undefined, snake: string): unknown {
  if (!o) return undefined;
  const r = o as Record<string, unknown>;
  if (r[snake] !== undefined) return r[snake];
  const camel = snake.replace(/(^|_)(\w)/g, (_m, _u, c: string) => c.toUpperCase());
  return r[camel];
}

const sec = (t: unknown) => (typeof t === "string" && !t.startsWith("0001-") ? Date.parse(t) / 1000 : NaN);

// samples is a reading's signal over the study: [{t, v}…] as unix seconds and values.
export function samples(r: Pick<Reading, "samples">): [number[], number[]] | null {
  const pts = (r.samples ?? [])
    .map((p): [number, number] => [Date.parse(p.t) / 1000, p.v])
    .filter(([t, v]) => isFinite(t) && isFinite(v))
    .sort((a, b) => a[0] - b[0]);
  return pts.length ? [pts.map((p) => p[0]), pts.map((p) => p[1])] : null;
}

// levels is a reading's mean level at each step against the step's throughput,
// in rising throughput: the signal against load.
export function levels(r: Pick<Reading, "steps">): { judged: boolean; x: number[]; ok: (number | null)[]; bad: (number | null)[] } | null {
  const pts: StepLevel[] = (r.steps ?? []).filter((p) => isFinite(p.throughput_rps) && isFinite(p.level)).sort((a, b) => a.throughput_rps - b.throughput_rps);
  if (!pts.length) return null;
  // Levels that name no step (no phase) carry no verdict: all plot as one series.
  const judged = pts.some((p) => p.phase);
  return {
    judged,
    x: pts.map((p) => p.throughput_rps),
    ok: pts.map((p) => (!judged || p.acceptable ? p.level : null)),
    bad: pts.map((p) => (judged && !p.acceptable ? p.level : null)),
  };
}

export const findingsPage: Page = async (root, { id }) => {
  let job: Job;
  try {
    job = await api<Job>(`/jobs/${id}`);
  } catch (e) {
    root.append(h("h1", `Findings #${id}`), h("p.error", { role: "alert" }, (e as Error).message));
    return;
  }
  root.append(
    h("h1", `Findings of ${job.kind} #${id} `, statusBadge(job.status)),
    h("p", h("a", { href: `/jobs/${id}` }, "Seconds and live view"), job.kind === "study" ? [" · ", h("a", { href: `/jobs/${id}/study` }, "Study")] : null),
  );
  type Findings = Get<"/jobs/{id}/findings">;
  const [fd, wd] = await Promise.all([
    api<Findings & { error?: undefined }>(`/jobs/${id}/findings`).catch((e): Partial<Findings> & { error: string } => ({ error: (e as Error).message })),
    api<Get<"/jobs/{id}/windows">>(`/jobs/${id}/windows`).catch((): Get<"/jobs/{id}/windows"> => ({ windows: [] })),
  ]);
  const findings: Finding[] = fd.findings ?? fd.correlation?.findings ?? [];
  const corr: Partial<Correlation> = fd.correlation ?? {};
  const win: Partial<Correlation["window"]> = corr.window ?? {};
  // The all-requests row ("all"; older servers sent no name).
  const windows = (wd.windows ?? []).filter((w) => !w.name || w.name === "all");
  const t = windows.map((w) => Date.parse(w.start) / 1000);
  const range: [number, number] | null = t.length ? [t[0], t[t.length - 1] + 1] : null;
  const bStart = sec(pick(win, "baseline_start")),
    bEnd = sec(pick(win, "baseline_end")),
    dStart = sec(pick(win, "start")),
    dEnd = sec(pick(win, "end")),
    onset = sec(pick(win, "onset"));
  const bands = () => {
    const out: { from: number; to: number; color: string }[] = [];
    if (isFinite(bStart) && isFinite(bEnd)) out.push({ from: bStart, to: bEnd, color: cssVar("--ok-band") });
    if (isFinite(dStart) && isFinite(dEnd)) out.push({ from: dStart, to: dEnd, color: cssVar("--bad-band") });
    if (isFinite(onset)) out.push({ from: onset, to: onset + Math.max(0.5, ((range?.[1] ?? onset) - (range?.[0] ?? onset)) / 400), color: cssVar("--bad") });
    return out;
  };
  const charts: Chart[] = [];
  const sync = "findings-" + id;
  const latC = chart(
    {
      title: "Latency per second (ms) — degraded window shaded red, baseline green",
      y: "ms",
      sync,
      bands,
      xRange: () => range,
      series: [
        { label: "p50", color: "--c2" },
        { label: "p99", color: "--c1", width: 2 },
        { label: "throughput", color: "--c4", scale: "y2" },
      ],
      y2: "req/s",
    },
    [t, windows.map((w) => lat(w, "p50") ?? null), windows.map((w) => lat(w, "p99") ?? null), windows.map((w) => (w.requests ?? 0) / (w.duration_s || 1))] as Data,
  );
  charts.push(latC);
  root.append(
    h(
      "section",
      { id: "window" },
      h("h2", "Degradation window"),
      pick(win, "found")
        ? h(
            "p",
            `Latency degraded at ${when(pick(win, "onset"))}: ${pick(win, "reason") ?? ""}. p99 ${ms(pick(win, "baseline_p99_ms"))} at baseline, ${ms(pick(win, "degraded_p99_ms"))} degraded (threshold ${ms(pick(win, "threshold_ms"))}); ${fmt(pick(win, "baseline_rate"))} → ${fmt(pick(win, "degraded_rate"))} req/s.`,
          )
        : h("p.muted", fd.error ? `No findings: ${fd.error}` : "Latency did not degrade, or the job has not been correlated yet."),
      latC.el,
    ),
  );

  // signal draws a reading: its samples on the latency's time axis and its
  // level at each step against throughput.
  const signal = (r: Reading): HTMLElement => {
    const name = `${r.title ?? r.signal}${r.unit ? ` (${r.unit})` : ""}`;
    if (!r.available && r.available !== undefined) return h("p.muted", `${r.title ?? r.signal}: not available: ${r.reason ?? ""}`);
    const box = h("div.reading", { "data-signal": r.signal });
    const s = samples(r);
    if (s) {
      const c = chart({ title: `${name} over time${r.resource ? ` — ${r.resource}` : ""}`, y: r.unit ?? "", sync, bands, xRange: () => range, height: 160, align: true, series: [{ label: r.title ?? r.signal, color: "--c5", width: 2 }] }, [s[0], s[1]] as Data);
      c.el.classList.add("over-time");
      charts.push(c);
      box.append(c.el);
    } else box.append(h("p.muted.small", `${name}: no samples over time in this document.`));
    const l = levels(r);
    if (l) {
      const c = chart(
        {
          title: `${name} against load (mean per step)`,
          x: "throughput req/s",
          time: false,
          y: r.unit ?? "",
          height: 160,
          align: true,
          series: l.judged
            ? [
                { label: "acceptable step", color: "--ok", points: true },
                { label: "unacceptable step", color: "--bad", points: true },
              ]
            : [{ label: "step", color: "--c5", points: true }],
        },
        (l.judged ? [l.x, l.ok, l.bad] : [l.x, l.ok]) as Data,
      );
      c.el.classList.add("against-load");
      charts.push(c);
      box.append(c.el);
    }
    box.append(
      h(
        "p.small.muted",
        `baseline ${fmt(r.baseline, 3)}, degraded ${fmt(r.degraded, 3)}, peak ${fmt(r.peak, 3)}`,
        r.lead_seconds != null ? ` · moved ${fmt(Math.abs(r.lead_seconds))} s ${r.lead_seconds >= 0 ? "before" : "after"} the knee` : "",
        r.pearson != null ? ` · r=${fmt(r.pearson, 2)} with p99` : "",
        r.query ? h("code.q", r.query) : null,
      ),
    );
    return box;
  };

  const list = h("section", { id: "findings" }, h("h2", `Findings (${findings.length})`));
  for (const f of findings) {
    const ev: Finding["evidence"] = f.evidence ?? {};
    const card = h(
      "article.card.finding",
      { "data-kind": f.kind },
      h("h3", `${f.rank ?? ""}. ${f.title}`),
      h("p.muted", `${f.kind} · score ${fmt(f.score, 2)}${ev.utilisation ? ` · utilisation ${pct(ev.utilisation, 0)}` : ""}`),
      ev.facts?.length ? h("ul", ev.facts.map((x: string) => h("li", x))) : null,
      f.recommendation ? h("p", h("strong", "Recommendation: "), f.recommendation) : null,
    );
    const readings = [ev.signal, ...(ev.related ?? [])].filter((r): r is Reading => Boolean(r));
    for (const r of readings) card.append(signal(r));
    if (ev.span) card.append(h("p", `Span ${ev.span.name}: +${ms(ev.span.added_ms)} self-time per trace (${pct(ev.span.share, 0)} of the added latency)`, ev.span.statement ? h("code.q", ev.span.statement) : null));
    if (ev.queries?.length) card.append(h("ul", ev.queries.map((q: string) => h("li", h("code", q)))));
    if (ev.traces?.length) card.append(traceTable(ev.traces, "Traces behind this finding"));
    list.append(card);
  }
  if (!findings.length) list.append(h("p.muted", "No findings."));
  root.append(list);

  // Every signal read, over time and against load, finding or not.
  const sigs = corr.signals ?? [];
  if (sigs.length) root.append(h("section", { id: "signals" }, h("h2", `Signals (${sigs.length})`), sigs.map((r) => h("article.card.signal", { "data-signal": r.signal }, signal(r)))));

  // Span breakdown of the slow traces against the baseline's.
  const br = corr.spans;
  if (br?.spans?.length) {
    const spans = br.spans.slice(0, 12);
    const max = Math.max(...spans.map((s) => Math.max(s.degraded_ms, s.baseline_ms)), 0.001);
    root.append(
      h(
        "section",
        { id: "spans" },
        h("h2", "Span breakdown"),
        h("p.muted", `${br.degraded_traces} degraded traces (root ${ms(br.degraded_root_ms)}) vs ${br.baseline_traces} baseline (root ${ms(br.baseline_root_ms)}): +${ms(br.added_ms)}`),
        h(
          "table.list.spans",
          h("thead", h("tr", ["Span", "Baseline self-time", "Degraded self-time", "Added", "Share"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            spans.map((s) =>
              h(
                "tr",
                h("th", { scope: "row" }, s.name, s.db ? h("span.badge", " db") : null, s.statement ? h("div.small.mono", s.statement) : null),
                h("td", h("div.hbar.base", { style: { width: `${(s.baseline_ms / max) * 100}%` } }), ms(s.baseline_ms)),
                h("td", h("div.hbar.deg", { style: { width: `${(s.degraded_ms / max) * 100}%` } }), ms(s.degraded_ms)),
                h("td.num", ms(s.added_ms)),
                h("td.num", pct(s.share, 0)),
              ),
            ),
          ),
        ),
      ),
    );
  }
  if (corr.slow_traces?.length) root.append(h("section", { id: "traces" }, traceTable(corr.slow_traces, "Slowest traces")));
  if (corr.not_available?.length || corr.notes?.length)
    root.append(h("section", h("h2", "Notes"), h("ul", [...(corr.not_available ?? []), ...(corr.notes ?? [])].map((n: string) => h("li", n)))));
  return () => charts.forEach((c) => c.destroy());
};

function traceTable(traces: Schemas["TraceLink"][], title: string): HTMLElement {
  return h(
    "div",
    h("h3", title),
    h(
      "table.list",
      h("thead", h("tr", ["Trace", "Root span", "Duration", "Trace store"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        traces.map((tr) =>
          h(
            "tr",
            h("td.mono", String(tr.id ?? "")),
            h("td", tr.root ?? "—"),
            h("td.num", ms(tr.duration_ms)),
            h("td", tr.url ? h("a", { href: tr.url, target: "_blank", rel: "noopener" }, `Open trace ${String(tr.id).slice(0, 8)}… in the trace store`) : "—", tr.grafana ? [" · ", h("a", { href: tr.grafana, target: "_blank", rel: "noopener" }, "Grafana")] : null),
          ),
        ),
      ),
    ),
  );
}
