// A stand-in for `headroom serve` that answers the HTTP API of the contract
// from generated data: a one-hour run (3,600 windows × 5 request names), a
// finished study with findings and profiles, and a live study that streams
// a window a second. It serves the built dist/ too. For measuring the dashboard on long
// runs and for developing it without a server; the browser tests proper run
// against the real `headroom serve` (e2e.test.mjs).
//
//   node test/fixture-server.mjs [port]
import http from "node:http";
import { readFileSync, existsSync } from "node:fs";
import { extname, join } from "node:path";
import { gzipSync } from "node:zlib";

const DIST = new URL("../dist/", import.meta.url).pathname;
const NAMES = ["list products", "product detail", "add to cart", "checkout", "login"];
const TICKETS = new Map(); // event-stream ticket → token
const TOKENS = { "fixture-admin": { name: "fixture admin", role: "admin" }, "fixture-viewer": { name: "fixture viewer", role: "viewer" } };

// A deterministic pseudo-random source, so every start draws the same data.
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

function latency(base) {
  const p50 = base * (0.9 + 0.2 * rnd());
  return { p50, p90: p50 * 1.8, p95: p50 * 2.2, p99: p50 * 3.5, max: p50 * 6, mean: p50 * 1.2 };
}

function window(start, i, rate, base, extra = {}) {
  const rps = rate * (0.97 + 0.06 * rnd());
  const by = NAMES.map((n, k) => {
    const r = Math.round(rps / NAMES.length);
    return { name: n, requests: r, errors: rnd() < 0.02 ? 1 : 0, latency_ms: latency(base * (1 + k * 0.4)) };
  });
  return {
    start: new Date(start + i * 1000).toISOString(), duration_s: 1, phase: "run", step: 0, name: "",
    requests: by.reduce((a, b) => a + b.requests, 0), errors: by.reduce((a, b) => a + b.errors, 0),
    throughput_rps: rps, error_rate: 0.004, latency_ms: latency(base * 1.5), offered: rate,
    in_flight: (rps * base) / 1000, dropped: 0, vus: Math.ceil((rps * base) / 1000) + 2, by_name: by, ...extra,
  };
}

function flatten(ws, name) {
  // /windows answers the seconds of one request name, "all" by default, as the server does.
  const out = [];
  for (const w of ws) {
    const { by_name, ...all } = w;
    if (!name || name === "all") out.push({ ...all, name: "all" });
    for (const n of by_name) if (n.name === name) out.push({ ...n, start: w.start, duration_s: w.duration_s, phase: w.phase, step: w.step, throughput_rps: n.requests / w.duration_s, error_rate: n.errors / Math.max(1, n.requests) });
  }
  return out;
}

const hourStart = Date.parse("2026-11-30T09:00:00Z");
const hour = Array.from({ length: 3600 }, (_, i) => window(hourStart, i, 200 + 50 * Math.sin(i / 300), i > 2400 && i < 2700 ? 60 : 12));

