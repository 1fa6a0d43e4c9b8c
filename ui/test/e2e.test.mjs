// The dashboard in a real browser against a real headroom serve: sign in,
// a plan with a validation error at its line, a run watched live, a reload
// mid-run, the finished run, a compare, a viewer's missing buttons and the
// API's 403, axe-core on every page, screenshots at 1280 and 1920 px.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { ARTIFACTS, axe, launch, shot, waitFor } from "./browser.mjs";
import { serve, target } from "./harness.mjs";

let srv, tgt, browser;
const violations = [];

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

function planYAML(base, { model = "open", seconds = 20 } = {}) {
  return `version: 1
name: ui-e2e
description: Two requests an iteration against the test's loopback target.

target:
  base_url: ${base}
  timeout: 2s

slo:
  p95: 500ms
  error_rate: 5%

load:
  model: ${model}
  stages:
    - { duration: 1s, target: 8 }
    - { duration: ${seconds}s, target: 8 }

journeys:
  - name: browse
    steps:
      - name: list items
        get: /items
        expect: { status: 200 }
      - name: item detail
        get: /items/1
        expect: { status: 200 }
`;
}

async function check(page, name) {
  const v = await axe(page);
  for (const x of v) violations.push({ page: name, ...x });
}

async function signIn(ctx, token) {
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(srv.url + "/jobs");
  await page.waitForURL(/\/signin/);
  await page.fill("#token", token);
  await page.click("form button[type=submit]");
  await page.waitForURL(/\/jobs/);
  return page;
}

const seconds = (page) => page.$eval("#seconds", (e) => ({ n: Number(e.dataset.seconds || 0), first: e.dataset.first, names: Number(e.dataset.names || 0), named: Number(e.dataset.nameSeconds || 0) }));
const status = (page) => page.$eval(".jobhead .badge[data-status]", (e) => e.dataset.status);
const chartPoints = (page, label) => page.$eval(`figure.chart[aria-label^="${label}"]`, (e) => Number(e.dataset.points || 0));

