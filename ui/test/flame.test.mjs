// The flame graph: its geometry on a fixture tree (src/flamelayout.ts,
// compiled here by TypeScript, no browser), then the job page's Profiles
// section on the fixture's study (test/fixture-server.mjs, the contract's
// shapes): the top functions table, the flame graph drawn as SVG with a
// node per function, zoomed and walked by keyboard alone, the download
// saved under the server's file name, axe-clean in both themes. The same
// section on a real study of the shop is profiles.test.mjs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import ts from "typescript";
import { axeThemes, launch, shot } from "./browser.mjs";
import { server, start } from "./fixture-server.mjs";
import { ensureBuilt } from "./harness.mjs";

const dir = mkdtempSync(join(tmpdir(), "headroom-flame-"));
let fl; // the compiled src/flamelayout.ts

before(async () => {
  const src = readFileSync(new URL("../src/flamelayout.ts", import.meta.url), "utf8");
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(join(dir, "flamelayout.mjs"), js);
  fl = await import(join(dir, "flamelayout.mjs"));
});

after(() => rmSync(dir, { recursive: true, force: true }));

// main → (a: 60 → a1: 50), (b: 30), self 10; gc: 20. Root 120.
const fixture = {
  name: "root",
  value: 120,
  children: [
    { name: "runtime.gcBgMarkWorker", value: 20, children: [] },
    {
      name: "main.main",
      value: 100,
      children: [
        { name: "main.b", value: 30, children: null },
        { name: "main.a", value: 60, children: [{ name: "crypto/sha256.block", value: 50 }] },
        { name: "main.zero", value: 0, children: [] },
      ],
    },
  ],
};

test("layout: pre-order, widths in shares of the root, the widest callee first from the caller's left edge", () => {
  const b = fl.layout(fixture);
  assert.deepEqual(
    b.map((x) => [x.name, x.depth, +x.x.toFixed(4), +x.w.toFixed(4), x.parent]),
    [
      ["root", 0, 0, 1, -1],
      ["main.main", 1, 0, 0.8333, 0],
      ["main.a", 2, 0, 0.5, 1],
      ["crypto/sha256.block", 3, 0, 0.4167, 2],
      ["main.b", 2, 0.5, 0.25, 1],
      ["runtime.gcBgMarkWorker", 1, 0.8333, 0.1667, 0],
    ],
    "main.zero (no value) is left out; a caller keeps its own time at its right",
  );
  assert.deepEqual(b[1].children, [2, 4]);
  assert.deepEqual(fl.layout({ name: "root", value: 0 }).length, 1, "an empty profile is a lone root");
});

test("view: the zoomed function at full width, its callers above it, the rest out of view", () => {
  const b = fl.layout(fixture);
  const v = fl.view(b, 2); // main.a
  assert.deepEqual(
    v.map((p) => [b[p.index].name, +p.x.toFixed(4), +p.w.toFixed(4), p.ancestor]),
    [
      ["root", 0, 1, true],
      ["main.main", 0, 1, true],
      ["main.a", 0, 1, false],
      ["crypto/sha256.block", 0, 0.8333, false],
    ],
  );
  assert.equal(fl.view(b, 0).length, b.length, "the root's view holds every function");
});

test("move: up to the caller, down to the widest callee, left and right along the row", () => {
  const b = fl.layout(fixture);
  const all = fl.view(b, 0);
  const name = (i) => b[i].name;
  assert.equal(name(fl.move(b, all, 0, "ArrowDown")), "main.main");
  assert.equal(name(fl.move(b, all, 1, "ArrowRight")), "runtime.gcBgMarkWorker");
  assert.equal(name(fl.move(b, all, 5, "ArrowRight")), "runtime.gcBgMarkWorker", "the row's end stays put");
  assert.equal(name(fl.move(b, all, 4, "ArrowLeft")), "main.a");
  assert.equal(name(fl.move(b, all, 3, "ArrowUp")), "main.a");
  assert.equal(name(fl.move(b, all, 0, "ArrowUp")), "root");
  assert.equal(name(fl.move(b, all, 3, "Home")), "root");
  // Zoomed into main.a: main.b is out of view, so right goes nowhere.
  const zoomed = fl.view(b, 2);
  assert.equal(name(fl.move(b, zoomed, 2, "ArrowRight")), "main.a");
  assert.equal(name(fl.move(b, zoomed, 4, "ArrowUp")), "root", "from out of view: the top row");
});

