// Profiles on real data: a real `headroom serve` runs a capacity study of
// the real demo shop (`headroom demo shop --cpu-burn 5ms --pprof-addr …`,
// its own process) with observe.pprof in the plan, so the study profiles
// every step. On the finished job's page a person sees the Profiles
// section: the largest CPU profile of a degraded step is open, its
// top function row names the burn function, its flame graph has nodes (the
// burn function among them), and its download is a gzipped pprof that
// `go tool pprof -top` reads back with the burn function in it. axe-core
// finds no violation in either theme.
//
// Preconditions (the test fails, not skips, when they do not hold): Debian's
// chromium, the go tool (to build headroom and read the profile back), and
// a study that finishes with CPU profiles kept.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ARTIFACTS, axeThemes, launch, shot, waitFor } from "./browser.mjs";
import { binary, serve, shop } from "./harness.mjs";

const BURN = "github.com/headroom-sre/headroom/demo/shop.burnCPU";
const dir = mkdtempSync(join(tmpdir(), "headroom-ui-profiles-"));
let srv, svc, browser;

before(async () => {
  process.env.HEADROOM_BIN = binary(dir); // one build for serve and the shop
  svc = await shop(["--cpu-burn", "5ms"]);
  srv = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await svc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const plan = (base, pprof) => `version: 1
name: ui-profiles
description: A short study of the demo shop burning 5 ms of CPU a request, profiled every step.
target:
  base_url: ${base}
  timeout: 2s
slo:
  p95: 40ms
load:
  model: open
  stages:
    - { duration: 5s, target: 10 }
journeys:
  - name: browse
    steps:
      - name: product
        get: /v1/products/1
        expect: { status: 200 }
abort:
  max_rate: 600/s
observe:
  pprof: ${pprof}
capacity:
  start_rate: 20
  step_duration: 4s
  warmup: 25%
  precision: 25%
  cooldown: 1s
  stress_factor: 1.5
`;

test("a real study of the shop with cpu_burn: top functions, flame graph and download of its profiles", async () => {
  const created = await srv.api("/plans", { yaml: plan(svc.url, svc.pprof) });
  assert.equal(created.status, 201, JSON.stringify(created.doc));
  // Started from the dashboard by an operator, as a person does.
  const octx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await octx.addInitScript((t) => localStorage.setItem("headroom.token", t), srv.tokens.operator);
  const op = await octx.newPage();
  await op.goto(`${srv.url}/plans/${created.doc.id}`);
  await op.click("#start-study");
  await op.waitForURL(/\/jobs\/\d+$/);
  const id = new URL(op.url()).pathname.split("/").pop();
  await octx.close();
  const done = await waitFor(async () => {
    const j = (await srv.api(`/jobs/${id}`)).doc;
    return ["queued", "running"].includes(j.status) ? null : j;
  }, "the study to end", 600000);
  assert.equal(done.status, "passed", `the study: ${JSON.stringify(done)}\n${srv.log().slice(-3000)}`);

  const got = await srv.api(`/jobs/${id}/profiles`, { token: srv.tokens.viewer });
  assert.equal(got.status, 200, `GET /jobs/${id}/profiles: ${JSON.stringify(got.doc)}`);
  const list = got.doc.profiles;
  const steps = (await srv.api(`/jobs/${id}/steps`)).doc.steps;
  const verdictOf = (p) => steps.find((s) => s.phase === p.phase && s.index === p.step)?.verdict;
  writeFileSync(ARTIFACTS + "profiles-list.json", JSON.stringify({ steps, profiles: list }, null, 2));
  const cpu = list.filter((p) => p.kind === "cpu");
  assert.ok(cpu.some((p) => p.phase === "baseline") && cpu.some((p) => p.phase !== "baseline"), `precondition: CPU profiles of the baseline and later steps: ${JSON.stringify(list.map((p) => [p.kind, p.phase, p.step]))}`);

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  await ctx.addInitScript((t) => localStorage.setItem("headroom.token", t), srv.tokens.viewer);
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${srv.url}/jobs/${id}`);
  await page.waitForSelector("#profiles details.profile");
  assert.equal(await page.$$eval("#profiles details.profile", (d) => d.length), list.length, "a card for each profile the API lists");

  // The open card: a CPU profile after the baseline, the burn function on top.
  const card = "#profiles details.profile[open]";
  assert.equal(await page.$$eval(card, (d) => d.length), 1, "one profile opens");
  const open = await page.$eval(card, (d) => ({ ...d.dataset }));
  assert.equal(open.kind, "cpu");
  assert.notEqual(open.phase, "baseline");
  const bad = list.filter((p) => p.kind === "cpu" && p.phase !== "baseline" && verdictOf(p) === "unacceptable");
  assert.ok(bad.length, "precondition: the study judged a profiled step not acceptable");
  assert.equal(Number(open.bytes), Math.max(...bad.map((p) => p.bytes)), "the largest degraded CPU profile opens");
  const rows = await page.$$eval(`${card} table.profile-top tbody tr`, (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  const api = list.find((p) => p.id === open.profile);
  assert.equal(rows.length, api.top.length, "a row for each top function");
  assert.equal(rows[0][0], BURN, `the top function row names the burn function: ${JSON.stringify(rows)}`);
  // Its change against the baseline is shown (with cpu_burn the burn function
  // tops the baseline too, so the sign is the run's noise, not asserted).
  assert.match(rows[0].at(-1), /^[+-]?\d+\.\d$/, `points against the baseline: ${rows[0].at(-1)}`);
  assert.match(await page.textContent(`${card} .psentence`), /% of CPU in shop\.burnCPU/);

  // The flame graph: a node per function of /flame, the burn function among them.
  await page.waitForSelector(`${card} svg.flame-svg g.flame-node`, { timeout: 30000 });
  const names = await page.$$eval(`${card} svg.flame-svg g.flame-node`, (gs) => gs.map((g) => g.dataset.name));
  assert.ok(names.length > 5, `the flame graph has nodes: ${names.length}`);
  assert.equal(names.length, await page.$eval(`${card} figure.flame`, (f) => Number(f.dataset.nodes)));
  assert.ok(names.includes(BURN), `the burn function is in the flame graph: ${names}`);
  const burn = await page.$eval(`${card} svg.flame-svg g.flame-node[data-name="${BURN}"] rect`, (r) => r.getBBox().width);
  const full = await page.$eval(`${card} svg.flame-svg`, (s) => Number(s.getAttribute("width")));
  assert.ok(burn > full / 4, `the burn function is wide: ${burn.toFixed(0)} of ${full} px`);
  // By keyboard: into the graph, Enter zooms into the selected function.
  await page.focus(`${card} svg.flame-svg g.flame-node[tabindex="0"]`);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  assert.notEqual(await page.$eval(`${card} figure.flame`, (f) => f.dataset.focus), "root");
  await page.keyboard.press("Escape");
  await shot(page, "profiles-real");

  // The download: a gzipped pprof that go tool pprof reads, the burn function in it.
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`${card} a[data-download]`)]);
  assert.match(dl.suggestedFilename(), /\.pb\.gz$/);
  const file = join(dir, dl.suggestedFilename());
  await dl.saveAs(file);
  const raw = readFileSync(file);
  assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b], "gzip bytes");
  const top = execFileSync("go", ["tool", "pprof", "-top", "-nodecount=50", file], { encoding: "utf8", env: { ...process.env, PPROF_TMPDIR: dir } });
  assert.ok(top.includes("shop.burnCPU"), `go tool pprof -top lists the burn function:\n${top.slice(0, 2000)}`);

  const violations = await axeThemes(page, `${card} svg.flame-svg g.flame-node`);
  writeFileSync(ARTIFACTS + "axe-profiles.json", JSON.stringify(violations, null, 2));
  assert.deepEqual(violations, [], "axe-core: no violation, both themes");
  await page.evaluate(() => localStorage.setItem("headroom.theme", "light"));
  await page.reload();
  await page.waitForSelector(`${card} svg.flame-svg g.flame-node`);
  await shot(page, "profiles-real-light");
  await page.evaluate(() => localStorage.setItem("headroom.theme", "dark"));
  assert.deepEqual(errors, [], "no page errors");
  await ctx.close();
});
