// The dashboard's benchmarks, printed by `make bench` (make bench-ui):
//   - the one-hour run's open time: the fixture's 3,600 seconds × 5 request
//     names, from navigation until every chart holds the hour (the median
//     of BENCH_UI_RUNS opens, default 3);
//   - the bundle's gzipped size: dist/assets (JS and CSS), gzip level 9.
// Figures, not pass/fail: machines differ.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { launch } from "../test/browser.mjs";
import { server, start } from "../test/fixture-server.mjs";
import { ensureBuilt } from "../test/harness.mjs";

ensureBuilt();
const assets = new URL("../dist/assets/", import.meta.url).pathname;
let raw = 0;
let gz = 0;
for (const f of readdirSync(assets)) {
  if (!/\.(js|css)$/.test(f)) continue;
  const b = readFileSync(join(assets, f));
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
}
console.log(`ui bundle: ${(gz / 1024).toFixed(1)} KiB gzipped (${(raw / 1024).toFixed(1)} KiB raw; dist/assets JS and CSS)`);

const runs = Math.max(1, Number(process.env.BENCH_UI_RUNS ?? 3));
const url = await start(0);
const browser = await launch();
const times = [];
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await ctx.addInitScript(() => localStorage.setItem("headroom.token", "fixture-admin"));
    const page = await ctx.newPage();
    const t0 = performance.now();
    await page.goto(url + "/jobs/1");
    await page.waitForFunction(() => {
      const s = document.querySelector("#seconds");
      const charts = [...document.querySelectorAll("figure.chart")];
      return s && s.dataset.seconds === "3600" && s.dataset.nameSeconds === "3600" && charts.length >= 5 && charts.every((c) => c.dataset.points === "3600");
    }, null, { timeout: 300000, polling: "raf" });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    times.push(performance.now() - t0);
    await ctx.close();
  }
} finally {
  await browser.close();
  await new Promise((r) => server.close(r));
}
times.sort((a, b) => a - b);
console.log(`ui one-hour run (3,600 s × 5 names): opened in ${Math.round(times[Math.floor(times.length / 2)])} ms (median of ${runs}; all: ${times.map(Math.round).join(", ")} ms)`);
