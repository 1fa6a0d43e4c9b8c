// The Soak · spike · assess page in a real browser against a real headroom
// serve: a soak run and a spike run of the test's loopback target go through
// the server's job runner; the page shows each verdict and its figures.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axe, launch, shot, waitFor } from "./browser.mjs";
import { serve, target } from "./harness.mjs";

let srv, tgt, browser;

before(async () => {
  tgt = await target();
  srv = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await tgt?.close();
});

const plan = (base, name, extra) => `version: 1
name: ${name}
target: { base_url: ${base}, timeout: 2s }
slo: { p99: 500ms, error_rate: 5% }
load:
  stages: [ { duration: 2s, target: 10 } ]
journeys:
  - name: browse
    steps:
      - { name: item detail, get: /items/1, expect: { status: 200 } }
${extra}`;

async function runJob(name, extra) {
  const created = await srv.api("/plans", { yaml: plan(tgt.url, name, extra) });
  assert.equal(created.status, 201, JSON.stringify(created.doc));
  const job = await srv.api("/jobs", { body: { plan_id: created.doc.id, kind: "run" } });
  assert.equal(job.status, 202, JSON.stringify(job.doc));
  const id = job.doc.id;
  await waitFor(async () => ["passed", "failed", "aborted", "cancelled", "interrupted"].includes((await srv.api(`/jobs/${id}`)).doc.status), `job ${name} to finish`, 120000);
  return id;
}

test("soak and spike verdicts on the loop page", async () => {
  // Both at once: 30 s of soak; a spike of 5 s, 1 s ramps, 5 s hold, 15 s after.
  const [soakID, spikeID] = await Promise.all([
    runJob("ui-soak", "soak: { duration: 30s, warmup: 10% }\n"),
    runJob("ui-spike", "spike: { baseline: 10, factor: 3, ramp: 1s, hold: 5s, before: 5s, after: 15s }\n"),
  ]);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(srv.url + "/signin");
  await page.fill("#token", srv.tokens.admin);
  await page.click("form button[type=submit]");
  await page.waitForURL(/\/jobs/);

  await page.goto(`${srv.url}/jobs/${soakID}`);
  await page.click("a.button[href$='/loop']");
  await page.waitForSelector("#soak table");
  // No Prometheus in this plan: the service's signals are not available,
  // Headroom's own ones (p99, error rate, its memory) are judged.
  const verdict = (name) => page.$eval(`#soak tr[data-signal="${name}"] .badge`, (e) => e.textContent);
  assert.equal(await verdict("memory"), "not available");
  assert.equal(await verdict("error_rate"), "flat");
  assert.match(await verdict("p99"), /^(flat|leak)$/);
  assert.match(await page.textContent("#soak h2 .badge"), /not available/);
  assert.match(await page.textContent(`#soak tr[data-signal="p99"]`), /ms\/h/);
  assert.deepEqual(await axe(page), []);
  await shot(page, "loop-soak");

  await page.goto(`${srv.url}/jobs/${spikeID}/loop`);
  await page.waitForSelector("#spike .tiles");
  assert.equal(await page.textContent("#spike h2 .badge"), "recovered");
  const tiles = await page.textContent("#spike .tiles");
  assert.match(tiles, /10 → 30 it\/s/);
  assert.match(tiles, /recovery\s*\d+ s/);
  assert.match(await page.textContent("#spike .statement"), /from 10 to 30 it\/s in 1s/);
  assert.deepEqual(await axe(page), []);
  await shot(page, "loop-spike");
  await ctx.close();
});
