import { api, events, FINISHED, J, Job, jobDuration, lat, reportURL, session, Step } from "../api";
import { chart, Chart, cssVar, Data } from "../charts";
import { clear, dur, fmt, h, ms, pct, when } from "../dom";
import type { Page } from "../router";
import { Timeline } from "../timeline";
import { readiness, statusBadge, verdictBadge } from "./jobs";
import { ladder } from "./ladder";

const lastEventKey = (id: string) => `headroom.events.${id}`;
const namesKey = (id: string) => `headroom.names.${id}`;

export const jobPage: Page = async (root, { id }) => {
  let job: Job;
  try {
    job = await api<Job>(`/jobs/${id}`);
  } catch (e) {
    root.append(h("h1", `Job #${id}`), h("p.error", { role: "alert" }, (e as Error).message));
    return;
  }
  const tl = new Timeline();
  const steps = new Map<string, Step>();
  const stepKey = (s: Pick<Step, "phase" | "index">) => `${s.phase ?? ""}:${s.index ?? 0}`;
  let stopStream: (() => void) | null = null;
  let closed = false;
  const sync = "job-" + id;

  // Header, actions and tiles are redrawn on status changes; charts persist.
  const head = h("div.jobhead");
  const tiles = h("div.tiles", { "aria-label": "Summary" });
  const live = h("p.live", { "aria-live": "polite", id: "seconds" });
  const ladderBox = h("section.ladder");
  const nameTable = h("section");
  const sloBox = h("section");
  const metricSel = h(
    "select#metric",
    ["p99", "p95", "p50"].map((m) => h("option", { value: m }, m)),
  );

  const bands = () => {
    if (job.kind !== "study") return [];
    const a = cssVar("--band-a"),
      b = cssVar("--band-b");
    return tl.stepBands().map((s, i) => ({ from: s.from, to: s.to, color: i % 2 ? a : b }));
  };
  const latChart = chart({
    title: "Latency, all requests (ms)",
    y: "ms",
    sync,
    bands,
    series: [
      { label: "p50", color: "--c2" },
      { label: "p95", color: "--c3" },
      { label: "p99", color: "--c1", width: 2 },
    ],
  });
  const rpsChart = chart({
    title: "Throughput and errors (per second)",
    y: "requests/s",
    y2: "errors/s",
    sync,
    bands,
    series: [
      { label: "throughput", color: "--c2", width: 2, fill: true },
      { label: "offered", color: "--fg-muted", dash: [4, 4] },
      { label: "errors", color: "--bad", scale: "y2" },
    ],
  });
  const loadChart = chart({
    title: "In flight, dropped iterations and virtual users",
    y: "in flight / VUs",
    y2: "dropped/s",
    sync,
    bands,
    series: [
      { label: "in flight", color: "--c4", width: 2 },
      { label: "VUs", color: "--c5", dash: [3, 3] },
      { label: "dropped", color: "--bad", scale: "y2" },
    ],
  });
  let nameLat: Chart | null = null;
  let nameRps: Chart | null = null;
  const nameCharts = h("div.grid2");

  const buildNameCharts = () => {
    nameLat?.destroy();
    nameRps?.destroy();
    const names = [...tl.names.keys()].sort();
    if (!names.length) return;
    nameLat = chart({
      title: `Latency by request name (${metricSel.value}, ms)`,
      y: "ms",
      sync,
      bands,
      series: names.map((n) => ({ label: n })),
    });
    nameRps = chart({
      title: "Throughput by request name (per second)",
      y: "requests/s",
      sync,
      bands,
      series: names.map((n) => ({ label: n })),
    });
    clear(nameCharts, nameLat.el, nameRps.el);
  };
  metricSel.addEventListener("change", () => {
    buildNameCharts();
    draw();
  });

  const draw = () => {
    const t = tl.t;
    latChart.setData([t, tl.all.p50, tl.all.p95, tl.all.p99] as Data);
    rpsChart.setData([t, tl.all.rps, tl.offered, tl.all.errs] as Data);
    loadChart.setData([t, tl.inFlight, tl.vus, tl.dropped] as Data);
    const names = [...tl.names.keys()].sort();
    const m = metricSel.value as "p50" | "p95" | "p99";
    nameLat?.setData([t, ...names.map((n) => tl.names.get(n)![m])] as Data);
    nameRps?.setData([t, ...names.map((n) => tl.names.get(n)!.rps)] as Data);
    const n = tl.length;
    live.dataset.seconds = String(n);
    live.dataset.first = n ? String(tl.keys[0]) : "";
    // The seconds every request name has (tests read it after a reload).
    let named = tl.names.size ? Infinity : 0;
    for (const c of tl.names.values()) named = Math.min(named, c.rps.reduce<number>((k, v) => (v === null ? k : k + 1), 0));
    live.dataset.names = String(tl.names.size);
    live.dataset.nameSeconds = String(named);
    live.textContent =
      n === 0
        ? FINISHED.has(job.status)
          ? "No seconds recorded."
          : "Waiting for the first second…"
        : `${n} seconds${FINISHED.has(job.status) ? "" : " · live"} · from ${new Date(tl.keys[0]).toLocaleTimeString()} to ${new Date(tl.keys[n - 1]).toLocaleTimeString()}`;
    if (!FINISHED.has(job.status)) {
      const d = head.querySelector("#duration");
      if (d) d.textContent = dur(jobDuration(job));
      renderTiles();
      if (tl.names.size) renderNames();
    }
  };
  let newNames = false;
  tl.onNewName = () => {
    newNames = true;
    // Kept for a reload, whose stream starts after the last event seen.
    sessionStorage.setItem(namesKey(id), JSON.stringify([...tl.names.keys()]));
  };

  // The server's /windows answers one request name at a time (all requests by
  // default): the per-name history is fetched for each name once it is known.
  const backfilled = new Set<string>();
  const backfill = async (names: string[]) => {
    const todo = names.filter((n) => n && n !== "all" && !backfilled.has(n));
    if (!todo.length) return;
    for (const n of todo) backfilled.add(n);
    await Promise.all(
      todo.map(async (n) => {
        try {
          const w = await api(`/jobs/${id}/windows?name=${encodeURIComponent(n)}`);
          for (const x of w.windows ?? []) tl.add(x);
        } catch {
          backfilled.delete(n);
        }
      }),
    );
    if (closed) return;
    newNames = false;
    buildNameCharts();
    draw();
    if (!FINISHED.has(job.status)) renderNames();
  };
  let bracketLive: { lo: number; hi: number } | undefined;

  const renderHead = () => {
    const finished = FINISHED.has(job.status);
    const actions = h("div.actions");
    if (!finished && session.canOperate()) {
      actions.append(
        h(
          "button.danger",
          {
            type: "button",
            id: "cancel",
            onclick: async (e: Event) => {
              const b = e.currentTarget as HTMLButtonElement;
              b.disabled = true;
              try {
                await api(`/jobs/${id}/cancel`, { method: "POST" });
                b.textContent = "Cancelling…";
              } catch (err) {
                b.disabled = false;
                alert("Cancel failed: " + (err as Error).message);
              }
            },
          },
          job.cancel_requested ? "Cancelling…" : "Cancel",
        ),
      );
    }
    if (job.kind === "study") actions.append(h("a.button", { href: `/jobs/${id}/study` }, "Study"));
    actions.append(h("a.button", { href: `/jobs/${id}/findings` }, "Findings"));
    if (finished) {
      actions.append(h("a.button", { href: `/compare?b=${id}` }, "Compare…"));
      for (const f of ["html", "pdf", "md", "junit"])
        actions.append(reportLink(id, f));
      if (session.canOperate() && job.plan_id)
        actions.append(
          h(
            "button",
            {
              type: "button",
              id: "baseline",
              onclick: async (e: Event) => {
                const b = e.currentTarget as HTMLButtonElement;
                try {
                  await api(`/plans/${job.plan_id}/baseline`, { method: "PUT", body: { job_id: Number(id) } });
                  b.textContent = "Baseline ✓";
                } catch (err) {
                  b.textContent = "Baseline failed: " + (err as Error).message;
                }
              },
            },
            "Mark as baseline",
          ),
        );
    }
    clear(
      head,
      h("h1", `${job.kind === "study" ? "Study" : "Run"} #${job.id} `, statusBadge(job.status), " ", readiness(job)),
      job.summary?.readiness ? h("p#readiness", { "data-ready": String(job.summary.ready) }, job.summary.readiness) : null,
      h(
        "dl.meta",
        h("dt", "Plan"),
        h("dd", job.plan_id ? h("a", { href: `/plans/${job.plan_id}` }, `${job.plan_name ?? "plan " + job.plan_id} v${job.plan_version ?? "?"}`) : "—"),
        h("dt", "Target"),
        h("dd.mono", job.target || "—"),
        h("dt", "Phase"),
        h("dd", job.phase || "—"),
        h("dt", "Review"),
        h("dd", verdictBadge(job.verdict)),
        h("dt", "Started"),
        h("dd", when(job.started)),
        h("dt", "Duration"),
        h("dd#duration", dur(jobDuration(job))),
      ),
      job.error ? h("p.error", { role: "alert" }, job.error) : null,
      actions,
    );
  };

  const tile = (label: string, value: string) => h("div.tile", h("div.tlabel", label), h("div.tvalue", value));
  const renderTiles = () => {
    const s: J = job.summary ?? {};
    const finished = FINISHED.has(job.status) && Object.keys(s).length > 0;
    const n = tl.length;
    // Live: the last second; finished: the whole run, from merged histograms.
    const lastI = n - 1;
    const v = (a: (number | null)[]) => (lastI >= 0 ? a[lastI] : null);
    const total = (a: (number | null)[]) => a.reduce<number>((x, y) => x + (y ?? 0), 0);
    clear(
      tiles,
      h("p.tnote", finished ? "Whole job" : "Last second"),
      tile("Throughput", (finished ? fmt(s.throughput_rps) : fmt(v(tl.all.rps))) + " req/s"),
      tile("p50", ms(finished ? lat(s, "p50") : v(tl.all.p50))),
      tile("p95", ms(finished ? lat(s, "p95") : v(tl.all.p95))),
      tile("p99", ms(finished ? lat(s, "p99") : v(tl.all.p99))),
      tile("Errors", finished ? `${fmt(s.errors)} (${pct(s.error_rate)})` : fmt(v(tl.all.errs)) + "/s"),
      tile("In flight", fmt(v(tl.inFlight))),
      tile("Dropped", fmt(finished ? s.dropped_iterations : total(tl.dropped))),
    );
  };

  const renderLadder = () => {
    if (job.kind !== "study") return;
    clear(ladderBox, ladder([...steps.values()], job, bracketLive));
  };

  const renderNames = (result?: J) => {
    const names = [...tl.names.keys()].sort();
    const byName: J[] = result?.by_name ?? [];
    const rows = (byName.length ? byName : names.map((n) => ({ name: n, live: true }))).map((r: J) => {
      if (r.live) {
        const c = tl.names.get(r.name)!;
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
    if (!rows.length) return clear(nameTable);
    clear(
      nameTable,
      h("h2", "By request name"),
      h(
        "table.list",
        h("thead", h("tr", ["Name", "Requests", "Errors", "req/s", "p50", "p95", "p99"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", rows),
      ),
    );
  };

  const renderSLO = (result: J) => {
    const slo: J[] = result.slo ?? [];
    if (!slo.length) return;
    clear(
      sloBox,
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
  };

  const finish = async () => {
    try {
      job = await api<Job>(`/jobs/${id}`);
    } catch {
      /* keep the last known */
    }
    renderHead();
    renderTiles();
    draw();
    if (job.kind === "study") {
      try {
        const d = await api(`/jobs/${id}/steps`);
        for (const s of d.steps ?? []) steps.set(stepKey(s), s);
      } catch {
        /* ladder from the stream */
      }
      renderLadder();
    }
    try {
      const result = await api(`/jobs/${id}/result`);
      const names: string[] = (result.by_name ?? result.windows?.find((w: J) => w.by_name?.length)?.by_name ?? []).map((n: J) => n.name);
      await backfill(names);
      if (job.kind !== "study") {
        renderNames(result);
        renderSLO(result);
      }
    } catch {
      if (job.kind !== "study") renderNames();
    }
  };

  root.append(
    head,
    tiles,
    ladderBox,
    live,
    h("div.grid2", latChart.el, rpsChart.el),
    loadChart.el,
    h("div.row", h("label", { for: "metric" }, "Per-name percentile"), metricSel),
    nameCharts,
    nameTable,
    sloBox,
  );
  renderHead();
  renderTiles();

  // History first: every second held so far, then the stream from where it was.
  try {
    const w = await api(`/jobs/${id}/windows`);
    for (const x of w.windows ?? []) tl.add(x);
  } catch (e) {
    live.textContent = "Could not load the seconds: " + (e as Error).message;
  }
  buildNameCharts();
  newNames = false;
  draw();

  if (job.kind === "study") {
    try {
      const d = await api(`/jobs/${id}/steps`);
      for (const s of d.steps ?? []) steps.set(stepKey(s), s);
    } catch {
      /* the stream brings them */
    }
    renderLadder();
  }

  if (FINISHED.has(job.status)) {
    await finish();
  } else if (!closed) {
    const after = Number(sessionStorage.getItem(lastEventKey(id)) ?? 0) || 0;
    if (after) {
      let known: string[] = [];
      try {
        known = JSON.parse(sessionStorage.getItem(namesKey(id)) ?? "[]");
      } catch {
        /* none */
      }
      void backfill(known);
    }
    stopStream = events(
      id,
      after,
      (type, data, eventID) => {
        if (eventID) sessionStorage.setItem(lastEventKey(id), String(eventID));
        switch (type) {
          case "window":
            if (tl.length && data.by_name?.length) void backfill(data.by_name.map((n: J) => n.name));
            else for (const n of data.by_name ?? []) backfilled.add(n.name);
            tl.add(data);
            if (newNames) {
              newNames = false;
              buildNameCharts();
            }
            draw();
            break;
          case "step":
            if (data.index) steps.set(stepKey(data as Step), data as Step); // the stream sends a Step
            renderLadder();
            break;
          case "phase":
            job.phase = data.phase ?? data.name ?? job.phase;
            if (typeof data.low === "number" || typeof data.high === "number") {
              bracketLive = { lo: data.low ?? 0, hi: data.high ?? 0 };
              renderLadder();
            }
            renderHead();
            break;
          case "status":
            if (data.status) job.status = data.status;
            renderHead();
            if (FINISHED.has(job.status)) void finish();
            break;
          case "end":
            stopStream?.();
            stopStream = null;
            sessionStorage.removeItem(lastEventKey(id));
            sessionStorage.removeItem(namesKey(id));
            void finish();
            break;
        }
      },
      (gone) => {
        if (gone) live.textContent = "The event stream closed; reload to resume.";
      },
    );
  }

  return () => {
    closed = true;
    stopStream?.();
    latChart.destroy();
    rpsChart.destroy();
    loadChart.destroy();
    nameLat?.destroy();
    nameRps?.destroy();
  };
};

// reportLink opens a report: fetched with the token (a plain link cannot send
// it), then shown from a blob URL in a new tab.
export function reportLink(id: string | number, format: string): HTMLAnchorElement {
  const href = reportURL(id, format);
  return h(
    "a.button",
    {
      href,
      "data-report": format,
      onclick: async (e: Event) => {
        e.preventDefault();
        const tab = window.open("", "_blank");
        try {
          const res = await fetch(href, { headers: { Authorization: "Bearer " + session.token } });
          if (!res.ok) throw new Error(`${res.status} ${(await res.text()).slice(0, 200)}`);
          const url = URL.createObjectURL(await res.blob());
          if (tab) tab.location.href = url;
          else location.href = url;
        } catch (err) {
          tab?.close();
          alert(`The ${format} report is not available: ${(err as Error).message}`);
        }
      },
    },
    `Report (${format.toUpperCase()})`,
  );
}