// The study: rates double, then a binary search, verify, stress.
const studyStart = Date.parse("2026-11-30T11:00:00Z");
const rates = [["baseline", 10], ["explore", 20], ["explore", 40], ["explore", 80], ["explore", 160], ["search", 120], ["search", 140], ["search", 130], ["verify", 390], ["stress", 195]];
const lambda = 45, sigma = 0.05, kappa = 0.002;
const usl = (n) => (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
const studyWindows = [];
const steps = [];
let t = studyStart;
rates.forEach(([phase, rate], k) => {
  const rpi = 2.5;
  const over = rate > 135 && phase !== "verify";
  const base = over ? 40 + (rate - 135) * 2 : 8 + rate / 20;
  const start = t;
  for (let s = 0; s < 10; s++) studyWindows.push(window(t, s, rate * rpi * (over ? 0.85 : 1), base, { phase, step: k + 1 }));
  t += 10000 + 3000;
  const thr = rate * rpi * (over ? 0.85 : 1);
  steps.push({
    index: k + 1, phase, rate, offered: rate, achieved: rate, throughput: thr, goodput: thr * 0.99,
    latency_ms: { p50: base, p90: base * 2, p95: base * 2.4, p99: base * 3.6, max: base * 6, mean: base * 1.3 },
    error_rate: over ? 0.03 : 0.001, dropped_rate: 0, in_flight: (thr * base * 1.3) / 1000, littles_l: (thr * base * 1.3) / 1000,
    measured_s: 8, elapsed_s: 10, start: new Date(start + 2000).toISOString(), end: new Date(start + 10000).toISOString(),
    verdict: phase === "verify" || phase === "stress" ? "acceptable" : over ? "unacceptable" : "acceptable",
    reasons: over ? [`p99 ${Math.round(base * 3.6)}ms above the SLO's 250ms`] : [],
  });
});
const sSearch = steps.filter((s) => ["baseline", "explore", "search"].includes(s.phase));
const study = {
  kind: "study", outcome: "passed", plan: "shop", url: "http://127.0.0.1:18081", started: new Date(studyStart).toISOString(), finished: new Date(t).toISOString(), complete: true,
  capacity: { single_instance_rps: 325, unacceptable_rps: 331.5, single_instance_rate: 130, unacceptable_rate: 140, requests_per_iteration: 2.5 },
  steps: sSearch,
  littles_law: { throughput_rps: 325, mean_latency_ms: 20.5, concurrency: 6.7, statement: "L = X × W = 325 req/s × 20.5 ms = 6.7 requests in flight (measured 6.9)" },
  usl: { lambda, sigma, kappa, r2: 0.97, points: 8, peak_concurrency: Math.sqrt((1 - sigma) / kappa), peak_throughput_rps: usl(Math.sqrt((1 - sigma) / kappa)), reported: true },
  prediction: { instances: 3, predicted_rps: 890, measured_rps: 812, ratio: 0.91, verify_url: "http://127.0.0.1:18090", steps: steps.filter((s) => s.phase === "verify"), statement: "3 instances were predicted to carry 890 req/s and carried 812 req/s (91%)." },
  stress: { rate: 195, hold_s: 10, throughput_rps: 415, error_rate: 0.031, worst_second_p99_ms: 820, recovery_rate: 65, criterion: "p99 under 250ms and errors under 1%", recovered: true, recovery_s: 4, window_s: 60, elapsed_s: 30, requests_sent: 9000, statement: "At 1.5× the unacceptable point the shop kept 415 req/s with 3.1% errors and recovered 4 s after the load dropped." },
  recommendation: { autoscale_rps: 215, autoscale_at: 0.65, basis_rps: 331.5, cpu_at_autoscale: 0.58, cpu_cores: 2, sustained_rps: 400, peak_rps: 800, min_instances: 3, max_instances: 4, arithmetic: ["autoscale at 65% × 331.5 req/s = 215 req/s per instance", "sustained: 400 req/s ÷ 215 req/s = 1.9 → 2 instances, HA minimum 3 → 3", "peak: 800 req/s ÷ 325 req/s = 2.5 → 3 instances, + 1 for a lost instance → 4"] },
  load_s: (t - studyStart) / 1000, requests_sent: 52000,
  windows: studyWindows,
};
const onset = steps[4].start;
const correlation = {
  window: { found: true, reason: "p99 above the SLO's 250ms", threshold_ms: 250, onset, start: new Date(Date.parse(onset) - 3000).toISOString(), end: steps[4].end, baseline_start: steps[0].start, baseline_end: steps[3].end, baseline_p99_ms: 38, degraded_p99_ms: 410, baseline_rate: 200, degraded_rate: 340, degraded_offered: 400 },
  signals: [],
  spans: { baseline_traces: 20, degraded_traces: 20, baseline_root_ms: 14, degraded_root_ms: 180, added_ms: 166, spans: [
    { name: "db.query orders", statement: "SELECT * FROM orders WHERE user_id = ?", db: true, baseline_ms: 2, degraded_ms: 120, added_ms: 118, share: 0.71, baseline_count: 1, degraded_count: 1 },
    { name: "pool.wait", baseline_ms: 0.1, degraded_ms: 38, added_ms: 37.9, share: 0.23, baseline_count: 1, degraded_count: 1 },
    { name: "GET /v1/orders", root: true, baseline_ms: 6, degraded_ms: 16, added_ms: 10, share: 0.06, baseline_count: 1, degraded_count: 1 },
  ] },
  slow_traces: Array.from({ length: 5 }, (_, i) => ({ id: "4bf92f3577b34da6a3ce929d0e0e47" + (10 + i), root: "POST /v1/checkout", duration_ms: 900 - i * 80, url: `http://127.0.0.1:16686/trace/4bf92f3577b34da6a3ce929d0e0e47${10 + i}` })),
  not_available: ["gc_pause: not available: no samples in the window"],
};
const findings = [
  { rank: 1, kind: "pool_wait", title: "Requests wait for a database connection", score: 0.86, recommendation: "Raise the pool from 10 to 25 connections, or cut the time each checkout holds one.",
    evidence: { facts: ["pool wait rose from 0.2 ms to 38 ms per request", "pool in use 10 of 10 during the degraded window", "wait moved 3 s before the latency knee"],
      signal: { signal: "pool_wait", title: "DB pool wait", unit: "s/s", available: true, query: "rate(go_sql_wait_duration_seconds_total[5s])", baseline: 0.002, degraded: 0.38, peak: 0.61, has_baseline: true, lead_seconds: 3, pearson: 0.93 },
      related: [{ signal: "pool_in_use", title: "DB pool in use", unit: "connections", available: true, baseline: 2.1, degraded: 10, peak: 10, has_baseline: true }],
      utilisation: 1, traces: correlation.slow_traces.slice(0, 2) } },
  { rank: 2, kind: "slow_query", title: "SELECT on orders without an index", score: 0.64, recommendation: "CREATE INDEX orders_user_id ON orders(user_id)",
    evidence: { facts: ["71% of the added latency is this query"], span: correlation.spans.spans[0], queries: ["SELECT * FROM orders WHERE user_id = ?"] } },
];
correlation.findings = findings;

// Profiles of the study (the contract of GET /jobs/{id}/profiles, …/{pid}
// and …/{pid}/flame): a CPU profile of the baseline and of a degraded step,
// a call tree shaped like a Go service's, and a raw download (gzipped; not a
// real pprof: the real one is tested against headroom serve).
const ms = 1e6;
// n(name, self, ...callees): a function, its own time and its callees.
const n = (name, self, ...children) => ({ name, value: self + children.reduce((a, c) => a + c.value, 0), children });
const SHOP = "github.com/headroom-sre/headroom/demo/shop";
const serveTree = (burn) =>
  n("runtime.goexit", 0,
    n("net/http.(*conn).serve", 15 * ms,
      n("net/http.serverHandler.ServeHTTP", 30 * ms,
        n(`${SHOP}.(*Server).serveLimited`, 0,
          ...(burn ? [n(`${SHOP}.burnCPU`, burn * 0.1, n("crypto/sha256.blockAVX2", burn * 0.9))] : []),
          n(`${SHOP}.(*Server).listProducts`, 0,
            n("encoding/json.(*Encoder).Encode", 20 * ms, n("encoding/json.(*encodeState).marshal", 420 * ms), n("runtime.mallocgc", 90 * ms)),
            n("database/sql.(*DB).QueryContext", 0, n("github.com/mattn/go-sqlite3.(*SQLiteStmt).query", 260 * ms), n("runtime.cgocall", 80 * ms))),
          n(`${SHOP}.(*Server).checkout`, 0, n("database/sql.(*Tx).Commit", 140 * ms), n(`${SHOP}.(*Server).recentOrders`, 95 * ms)))),
      n("bufio.(*Writer).Flush", 110 * ms),
      n("net/http.(*conn).readRequest", 130 * ms)));
const tree = (burn) => {
  return n("root", 0, serveTree(burn), n("runtime.gcBgMarkWorker", 0, n("runtime.scanobject", 180 * ms), n("runtime.markBits.isMarked", 45 * ms)), n("runtime.mcall", 60 * ms));
};
const flames = { "1": tree(0), "2": tree(3600 * ms) };
// The top functions, ranked by own share (the standard library a function
// called charged to it); with burn, against the baseline.
const top = (burn) => {
  const rows = [
    [`${SHOP}.burnCPU`, burn / 10, burn, burn, 1.9, 61.4],
    ["encoding/json.(*encodeState).marshal", 0.08, 0.08, 0.08, 0.26, -14.2],
    ["github.com/mattn/go-sqlite3.(*SQLiteStmt).query", 0.05, 0.05, 0.05, 0.16, -9.3],
    ["runtime.scanobject", 0.03, 0.03, 0.03, 0.11, -6.1],
    ["net/http.(*conn).readRequest", 0.02, 0.03, 0.02, 0.08, -4.9],
  ];
  return rows
    .filter((r) => r[3] > 0)
    .map(([f, flat, cum, own, per_request_ms, delta_points]) => ({ function: f, flat, cum, own, per_request_ms, per_request: per_request_ms * 1e6, sentence: `${Math.round(own * 100)}% of CPU in ${f.replace(/^.*\//, "")}`, ...(burn ? { delta_points } : {}) }));
};
const profiles = [
  { id: "1", kind: "cpu", phase: "baseline", step: 1, component: "shop", seconds: 8, requests: 200, bytes: 5210, unit: "nanoseconds", fetched_at: steps[0].end, top: top(0), download: "/api/v1/jobs/2/profiles/1" },
  { id: "2", kind: "cpu", phase: "explore", step: 5, component: "shop", seconds: 8, requests: 2650, bytes: 9876, unit: "nanoseconds", fetched_at: steps[4].end, top: top(0.64), download: "/api/v1/jobs/2/profiles/2" },
];

const jobs = [
  { id: 1, kind: "run", status: "passed", phase: "done", plan_id: 1, plan_name: "shop-soak", plan_version: 3, target: "http://127.0.0.1:18081", created: new Date(hourStart - 5000).toISOString(), started: new Date(hourStart).toISOString(), finished: new Date(hourStart + 3600000).toISOString(), verdict: "pass", summary: { requests: 720000, errors: 2900, error_rate: 0.004, throughput_rps: 200, latency_ms: { p50: 13, p90: 25, p95: 31, p99: 80, max: 410, mean: 16 }, iterations: 300000, dropped_iterations: 0 } },
  { id: 2, kind: "study", status: "passed", phase: "done", plan_id: 2, plan_name: "shop", plan_version: 1, target: "http://127.0.0.1:18081", created: study.started, started: study.started, finished: study.finished, verdict: "pass", summary: {} },
  { id: 3, kind: "study", status: "running", phase: "explore", plan_id: 2, plan_name: "shop", plan_version: 1, target: "http://127.0.0.1:18081", created: new Date().toISOString(), started: new Date().toISOString(), verdict: "", summary: {} },
];
const live = { start: Date.now(), events: [] }; // the live study replays study 2, one second a second
function liveEvents() {
  const n = Math.min(studyWindows.length, Math.floor((Date.now() - live.start) / 1000) + 1);
  while (live.events.length < n) {
    const i = live.events.length;
    const w = { ...studyWindows[i], start: new Date(live.start + i * 1000).toISOString() };
    live.events.push({ type: "window", data: w });
    if (i % 10 === 9) live.events.push({ type: "step", data: { ...steps[Math.floor(i / 10)] } });
  }
  return live.events;
}

const send = (res, code, doc) => { res.writeHead(code, { "Content-Type": "application/json" }); res.end(JSON.stringify(doc)); };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const p = url.pathname;
  if (!p.startsWith("/api/")) {
    const f = join(DIST, p === "/" || !extname(p) ? "index.html" : p);
    if (!existsSync(f)) { res.writeHead(404); return res.end(); }
    const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
    res.writeHead(200, { "Content-Type": types[extname(f)] ?? "application/octet-stream" });
    return res.end(readFileSync(f));
  }
  // The event stream takes a ticket, as the server's does: never a token in the URL.
  const tok = (req.headers.authorization ?? "").replace(/^Bearer /, "") || TICKETS.get(url.searchParams.get("ticket") ?? "");
  const me = TOKENS[tok];
  if (!me) return send(res, 401, { error: "unauthorized" });
  let m;
  if ((m = p.match(/^\/api\/v1\/jobs\/(\d+)\/events\/ticket$/)) && req.method === "POST") {
    const ticket = `t${TICKETS.size + 1}-${m[1]}`;
    TICKETS.set(ticket, tok);
    return send(res, 201, { ticket, expires: new Date(Date.now() + 60000).toISOString() });
  }
  if (p === "/api/v1/me") return send(res, 200, me);
  if (p === "/api/v1/jobs") return send(res, 200, { jobs, total: jobs.length });
  if ((m = p.match(/^\/api\/v1\/jobs\/(\d+)\/profiles\/(\w+)(\/flame)?$/))) {
    const pr = m[1] === "2" && profiles.find((x) => x.id === m[2]);
    if (!pr) return send(res, 404, { error: "profile not found" });
    if (m[3]) return send(res, 200, flames[pr.id]);
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename="job-2-${pr.kind}-${pr.phase}-${pr.step}.pb.gz"` });
    return res.end(gzipSync(Buffer.from(`fixture profile ${pr.id}`)));
  }
  if ((m = p.match(/^\/api\/v1\/jobs\/(\d+)(\/\w+)?$/))) {
    const j = jobs.find((x) => x.id === Number(m[1]));
    if (!j) return send(res, 404, { error: "job not found" });
    const sub = m[2] ?? "";
    if (sub === "") return send(res, 200, j);
    if (sub === "/windows") return send(res, 200, { windows: j.id === 1 ? flatten(hour, url.searchParams.get("name")) : j.id === 2 ? flatten(studyWindows, url.searchParams.get("name")) : [] });
    if (sub === "/steps") return send(res, 200, { steps: j.id === 2 ? steps : [] });
    if (sub === "/result") return j.id === 2 ? send(res, 200, study) : j.id === 1 ? send(res, 200, { kind: "run", summary: j.summary, by_name: NAMES.map((n, k) => ({ name: n, requests: 144000, errors: 580, error_rate: 0.004, throughput_rps: 40, latency_ms: latency(12 * (1 + k * 0.4)) })), slo: [{ name: "p95", threshold: "< 250ms", value: 31, unit: "ms", pass: true }] }) : send(res, 404, { error: "no result yet" });
    if (sub === "/profiles") return send(res, 200, { profiles: j.id === 2 ? profiles : [] });
    if (sub === "/findings") return send(res, 200, j.id === 2 ? { findings, correlation } : { findings: [], correlation: {} });
    if (sub === "/cancel") return me.role === "viewer" ? send(res, 403, { error: "operator role required" }) : send(res, 202, {});
    if (sub === "/events") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      let next = Number(req.headers["last-event-id"] ?? url.searchParams.get("after") ?? 0);
      const tick = () => {
        const evs = liveEvents();
        for (; next < evs.length; next++) res.write(`id: ${next + 1}\nevent: ${evs[next].type}\ndata: ${JSON.stringify(evs[next].data)}\n\n`);
      };
      tick();
      const iv = setInterval(tick, 250);
      req.on("close", () => clearInterval(iv));
      return;
    }
  }
  if (p === "/api/v1/plans") return send(res, 200, { plans: [{ id: 1, name: "shop-soak", version: 3, created: new Date(hourStart).toISOString() }, { id: 2, name: "shop", version: 1, created: study.started }] });
  if (p === "/api/v1/compare") return send(res, 200, { verdict: "regression", reasons: ["p99 of checkout rose 34% (p < 0.001)"], names: ["all", ...NAMES].map((n) => ({ name: n, deltas: ["p50", "p95", "p99", "throughput_rps", "error_rate"].map((metric, k) => ({ metric, base: 10 + k, current: 12 + k, change: 2, change_pct: 20 - k * 3, p_value: 0.0004, significant: true, regressed: n === "checkout" && metric === "p99", improved: false })) })) });
  if (p.startsWith("/api/v1/schedules") || p.startsWith("/api/v1/reviews")) return send(res, 200, { schedules: [], reviews: [] });
  if (p.match(/^\/api\/v1\/plans\/\d+\/baseline$/)) return send(res, 200, { job_id: 1 });
  return send(res, 404, { error: "not in the fixture" });
});

// start listens on 127.0.0.1:port (0 = a free one) and returns the base URL.
export function start(port = 0) {
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}
export { server };

if (import.meta.url === `file://${process.argv[1]}`) {
  start(Number(process.argv[2] ?? process.env.PORT ?? 0)).then((url) => console.log(`fixture on ${url}`));
}
