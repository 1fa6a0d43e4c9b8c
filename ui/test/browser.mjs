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

// axe runs axe-core on the page and returns its serious and critical violations.
export async function axe(page) {
  // Evaluated over the DevTools protocol: the dashboard's CSP (no inline scripts) stays on.
  await page.evaluate(axeSource + "\n;void 0");
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await window.axe.run(document, { resultTypes: ["violations"] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return r.filter((v) => v.impact === "serious" || v.impact === "critical");
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
