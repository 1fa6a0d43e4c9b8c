// A real capacity study through a real headroom serve: a loopback target
// with a CPU knee in its own process, a real Prometheus scraping its CPU
// every second, the study started from the dashboard. Each page is checked
// for what a person sees: the live view grows while the study runs and
// survives a reload, the ladder has a row for every step the API has, in
// phases in the order they ran, every chart plots values, the findings page
// draws the latency and the target's CPU over time and against load, the
// jobs list, the header and the report give one verdict, and axe-core finds
// no violation of any impact in either theme.
//
// Preconditions (the test fails, not skips, when they do not hold): Debian's
// chromium and prometheus, and a study that is still running when the
// dashboard first shows two of its steps.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { ARTIFACTS, axeThemes, launch, plotted, shot, waitFor } from "./browser.mjs";
import { kneeTarget, prometheus, serve } from "./harness.mjs";

let srv, tgt, prom, browser;

before(async () => {
  tgt = await kneeTarget();
  prom = await prometheus([`127.0.0.1:${tgt.port}`]);
  srv = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await prom?.stop();
  await tgt?.stop();
});

const plan = (base, promURL) => `version: 1
name: ui-study
description: A short study of a loopback target whose CPU is the knee.
target:
  base_url: ${base}
  timeout: 1s
slo:
  p95: 40ms
load:
  model: open
  stages:
    - { duration: 5s, target: 10 }
journeys:
  - name: browse
    steps:
      - name: list items
        get: /items
        expect: { status: 200 }
abort:
  max_rate: 600/s
observe:
  prometheus: ${promURL}
  selector: '{job="target"}'
capacity:
  start_rate: 20
  step_duration: 4s
  warmup: 25%
  precision: 25%
  cooldown: 1s
  stress_factor: 1.5
`;

