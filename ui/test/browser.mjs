// Shared pieces of the browser tests: Debian's Chromium driven by
// playwright-core (headless, --no-sandbox, a fresh profile each launch), the
// axe-core check, screenshots kept under ui/artifacts/.
import { chromium } from "playwright-core";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";

export const ARTIFACTS = new URL("../artifacts/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

// ensureChromium installs Debian's chromium when it is missing (root, apt-get).
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  execFileSync("apt-get", ["update"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

export async function launch() {
  ensureChromium();
  // launch() gives every browser a fresh temporary profile.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// axe runs axe-core on the page in both themes (switching the page's
// data-theme in place, then back) and returns its violations, of any
// impact, each named with its theme.
export async function axe(page) {
  // Evaluated over the DevTools protocol: the dashboard's CSP (no inline scripts) stays on.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource + "\n;void 0");
  const first = await page.evaluate(() => document.documentElement.dataset.theme || "dark");
  const out = [];
  for (const theme of [first, first === "dark" ? "light" : "dark"]) {
    const r = await page.evaluate(async (t) => {
      document.documentElement.dataset.theme = t;
      // eslint-disable-next-line no-undef
      const res = await window.axe.run(document, { resultTypes: ["violations"] });
      return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
    }, theme);
    for (const v of r) out.push({ theme, ...v });
  }
  await page.evaluate((t) => (document.documentElement.dataset.theme = t), first);
  return out;
}

// axeThemes runs axe-core on the page as a person opens it in the dark and
// in the light theme (the stored choice, a reload each, waiting for ready, a
// selector), leaving the dark theme set, and returns every violation (of
// both themes each time, see axe).
export async function axeThemes(page, ready) {
  const out = [];
  for (const theme of ["dark", "light"]) {
    await page.evaluate((t) => localStorage.setItem("headroom.theme", t), theme);
    await page.reload();
    await page.waitForSelector(ready);
    await page.waitForFunction((t) => (document.documentElement.dataset.theme || "dark") === t, theme);
    out.push(...(await axe(page)));
  }
  await page.evaluate(() => localStorage.setItem("headroom.theme", "dark"));
  return out;
}

// plotted is each chart's title and how many values it plots (data-plotted).
export function plotted(page, scope = "") {
  return page.$$eval(`${scope} figure.chart`, (fs) => fs.map((f) => ({ title: f.getAttribute("aria-label"), plotted: Number(f.dataset.plotted || 0) })));
}

export async function shot(page, name) {
  for (const width of [1280, 1920]) {
    await page.setViewportSize({ width, height: 1000 });
    // uPlot resizes on the next frame; wait for two.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: `${ARTIFACTS}${name}-${width}.png`, fullPage: true });
  }
}

// waitFor polls fn until it returns a truthy value or the deadline passes.
export async function waitFor(fn, what, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