test("label: whole, the tail after an ellipsis, or nothing", () => {
  const n = "github.com/headroom-sre/headroom/demo/shop.burnCPU";
  assert.equal(fl.label(n, 1000, 7), n);
  assert.equal(fl.label(n, 70, 7), "…p.burnCPU");
  assert.equal(fl.label(n, 20, 7), "");
  assert.equal(fl.hue("main.a", 6), fl.hue("main.(*T).b", 6), "one package, one colour");
});

test("the Profiles section on the fixture study: table, flame graph, keyboard, download, axe", async () => {
  ensureBuilt();
  const url = await start(0);
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
    await ctx.addInitScript(() => localStorage.setItem("headroom.token", "fixture-viewer"));
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url + "/jobs/2");
    await page.waitForSelector("#profiles details.profile");
    const cards = await page.$$eval("#profiles details.profile", (ds) => ds.map((d) => ({ title: d.querySelector(".ptitle").textContent, open: d.open, verdict: d.dataset.verdict })));
    assert.deepEqual(cards, [
      { title: "CPU · baseline · shop", open: false, verdict: "acceptable" },
      { title: "CPU · explore step 5 · shop", open: true, verdict: "unacceptable" },
    ], "the largest profile of a degraded step opens; the ladder's verdicts");
    const card = '#profiles details.profile[data-profile="2"]';
    const first = await page.$eval(`${card} table.profile-top tbody tr`, (tr) => [...tr.children].map((c) => c.textContent));
    assert.deepEqual(first, ["github.com/headroom-sre/headroom/demo/shop.burnCPU", "64.0%", "6.4%", "64.0%", "1.90", "+61.4"]);
    const heads = await page.$$eval(`${card} table.profile-top thead th`, (t) => t.map((c) => c.textContent));
    assert.deepEqual(heads, ["Function", "Own", "Flat", "Cum", "ms per request", "Points vs baseline"]);
    assert.match(await page.textContent(`${card} summary`), /160\/s offered · unacceptable · 8 s · 2650 requests/);
    assert.equal(await page.textContent(`${card} .psentence`), "64% of CPU in shop.burnCPU");
    const baseHeads = await page.$$eval('#profiles details.profile[data-profile="1"] table.profile-top thead th', (t) => t.map((c) => c.textContent));
    assert.deepEqual(baseHeads, ["Function", "Own", "Flat", "Cum", "ms per request"], "the baseline has no points");

    // The flame graph: a node per function of the tree, the burn function among them.
    await page.waitForSelector(`${card} svg.flame-svg g.flame-node`);
    const nodes = await page.$$eval(`${card} svg.flame-svg g.flame-node`, (gs) => gs.map((g) => g.dataset.name));
    assert.equal(nodes.length, await page.$eval(`${card} figure.flame`, (f) => Number(f.dataset.nodes)));
    assert.ok(nodes.length > 15, `the graph has the tree's functions: ${nodes.length}`);
    assert.ok(nodes.includes("github.com/headroom-sre/headroom/demo/shop.burnCPU"));
    const labels = await page.$$eval(`${card} svg.flame-svg text`, (t) => t.map((x) => x.textContent));
    assert.ok(labels.some((l) => l.endsWith("shop.burnCPU")), `the burn function is labelled: ${labels}`);
    await shot(page, "fixture-profiles");

    // Keyboard alone: tab to the graph, down the hot path, zoom in, zoom out.
    await page.focus(`${card} svg.flame-svg g.flame-node[tabindex="0"]`);
    const selected = () => page.$eval(`${card} figure.flame`, (f) => f.dataset.selected);
    const focused = () => page.evaluate(() => document.activeElement?.dataset?.name);
    assert.equal(await selected(), "root");
    for (const name of ["runtime.goexit", "net/http.(*conn).serve", "net/http.serverHandler.ServeHTTP", "github.com/headroom-sre/headroom/demo/shop.(*Server).serveLimited", "github.com/headroom-sre/headroom/demo/shop.burnCPU"]) {
      await page.keyboard.press("ArrowDown");
      assert.equal(await selected(), name);
      assert.equal(await focused(), name, "focus follows the selection");
    }
    assert.match(await page.textContent(`${card} .flame-said`), /^github\.com\/headroom-sre\/headroom\/demo\/shop\.burnCPU: 3\.60 s, \d+\.\d% of the profile \(\d+\.\d% of its caller/);
    await page.keyboard.press("ArrowRight");
    assert.equal(await selected(), "github.com/headroom-sre/headroom/demo/shop.(*Server).listProducts");
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("Enter");
    assert.equal(await page.$eval(`${card} figure.flame`, (f) => f.dataset.focus), "github.com/headroom-sre/headroom/demo/shop.burnCPU");
    const zoomed = await page.$$eval(`${card} svg.flame-svg g.flame-node:not(.anc)`, (gs) => gs.map((g) => [g.dataset.name, Math.round(g.querySelector("rect").getBBox().width)]));
    const full = await page.$eval(`${card} svg.flame-svg`, (s) => Number(s.getAttribute("width")));
    assert.deepEqual(zoomed.map((z) => z[0]), ["github.com/headroom-sre/headroom/demo/shop.burnCPU", "crypto/sha256.blockAVX2"]);
    assert.ok(Math.abs(zoomed[0][1] - full) <= 2, `the zoomed function spans the graph: ${zoomed[0][1]} of ${full}`);
    assert.ok(await page.isVisible(`${card} .flame-reset`), "a button shows the whole profile again");
    await shot(page, "fixture-profiles-zoomed");
    await page.keyboard.press("Escape");
    assert.equal(await page.$eval(`${card} figure.flame`, (f) => f.dataset.focus), "root");
    assert.equal(await page.$$eval(`${card} svg.flame-svg g.flame-node`, (g) => g.length), nodes.length);

    // A click zooms too.
    await page.click(`${card} svg.flame-svg g.flame-node[data-name="runtime.gcBgMarkWorker"]`);
    assert.equal(await page.$eval(`${card} figure.flame`, (f) => f.dataset.focus), "runtime.gcBgMarkWorker");
    await page.click(`${card} .flame-reset`);

    // The download: the server's file name, gzip bytes.
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click(`${card} a[data-download]`)]);
    assert.equal(dl.suggestedFilename(), "job-2-cpu-explore-5.pb.gz");
    const saved = join(dir, "p.pb.gz");
    await dl.saveAs(saved);
    assert.equal(gunzipSync(readFileSync(saved)).toString(), "fixture profile 2");

    // The closed baseline card draws its graph when opened.
    await page.click('#profiles details.profile[data-profile="1"] summary');
    await page.waitForSelector('#profiles details.profile[data-profile="1"] svg.flame-svg g.flame-node');
    assert.ok(!(await page.$('#profiles details.profile[data-profile="1"] g.flame-node[data-name$="shop.burnCPU"]')), "the baseline has no burn");

    assert.deepEqual(await axeThemes(page, `${card} svg.flame-svg g.flame-node`), [], "axe-core: no violation, both themes");
    await page.evaluate(() => localStorage.setItem("headroom.theme", "light"));
    await page.reload();
    await page.waitForSelector(`${card} svg.flame-svg g.flame-node`);
    await shot(page, "fixture-profiles-light");
    await page.evaluate(() => localStorage.removeItem("headroom.theme"));
    assert.deepEqual(errors, [], "no page errors");
    await ctx.close();
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
});
