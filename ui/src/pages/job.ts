// The job page: a run's or study's header, tiles, step ladder, seconds and
// charts, live while it runs, and its profiles once finished. Its parts live
// in job/: state (what the page knows), header, tiles, agents (a job on
// agents), names (per request name), ladder, stream and profiles.
import { api, FINISHED, Get, Job, Result } from "../api";
import { chart, Data } from "../charts";
import { h } from "../dom";
import type { Page } from "../router";
import { followAgents, hasAgents, renderAgents } from "./job/agents";
import { renderHead, updateDuration } from "./job/header";
import { loadSteps, renderLadder } from "./job/ladder";
import { NameViews } from "./job/names";
import { renderProfiles } from "./job/profiles";
import { JobState } from "./job/state";
import { follow, resumeAfter } from "./job/stream";
import { renderSLO, renderTiles } from "./job/tiles";

export { reportLink } from "./job/header";

export const jobPage: Page = async (root, { id }) => {
  let job: Job;
  try {
    job = await api<Job>(`/jobs/${id}`);
  } catch (e) {
    root.append(h("h1", `Job #${id}`), h("p.error", { role: "alert" }, (e as Error).message));
    return;
  }
  const st = new JobState(id, job);
  const tl = st.tl;
  let stopStream: (() => void) | null = null;

  // Header, tiles and ladder are redrawn on changes; charts persist.
  const head = h("div.jobhead");
  const tiles = h("div.tiles", { "aria-label": "Summary" });
  const live = h("p.live", { "aria-live": "polite", id: "seconds" });
  const ladderBox = h("section.ladder");
  const sloBox = h("section");
  const profilesBox = h("section#profiles", { "aria-labelledby": "profiles-h" });
  const agentsBox = h("section#agents", { "aria-labelledby": "agents-h", hidden: true });
  let stopAgents: (() => void) | null = null;
  let stopProfiles: (() => void) | null = null;
  const { sync, bands } = st;
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

  const draw = () => {
    const t = tl.t;
    latChart.setData([t, tl.all.p50, tl.all.p95, tl.all.p99] as Data);
    rpsChart.setData([t, tl.all.rps, tl.offered, tl.all.errs] as Data);
    loadChart.setData([t, tl.inFlight, tl.vus, tl.dropped] as Data);
    names.draw();
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
        ? st.finished
          ? "No seconds recorded."
          : "Waiting for the first second…"
        : `${n} seconds${st.finished ? "" : " · live"} · from ${new Date(tl.keys[0]).toLocaleTimeString()} to ${new Date(tl.keys[n - 1]).toLocaleTimeString()}`;
    if (!st.finished) {
      updateDuration(head, st);
      renderTiles(tiles, st);
      if (tl.names.size) names.renderTable();
    }
  };
  const names = new NameViews(st, draw);

  const finish = async () => {
    try {
      st.job = await api<Job>(`/jobs/${id}`);
    } catch {
      /* keep the last known */
    }
    stopAgents?.();
    stopAgents = null;
    renderHead(head, st);
    renderTiles(tiles, st);
    renderAgents(agentsBox, st);
    draw();
    if (st.isStudy) {
      await loadSteps(st);
      renderLadder(ladderBox, st);
    }
    try {
      const result = await api<Result>(`/jobs/${id}/result`);
      const known: string[] = (result.by_name ?? result.windows?.find((w) => w.by_name?.length)?.by_name ?? []).map((n) => n.name ?? "");
      await names.backfill(known);
      if (!st.isStudy) {
        names.renderTable(result);
        renderSLO(sloBox, result);
      }
    } catch {
      if (!st.isStudy) names.renderTable();
    }
    stopProfiles?.();
    stopProfiles = await renderProfiles(profilesBox, st);
  };

  root.append(
    head,
    tiles,
    agentsBox,
    ladderBox,
    live,
    h("div.grid2", latChart.el, rpsChart.el),
    loadChart.el,
    h("div.row", h("label", { for: "metric" }, "Per-name percentile"), names.metric),
    names.charts,
    names.table,
    sloBox,
    profilesBox,
  );
  renderHead(head, st);
  renderTiles(tiles, st);
  renderAgents(agentsBox, st);
  if (hasAgents(st.job) && !st.finished) stopAgents = followAgents(agentsBox, st);

  // History first: every second held so far, then the stream from where it was.
  try {
    const w = await api<Get<"/jobs/{id}/windows">>(`/jobs/${id}/windows`);
    for (const x of w.windows ?? []) tl.add(x);
  } catch (e) {
    live.textContent = "Could not load the seconds: " + (e as Error).message;
  }
  names.build();
  draw();

  if (st.isStudy) {
    await loadSteps(st);
    renderLadder(ladderBox, st);
  }

  if (FINISHED.has(st.job.status)) {
    await finish();
  } else if (!st.closed) {
    const { after, names: known } = resumeAfter(id);
    if (after) void names.backfill(known);
    stopStream = follow(st, after, {
      window: (data) => {
        if (tl.length && data.by_name?.length) void names.backfill(data.by_name.map((n) => n.name ?? ""));
        else names.known((data.by_name ?? []).map((n) => n.name ?? ""));
        tl.add(data);
        if (names.newNames) names.build();
        draw();
      },
      step: (s) => {
        st.addStep(s);
        renderLadder(ladderBox, st);
      },
      phase: () => {
        renderLadder(ladderBox, st);
        renderHead(head, st);
      },
      status: () => {
        renderHead(head, st);
        if (st.finished) void finish();
      },
      end: () => {
        stopStream = null;
        void finish();
      },
      gone: () => {
        live.textContent = "The event stream closed; reload to resume.";
      },
    });
  }

  return () => {
    st.closed = true;
    stopStream?.();
    latChart.destroy();
    rpsChart.destroy();
    loadChart.destroy();
    names.destroy();
    stopProfiles?.();
    stopAgents?.();
  };
};
