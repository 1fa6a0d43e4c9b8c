// A short capacity study started from the dashboard against a real headroom
// serve and a loopback target that slows down as requests pile up: the step
// ladder fills in live with each step's verdict and the bracket, a reload
// keeps the seconds, and the finished study page shows the capacity, the USL
// (or why it is refused), stress and recovery and the recommendation.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { axe, launch, shot, waitFor } from "./browser.mjs";
import { freePort, serve } from "./harness.mjs";

let srv, tgt, browser;

before(async () => {
  // Each request takes longer the more are in flight: a knee to find.
  let inFlight = 0;
  tgt = http.createServer((req, res) => {
    inFlight++;
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"ok":true}');
    }, 2 + Math.max(0, inFlight - 1) * 6);
  });
  const port = await freePort();
  await new Promise((r) => tgt.listen(port, "127.0.0.1", r));
  srv = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise((r) => tgt?.close(r));
});

const plan = (base) => `version: 1
name: ui-study
description: A short study of a loopback target with a knee.
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
  max_rate: 400/s
capacity:
  start_rate: 20
  step_duration: 4s
  warmup: 25%
  precision: 25%
  cooldown: 1s
  stress_factor: 1.5
`;

test("a study watched live, then its analysis", async () => {
  const created = await srv.api("/plans", { yaml: plan(`http://127.0.0.1:${tgt.address().port}`) });
  assert.equal(created.status, 201, JSON.stringify(created.doc));
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await ctx.addInitScript((t) => localStorage.setItem("headroom.token", t), srv.tokens.operator);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${srv.url}/plans/${created.doc.id}`);
  await page.click("#start-study");
  await page.waitForURL(/\/jobs\/\d+$/);
  const id = new URL(page.url()).pathname.split("/").pop();

  // Steps arrive with their verdicts while the study runs.
  const rows = () => page.$$eval(".ladder table tbody tr[data-verdict]", (trs) => trs.map((t) => t.dataset.verdict));
  await waitFor(async () => (await rows()).length >= 2, "two steps in the ladder", 120000);
  const status = () => page.$eval(".jobhead .badge[data-status]", (e) => e.dataset.status);
  const live = await status();
  const before = await page.$eval("#seconds", (e) => Number(e.dataset.seconds));
  await page.reload();
  await waitFor(async () => (await page.$eval("#seconds", (e) => Number(e.dataset.seconds))) >= before, "the seconds after a reload");
  await waitFor(async () => (await rows()).length >= 2, "the ladder after a reload");
  await waitFor(async () => (await page.$eval("#seconds", (e) => Number(e.dataset.names))) === 1, "the request name's line after a reload");
  if (live === "running") {
    await waitFor(async () => (await rows()).includes("unacceptable"), "an unacceptable step", 120000).catch(() => {});
    await shot(page, "study-live");
    assert.deepEqual(await axe(page), [], "live study");
  }
  await waitFor(async () => !["queued", "running"].includes(await status()), "the study to end", 240000);
  assert.match(await page.textContent("#bracket"), /Acceptable up to/);

  await page.goto(`${srv.url}/jobs/${id}/study`);
  await page.waitForSelector("#recommendation");
  const text = await page.textContent("main");
  assert.match(text, /Single-instance capacity/);
  assert.match(text, /USL (fit over|not reported)/);
  assert.match(text, /Stress and recovery/);
  assert.ok((await page.$$("#recommendation ol.arith li")).length > 0, "the arithmetic");
  await shot(page, "study-finished");
  assert.deepEqual(await axe(page), [], "study page");
  await page.goto(`${srv.url}/jobs/${id}/findings`);
  await page.waitForSelector("#window");
  await shot(page, "study-findings");
  assert.deepEqual(await axe(page), [], "findings page");
  await ctx.close();
});