test("the dashboard against a real headroom serve", async (t) => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  let page;
  let planID, job1, job2;

  await t.test("sign in with a token; a wrong one is refused", async () => {
    const p = await ctx.newPage();
    await p.goto(srv.url + "/signin");
    await check(p, "signin");
    await p.fill("#token", "hr_not-a-token");
    await p.click("form button[type=submit]");
    await waitFor(() => p.$eval("p.error", (e) => e.textContent.includes("not known")), "the refusal");
    await p.close();
    page = await signIn(ctx, srv.tokens.admin);
    assert.match(await page.textContent(".who"), /admin/);
    await check(page, "jobs");
    await page.goto(srv.url + "/jobs");
    await page.waitForSelector("table.list tbody tr");
  });

  await t.test("a plan shows its validation problem at its line, then saves", async () => {
    await page.goto(srv.url + "/plans/new");
    const bad = planYAML(tgt.url, { model: "sideways" });
    const line = bad.split("\n").findIndex((l) => l.includes("model: sideways")) + 1;
    await page.fill("#yaml", bad);
    await page.waitForSelector(`.gutter .ln.err[data-line="${line}"]`);
    const item = await page.waitForSelector(`#problems li[data-line="${line}"]`);
    assert.match(await item.textContent(), new RegExp(`line ${line}`));
    assert.match(await item.textContent(), /model/);
    await shot(page, "plan-error");
    await check(page, "plan editor");
    await page.fill("#yaml", planYAML(tgt.url));
    await waitFor(() => page.$eval("#valid", (e) => e.textContent === "Valid plan"), "the plan to validate");
    await page.click("#save");
    await page.waitForURL(/\/plans\/\d+$/);
    planID = Number(new URL(page.url()).pathname.split("/").pop());
    assert.ok(planID > 0);
    await page.waitForSelector("#start-run");
  });

  await t.test("a run starts, its live chart updates, and a reload keeps every second", async () => {
    await page.click("#start-run");
    await page.waitForURL(/\/jobs\/\d+$/);
    job1 = Number(new URL(page.url()).pathname.split("/").pop());
    await waitFor(async () => (await seconds(page)).n >= 3, "three live seconds");
    const p0 = await chartPoints(page, "Latency, all requests");
    await waitFor(async () => (await chartPoints(page, "Latency, all requests")) > p0, "the live chart to grow");
    assert.equal(await status(page), "running");
    await shot(page, "run-live");
    await check(page, "live run");
    const before = await seconds(page);
    assert.equal(before.names, 2, "a line per request name");
    await page.reload();
    await waitFor(async () => (await seconds(page)).n >= before.n, "the seconds held before the reload");
    const afterReload = await seconds(page);
    assert.equal(afterReload.first, before.first, "the first second is still there");
    const api = await srv.api(`/jobs/${job1}/windows`);
    assert.equal(String(Date.parse(api.doc.windows[0].start)), afterReload.first, "the first second is the job's first");
    await waitFor(async () => (await seconds(page)).named >= before.n - 1, "each request name's earlier seconds");
  });

  await t.test("the finished run shows its summary by request name", async () => {
    await waitFor(async () => ["passed", "failed"].includes(await status(page)), "the run to finish", 120000);
    assert.equal(await status(page), "passed", await page.textContent(".jobhead"));
    const rows = await page.$$eval("section table.list tbody tr th", (ths) => ths.map((t) => t.textContent));
    assert.ok(rows.includes("list items") && rows.includes("item detail"), rows.join(","));
    await page.waitForSelector("a[data-report=html]");
    // The report opens in a new tab, fetched with the token.
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("a[data-report=html]")]);
    await waitFor(() => popup.url().startsWith("blob:"), "the HTML report in its tab", 60000);
    await popup.waitForLoadState();
    assert.match(await popup.textContent("body"), /ui-e2e/);
    await popup.close();
    await shot(page, "run-finished");
    await check(page, "finished run");
    await page.click("#baseline");
    await waitFor(() => page.$eval("#baseline", (e) => e.textContent.includes("✓")), "the baseline mark");
    const b = await srv.api(`/plans/${planID}/baseline`);
    assert.equal(b.doc.job_id, job1);
    await page.goto(srv.url + `/jobs/${job1}/findings`);
    await page.waitForSelector("#window");
    await check(page, "findings");
    await page.goto(srv.url + `/jobs/${job1}/study`);
    await page.waitForSelector("h1");
    await check(page, "study (of a run)");
  });

  await t.test("a second run compares with the first", async () => {
    await page.goto(srv.url + `/plans/${planID}`);
    await page.click("#start-run");
    await page.waitForURL(/\/jobs\/\d+$/);
    job2 = Number(new URL(page.url()).pathname.split("/").pop());
    assert.notEqual(job2, job1);
    await waitFor(async () => ["passed", "failed"].includes(await status(page)), "the second run to finish", 120000);
    await page.goto(srv.url + `/compare?b=${job2}`);
    // The base defaults to the plan's baseline.
    await waitFor(() => page.$eval("#cmp-a", (e, j) => e.value === String(j), job1), "the baseline as the base");
    await page.waitForSelector("#compare-result h2");
    const text = await page.textContent("#compare-result");
    assert.match(text, /Verdict/);
    assert.match(text, /list items/);
    assert.match(text, /p99/);
    await shot(page, "compare");
    await check(page, "compare");
    await page.goto(srv.url + "/jobs");
    await waitFor(async () => (await page.$$("table.list tbody tr")).length >= 2, "both jobs listed");
    await page.fill("#q", "ui-e2e");
    await shot(page, "jobs");
    await page.goto(srv.url + "/plans");
    await check(page, "plans");
    await page.goto(srv.url + "/schedules");
    await page.waitForSelector("#s-cron");
    await page.selectOption("#s-plan", String(planID));
    await page.fill("#s-cron", "0 3 * * *");
    await page.click("form.card button[type=submit]");
    await waitFor(async () => (await page.textContent("main")).includes("0 3 * * *") && (await page.$$("table.list tbody tr td.mono")).length >= 1, "the new schedule listed");
    await page.click("table.list tbody tr button:has-text('Disable')");
    await page.waitForSelector('td[data-enabled="false"]');
    await shot(page, "schedules");
    await check(page, "schedules");
  });

  await t.test("a viewer sees no start or cancel buttons and the API refuses them", async () => {
    const started = await srv.api("/jobs", { body: { plan_id: planID, kind: "run" } });
    assert.equal(started.status, 202);
    const job3 = started.doc.id;
    const vctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const v = await signIn(vctx, srv.tokens.viewer);
    await v.goto(srv.url + `/jobs/${job3}`);
    await waitFor(async () => (await status(v)) === "running", "the third run to start");
    await waitFor(async () => (await seconds(v)).n >= 1, "a second of the third run");
    assert.equal(await v.$("#cancel") === null, true, "no cancel button for a viewer");
    await check(v, "live run (viewer)");
    await v.goto(srv.url + `/plans/${planID}`);
    await v.waitForSelector("#yaml");
    assert.equal(await v.$("#start-run") === null, true, "no start-run for a viewer");
    assert.equal(await v.$("#start-study") === null, true, "no start-study for a viewer");
    assert.equal(await v.$("#save") === null, true, "no save for a viewer");
    assert.equal((await srv.api("/jobs", { token: srv.tokens.viewer, body: { plan_id: planID, kind: "run" } })).status, 403);
    assert.equal((await srv.api(`/jobs/${job3}/cancel`, { token: srv.tokens.viewer, method: "POST" })).status, 403);
    await vctx.close();
    // An operator's cancel button ends it.
    const octx = await browser.newContext();
    const o = await signIn(octx, srv.tokens.operator);
    await o.goto(srv.url + `/jobs/${job3}`);
    await o.click("#cancel");
    await waitFor(async () => (await status(o)) === "cancelled", "the cancel", 60000);
    await octx.close();
  });

  await t.test("axe-core finds no violation of any impact on any page", () => {
    writeFileSync(ARTIFACTS + "axe.json", JSON.stringify(violations, null, 2));
    assert.deepEqual(violations, []);
  });
  await ctx.close();
});
