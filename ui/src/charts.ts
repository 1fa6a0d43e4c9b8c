// uPlot charts: one canvas per chart, whatever the number of points, so a
// one-hour run (3,600 windows × several names) draws without per-point DOM.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

export type Data = uPlot.AlignedData;

export interface SeriesSpec {
  label: string;
  color?: string; // CSS colour; default: the palette in order
  scale?: string; // "y" (default) or a second scale, drawn on the right axis
  width?: number;
  dash?: number[];
  points?: boolean; // markers only, no line (scatter)
  show?: boolean;
  fill?: boolean;
}

export interface ChartSpec {
  title: string;
  series: SeriesSpec[];
  y?: string; // left axis label
  y2?: string; // right axis label, for series with scale "y2"
  x?: string; // x label when not time
  time?: boolean; // x is unix seconds (default true)
  height?: number;
  sync?: string; // cursor sync key: charts of one page share the time axis
  bands?: () => { from: number; to: number; color: string; label?: string }[];
  xRange?: () => [number, number] | null;
  align?: boolean; // keep a right gutter as wide as a second axis, so charts stacked on one time axis line up
}

export interface Chart {
  el: HTMLElement;
  setData(d: Data, resetScales?: boolean): void;
  u(): uPlot | null;
  destroy(): void;
}

// mark records on the figure how many x values it has (data-points) and how
// many values it plots (data-plotted: finite y values over every series).
function mark(el: HTMLElement, d: Data): void {
  el.dataset.points = String(d[0]?.length ?? 0);
  let n = 0;
  for (let i = 1; i < d.length; i++) for (const v of d[i] as (number | null | undefined)[]) if (v != null && isFinite(v)) n++;
  el.dataset.plotted = String(n);
}

const PALETTE = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7", "--c8"];

export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export function paletteColor(i: number): string {
  return cssVar(PALETTE[i % PALETTE.length]);
}

// chart builds a uPlot chart in a <figure> with a caption; data may come later.
export function chart(spec: ChartSpec, data?: Data): Chart {
  const plot = h("div.plot");
  const el = h("figure.chart", h("figcaption", spec.title), plot);
  if (data) mark(el, data);
  el.setAttribute("aria-label", spec.title);
  let u: uPlot | null = null;
  let pending: Data | undefined = data;
  let raf = 0;
  const fg = cssVar("--fg-muted");
  const grid = cssVar("--grid");
  const time = spec.time !== false;

  const axis = (label?: string, side?: number, scale?: string): uPlot.Axis => ({
    ...(scale ? { scale } : {}),
    ...(side !== undefined ? { side } : {}),
    label,
    stroke: fg,
    grid: { stroke: grid, width: 1, show: side !== 1 },
    ticks: { stroke: grid, width: 1 },
    labelSize: label ? 18 : 0,
    size: 52,
  });

  const opts = (width: number): uPlot.Options => ({
    width,
    height: spec.height ?? 220,
    legend: { live: true },
    cursor: spec.sync ? { sync: { key: spec.sync, setSeries: false } } : {},
    scales: {
      x: { time, ...(spec.xRange ? { range: (_u, lo, hi) => spec.xRange!() ?? [lo, hi] } : {}) },
      y: { range: (_u, lo, hi) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] },
      ...(spec.y2 ? { y2: { range: (_u: uPlot, lo: number, hi: number) => [Math.min(0, lo), hi > 0 ? hi * 1.05 : 1] as uPlot.Range.MinMax } } : {}),
    },
    axes: [
      { ...axis(spec.x), size: 40 },
      axis(spec.y, 3, "y"),
      ...(spec.y2 ? [axis(spec.y2, 1, "y2")] : spec.align ? [{ side: 1, scale: "y", size: 52, values: () => [], grid: { show: false }, ticks: { show: false } }] : []),
    ],
    series: [
      { label: time ? "time" : spec.x ?? "x" },
      ...spec.series.map((s, i) => {
        const stroke = s.color ? (s.color.startsWith("--") ? cssVar(s.color) : s.color) : paletteColor(i);
        return {
          label: s.label,
          stroke,
          width: s.width ?? 1.5,
          dash: s.dash,
          scale: s.scale ?? "y",
          show: s.show ?? true,
          spanGaps: !s.points,
          fill: s.fill ? stroke + "22" : undefined,
          paths: s.points ? () => null : undefined,
          points: s.points ? { show: true, size: 7, stroke, fill: stroke } : { show: false },
        } as uPlot.Series;
      }),
    ],
    hooks: spec.bands
      ? {
          drawClear: [
            (u: uPlot) => {
              const ctx = u.ctx;
              for (const b of spec.bands!()) {
                const x0 = u.valToPos(b.from, "x", true);
                const x1 = u.valToPos(b.to, "x", true);
                const l = Math.max(u.bbox.left, Math.min(x0, x1));
                const r = Math.min(u.bbox.left + u.bbox.width, Math.max(x0, x1));
                if (r <= l) continue;
                ctx.save();
                ctx.fillStyle = b.color;
                ctx.fillRect(l, u.bbox.top, r - l, u.bbox.height);
                ctx.restore();
              }
            },
          ],
        }
      : undefined,
  });

  const empty = (): Data => [[], ...spec.series.map(() => [])] as unknown as Data;

  const mount = () => {
    const w = plot.clientWidth;
    if (!w || u) return;
    u = new uPlot(opts(w), pending ?? empty(), plot);
    pending = undefined;
  };
  const ro = new ResizeObserver(() => {
    const w = plot.clientWidth;
    if (!w) return;
    if (!u) mount();
    else u.setSize({ width: w, height: spec.height ?? 220 });
  });
  ro.observe(plot);

  return {
    el,
    // setData draws at most once a frame, however often the stream calls it.
    setData(d: Data, resetScales = true) {
      mark(el, d); // what the tests read
      if (!u) {
        pending = d;
        mount();
        return;
      }
      pending = d;
      if (raf) return;
      raf = requestAnimationFrame(() => {
        raf = 0;
        if (u && pending) u.setData(pending, resetScales);
        pending = undefined;
      });
    },
    u: () => u,
    destroy() {
      ro.disconnect();
      cancelAnimationFrame(raf);
      u?.destroy();
      u = null;
    },
  };
}
