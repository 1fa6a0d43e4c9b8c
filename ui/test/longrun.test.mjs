// A one-hour run (3,600 windows × 5 request names) and a study with findings,
// served by the fixture (test/fixture-server.mjs) in the API's shapes: the
// dashboard opens them whole (no per-point DOM: a canvas per chart), axe-core
// finds no violation, every chart plots the hour. How long the hour takes
// to open is a benchmark (scripts/bench.mjs, make bench), not a test.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, launch, shot, waitFor } from "./browser.mjs";
import { server, start } from "./fixture-server.mjs";
import { ensureBuilt } from "./harness.mjs";

let url, browser, page;

before(async () => {
  ensureBuilt();
  url = await start(0);
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await ctx.addInitScript(() => localStorage.setItem("headroom.token", "fixture-admin"));
  page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server.close(r));
});

test("a one-hour run opens whole, every request name included", async () => {
  await page.goto(url + "/jobs/1");
  await page.waitForFunction(() => {
    const s = document.querySelector("#seconds");
    return s && s.dataset.seconds === "3600" && s.dataset.names === "5" && s.dataset.nameSeconds === "3600";
  }, null, { timeout: 120000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  // Every chart holds the hour on one canvas.
  const charts = await page.$$eval("figure.chart", (fs) => fs.map((f) => ({ points: Number(f.dataset.points), canvases: f.querySelectorAll("canvas").length })));
  assert.ok(charts.length >= 5);
  for (const c of charts) assert.deepEqual(c, { points: 3600, canvases: 1 });
  for (const c of await page.$$eval("figure.chart", (fs) => fs.map((f) => Number(f.dataset.plotted)))) assert.ok(c >= 3600, `a chart plots the hour: ${c} values`);
  // Hovering the charts moves uPlot's cursor; the page answers.
  const box = await page.$eval('figure.chart[aria-label^="Latency, all"] canvas', (c) => { const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  for (let i = 0; i < 40; i++) await page.mouse.move(box.x + (box.w * i) / 40, box.y + box.h / 2);
  await page.waitForSelector(".u-legend .u-value");
  const domNodes = await page.evaluate(() => document.getElementsByTagName("*").length);
  assert.ok(domNodes < 3000, `DOM stays small: ${domNodes} nodes`);
  await shot(page, "fixture-one-hour-run");
  assert.deepEqual(await axe(page), []);
});

test("a live study from the stream: ladder, bracket, charts", async () => {
  await page.goto(url + "/jobs/3");
  await waitFor(() => page.$eval("#seconds", (e) => Number(e.dataset.seconds) >= 12), "a step of the live study", 60000);
  await page.waitForSelector(".ladder table tbody tr[data-verdict]");
  await shot(page, "fixture-live-study");
  assert.deepEqual(await axe(page), []);
});

test("a study page and a findings page", async () => {
  await page.goto(url + "/jobs/2/study");
  await page.waitForSelector("#recommendation ol.arith li");
  assert.match(await page.textContent("#usl"), /USL fit over 8 points/);
  await shot(page, "fixture-study");
  assert.deepEqual(await axe(page), []);
  await page.goto(url + "/jobs/2/findings");
  await page.waitForSelector("article.finding");
  assert.equal((await page.$$("article.finding")).length, 2);
  assert.ok(await page.$("#spans table"));
  assert.ok(await page.$('#traces a[href^="http://127.0.0.1:16686/trace/"]'));
  await shot(page, "fixture-findings");
  assert.deepEqual(await axe(page), []);
  for (const theme of ["light"]) {
    await page.evaluate((t) => localStorage.setItem("headroom.theme", t), theme);
    await page.reload();
    await page.waitForSelector("article.finding");
    await shot(page, `fixture-findings-${theme}`);
    assert.deepEqual(await axe(page), [], `${theme} theme`);
    await page.evaluate(() => localStorage.removeItem("headroom.theme"));
  }
});