test("a real study, watched live, then every page", async () => {
  // The target is scraped before the study starts.
  await waitFor(async () => {
    const r = await (await fetch(`${prom.url}/api/v1/query?query=up{job="target"}`)).json();
    return r.data?.result?.[0]?.value?.[1] === "1";
  }, "Prometheus scraping the target", 30000);
  const created = await srv.api("/plans", { yaml: plan(tgt.url, prom.url) });
  assert.equal(created.status, 201, JSON.stringify(created.doc));
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await ctx.addInitScript((t) => localStorage.setItem("headroom.token", t), srv.tokens.operator);
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const violations = [];
  await page.goto(`${srv.url}/plans/${created.doc.id}`);
  await page.click("#start-study");
  await page.waitForURL(/\/jobs\/\d+$/);
  const id = new URL(page.url()).pathname.split("/").pop();

  // Live: steps arrive with their verdicts and the seconds grow.
  const rows = () => page.$$eval(".ladder table tbody tr.step", (trs) => trs.map((t) => `${t.dataset.phase}:${t.dataset.verdict}`));
  const status = () => page.$eval(".jobhead .badge[data-status]", (e) => e.dataset.status);
  const seconds = () => page.$eval("#seconds", (e) => Number(e.dataset.seconds || 0));
  await waitFor(async () => (await rows()).length >= 2, "two steps in the ladder", 120000);
  assert.equal(await status(), "running", "precondition: the study is still running after two steps");
  const n0 = await seconds();
  await waitFor(async () => (await seconds()) > n0, "the live seconds to grow", 30000);
  const lat0 = (await plotted(page)).find((c) => c.title.startsWith("Latency, all"));
  assert.ok(lat0 && lat0.plotted > 0, `the live latency chart plots values: ${JSON.stringify(lat0)}`);
  await shot(page, "study-live");
  const steps0 = (await rows()).length;
  const n1 = await seconds();
  await page.reload();
  await waitFor(async () => (await seconds()) >= n1, "the seconds held before the reload");
  await waitFor(async () => (await rows()).length >= steps0, "the ladder held before the reload");
  assert.equal(await status(), "running", "precondition: the study is still running after the reload");
  const n2 = await seconds();
  await waitFor(async () => (await seconds()) > n2, "the live seconds to grow after the reload", 30000);
  await waitFor(async () => (await rows()).length > steps0 || !["queued", "running"].includes(await status()), "a new step after the reload", 120000);
  assert.ok((await rows()).length > steps0, "a step arrived after the reload while the study ran");

  await waitFor(async () => !["queued", "running"].includes(await status()), "the study to end", 300000);
  assert.equal(await status(), "passed", await page.textContent(".jobhead"));

  // The finished ladder: every step the API has, grouped by phase in the order run.
  const api = (await srv.api(`/jobs/${id}/steps`)).doc.steps;
  assert.ok(api.length >= 4, `the study ran steps: ${api.length}`);
  await waitFor(async () => (await rows()).length === api.length, `a ladder row for each of the API's ${api.length} steps`, 30000);
  const phases = await page.$$eval(".ladder table tbody[data-phase]", (bs) => bs.map((b) => b.dataset.phase));
  assert.equal(new Set(phases).size, phases.length, `one group per phase: ${phases}`);
  const firstRun = [...new Set([...api].sort((a, b) => Date.parse(a.start) - Date.parse(b.start)).map((s) => s.phase))];
  assert.deepEqual(phases, firstRun, "phases in the order they first ran");
  for (const c of await plotted(page)) assert.ok(c.plotted > 0, `the job page's chart "${c.title}" plots values`);
  await shot(page, "study-finished-job");

  // One verdict: the header, the jobs list and the report agree.
  const job = (await srv.api(`/jobs/${id}`)).doc;
  assert.equal(typeof job.summary.ready, "boolean", "the job's summary holds the report's verdict");
  const sentence = job.summary.readiness;
  assert.equal((await page.textContent("#readiness")).trim(), sentence);
  const md = await fetch(`${srv.url}/api/v1/jobs/${id}/report?format=md`, { headers: { Authorization: `Bearer ${srv.tokens.operator}` } }).then((r) => r.text());
  assert.ok(md.includes(sentence), `the report says "${sentence}"`);
  violations.push(...(await axeThemes(page, ".ladder table tbody tr.step")).map((v) => ({ page: "job", ...v })));
  await page.goto(`${srv.url}/jobs`);
  const row = await page.waitForSelector(`tr:has(a[href="/jobs/${id}"])`);
  const cells = await row.textContent();
  assert.match(cells, job.summary.ready ? /Ready/ : /Not ready/);
  if (job.summary.capacity_rps) assert.match(cells, /req\/s per instance/);
  if (job.summary.top_finding) assert.ok(cells.includes(job.summary.top_finding), "the top finding in the row");
  violations.push(...(await axeThemes(page, `a[href="/jobs/${id}"]`)).map((v) => ({ page: "jobs", ...v })));

  await page.goto(`${srv.url}/jobs/${id}/study`);
  await page.waitForSelector("#recommendation");
  const text = await page.textContent("main");
  assert.match(text, /Single-instance capacity/);
  assert.match(text, /Stress and recovery/);
  assert.equal(await page.$$eval(".ladder table tbody tr.step", (t) => t.length), api.length, "the study page's ladder has every step");
  for (const c of await plotted(page)) assert.ok(c.plotted > 0, `the study page's chart "${c.title}" plots values`);
  await shot(page, "study-finished");
  violations.push(...(await axeThemes(page, "#recommendation")).map((v) => ({ page: "study", ...v })));

  // Findings: the latency over time and the target's CPU, over time and against load.
  await page.goto(`${srv.url}/jobs/${id}/findings`);
  await page.waitForSelector("#window figure.chart");
  const lat = await plotted(page, "#window");
  assert.ok(lat[0].plotted > 0, `the findings page's latency chart plots values: ${JSON.stringify(lat)}`);
  await page.waitForSelector('#signals [data-signal="cpu_usage"] figure.over-time');
  const cpuTime = await plotted(page, '#signals [data-signal="cpu_usage"] .reading');
  assert.ok(cpuTime.length === 2 && cpuTime.every((c) => c.plotted > 0), `the CPU over time and against load plot values: ${JSON.stringify(cpuTime)}`);
  for (const c of await plotted(page)) assert.ok(c.plotted > 0, `the findings page's chart "${c.title}" plots values`);
  await shot(page, "study-findings");
  violations.push(...(await axeThemes(page, "#window figure.chart")).map((v) => ({ page: "findings", ...v })));

  writeFileSync(ARTIFACTS + "axe-study.json", JSON.stringify(violations, null, 2));
  assert.deepEqual(violations, [], "axe-core: no violation of any impact, both themes, every page");
  assert.deepEqual(errors, [], "no page errors");
  await ctx.close();
});
