// The job page's per-request-name views: a latency and a throughput chart
// with a line per name, and the table by name. The server's /windows
// answers one name at a time, so each name's history is fetched once it is
// known (backfill).
import { api, Get, lat, NameSummary, Result } from "../../api";
import { chart, Chart, Data } from "../../charts";
import { clear, fmt, h, ms, pct } from "../../dom";
import { namesKey, type JobState } from "./state";

export class NameViews {
  readonly charts = h("div.grid2");
  readonly table = h("section");
  readonly metric = h(
    "select#metric",
    ["p99", "p95", "p50"].map((m) => h("option", { value: m }, m)),
  );
  private lat: Chart | null = null;
  private rps: Chart | null = null;
  private backfilled = new Set<string>();
  // A name first seen since the charts were built: rebuild them.
  newNames = false;

  constructor(
    private st: JobState,
    private redraw: () => void,
  ) {
    this.metric.addEventListener("change", () => {
      this.build();
      redraw();
    });
    st.tl.onNewName = () => {
      this.newNames = true;
      // Kept for a reload, whose stream starts after the last event seen.
      sessionStorage.setItem(namesKey(st.id), JSON.stringify([...st.tl.names.keys()]));
    };
  }

  private get names(): string[] {
    return [...this.st.tl.names.keys()].sort();
  }

  // build makes the charts for the names known so far.
  build(): void {
    this.lat?.destroy();
    this.rps?.destroy();
    this.newNames = false;
    const names = this.names;
    if (!names.length) return;
    const { sync, bands } = this.st;
    this.lat = chart({ title: `Latency by request name (${this.metric.value}, ms)`, y: "ms", sync, bands, series: names.map((n) => ({ label: n })) });
    this.rps = chart({ title: "Throughput by request name (per second)", y: "requests/s", sync, bands, series: names.map((n) => ({ label: n })) });
    clear(this.charts, this.lat.el, this.rps.el);
  }

  draw(): void {
    const tl = this.st.tl;
    const names = this.names;
    const m = this.metric.value as "p50" | "p95" | "p99";
    this.lat?.setData([tl.t, ...names.map((n) => tl.names.get(n)![m])] as Data);
    this.rps?.setData([tl.t, ...names.map((n) => tl.names.get(n)!.rps)] as Data);
  }

  // known marks names whose history the stream will bring (it started with the job).
  known(names: string[]): void {
    for (const n of names) this.backfilled.add(n);
  }

  // backfill fetches the history of the names not fetched yet.
  async backfill(names: string[]): Promise<void> {
    const todo = names.filter((n) => n && n !== "all" && !this.backfilled.has(n));
    if (!todo.length) return;
    for (const n of todo) this.backfilled.add(n);
    await Promise.all(
      todo.map(async (n) => {
        try {
          const w = await api<Get<"/jobs/{id}/windows">>(`/jobs/${this.st.id}/windows?name=${encodeURIComponent(n)}`);
          for (const x of w.windows ?? []) this.st.tl.add(x);
        } catch {
          this.backfilled.delete(n);
        }
      }),
    );
    if (this.st.closed) return;
    this.build();
    this.redraw();
    if (!this.st.finished) this.renderTable();
  }

  // renderTable shows the last second of each name while the job runs, the
  // result's figures by name once it has finished.
  renderTable(result?: Result): void {
    const tl = this.st.tl;
    type Row = NameSummary & { live?: boolean };
    const byName: Row[] = result?.by_name ?? [];
    const rows = (byName.length ? byName : this.names.map((n): Row => ({ name: n, live: true }))).map((r) => {
      if (r.live) {
        const c = tl.names.get(r.name ?? "")!;
        const i = tl.length - 1;
        return h("tr", h("th", { scope: "row" }, r.name), h("td.num", "—"), h("td.num", "—"), h("td.num", fmt(c.rps[i])), h("td.num", ms(c.p50[i])), h("td.num", ms(c.p95[i])), h("td.num", ms(c.p99[i])));
      }
      return h(
        "tr",
        h("th", { scope: "row" }, r.name),
        h("td.num", fmt(r.requests)),
        h("td.num", `${fmt(r.errors)} (${pct(r.error_rate)})`),
        h("td.num", fmt(r.throughput_rps)),
        h("td.num", ms(lat(r, "p50"))),
        h("td.num", ms(lat(r, "p95"))),
        h("td.num", ms(lat(r, "p99"))),
      );
    });
    if (!rows.length) return clear(this.table);
    clear(
      this.table,
      h("h2", "By request name"),
      h(
        "table.list",
        h("thead", h("tr", ["Name", "Requests", "Errors", "req/s", "p50", "p95", "p99"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", rows),
      ),
    );
  }

  destroy(): void {
    this.lat?.destroy();
    this.rps?.destroy();
  }
}
