// A job on three real `headroom agent` processes, watched on the job page of
// a real headroom serve: the Agents table fills while the job runs, then
// shows each agent's share, state, clock, requests and flags, and the start
// spread. The plan's data rows 1, 4, 7, … (the first agent's share) name a
// user the loopback target serves six times slower, so the merge really
// flags that agent as an outlier and the page must say so in words.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { axe, launch, shot, waitFor } from "./browser.mjs";
import { freePort, serve } from "./harness.mjs";

const AGENTS = 3;
let srv, tgt, browser, dataDir;
const agents = [];

// slowTarget answers /x?u=slow in 60 ms and every other user in 10 ms.
async function slowTarget() {
  const server = http.createServer((req, res) => {
    const slow = new URL(req.url, "http://x").searchParams.get("u") === "slow";
    setTimeout(() => res.end("ok"), slow ? 60 : 10);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

// startAgent runs `headroom agent` for one job; it is stopped by its PID.
function startAgent(name, token) {
  const proc = spawn(srv.bin, ["agent", "--server", srv.url, "--token", token, "--name", name, "--jobs", "1", "--give-up", "10s"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => (log = (log + d).slice(-4000)));
  const a = { name, proc, log: () => log };
  agents.push(a);
  return a;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "headroom-agents-data-"));
  const rows = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? "slow" : "fast"));
  writeFileSync(join(dataDir, "users.csv"), "user\n" + rows.join("\n") + "\n");
  tgt = await slowTarget();
  srv = await serve({ args: ["--data-dir", dataDir] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const a of agents) {
    if (a.proc.exitCode === null && a.proc.signalCode === null) {
      a.proc.kill("SIGTERM"); // by its own PID
      await waitFor(() => a.proc.exitCode !== null || a.proc.signalCode !== null, `agent ${a.name} to stop`, 15000).catch(() => a.proc.kill("SIGKILL"));
    }
  }
  await srv?.stop();
  await tgt?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// 1 s of ramp, then 9 s at 90/s: 30 requests a second for each agent, above
// the 20 the merge needs to judge one against the fleet.
const planYAML = (base) => `version: 1
name: ui-agents
target: { base_url: ${base}, timeout: 2s }
load:
  model: open
  stages:
    - { duration: 1s, target: 90 }
    - { duration: 9s, target: 90 }
data:
  users: { csv: users.csv }
journeys:
  - name: browse
    steps:
      - { name: hit, get: "/x?u={{ .data.users.user }}" }
`;

// rows is what a person reads in the Agents table, row by row.
const rows = (page) =>
  page.$$eval("#agents-table tbody tr", (trs) =>
    trs.map((tr) => {
      const c = [...tr.children].map((x) => x.textContent.trim());
      return { name: c[0], share: c[1], state: c[2], clock: c[3], requests: Number(c[4].replace(/[^\d.]/g, "")) * (c[4].endsWith("k") ? 1000 : 1), dropped: c[5], flags: c[6] };
    }),
  );

test("the Agents table of a job run on three real agents", async () => {
  const agentToken = execFileSync(srv.bin, ["token", "create", "--db", srv.db, "--role", "agent", "--name", "ui-agents"], { encoding: "utf8" }).trim();
  for (let i = 1; i <= AGENTS; i++) startAgent(`load-${i}`, agentToken);
  const plan = await srv.api("/plans", { yaml: planYAML(tgt.url) });
  assert.equal(plan.status, 201, JSON.stringify(plan.doc));
  const job = await srv.api("/jobs", { body: { plan_id: plan.doc.id, kind: "run", agents: AGENTS } });
  assert.equal(job.status, 202, JSON.stringify(job.doc));
  const id = job.doc.id;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(srv.url + "/signin");
  await page.fill("#token", srv.tokens.viewer);
  await page.click("form button[type=submit]");
  await page.waitForURL(/\/jobs/);
  await page.goto(`${srv.url}/jobs/${id}`);
  await page.waitForSelector("#agents h2");

  // While the job runs, the table fills and its figures move without a reload.
  const live = await waitFor(
    async () => {
      const status = await page.$eval(".jobhead .badge[data-status]", (e) => e.dataset.status);
      if (status !== "running") {
        if (["passed", "failed", "aborted", "cancelled"].includes(status)) throw new Error(`the job ended (${status}) before its agents were seen running`);
        return null;
      }
      const r = await rows(page);
      return r.length === AGENTS && r.every((x) => x.state === "running" && x.requests > 0) ? r : null;
    },
    "the Agents table to show three running agents with requests while the job runs",
    60000,
  );
  console.log("while running:", live.map((r) => `${r.name} ${r.share} ${r.state} ${r.requests}`).join("; "));
  const before = live.reduce((n, r) => n + r.requests, 0);
  await waitFor(async () => (await rows(page)).reduce((n, r) => n + r.requests, 0) > before, "the agents' requests to grow on the page without a reload", 30000);

  // Finished: every agent done, its share and requests, the outlier named.
  await waitFor(async () => ["passed", "failed", "aborted"].includes(await page.$eval(".jobhead .badge[data-status]", (e) => e.dataset.status)), "the job to finish", 90000);
  const done = await waitFor(async () => {
    const r = await rows(page);
    return r.length === AGENTS && r.every((x) => x.state === "done") ? r : null;
  }, "every agent done on the page");
  const status = await page.$eval(".jobhead .badge[data-status]", (e) => e.dataset.status);
  assert.equal(status, "passed", `job ${id} ended ${status}; agent log:\n${agents[0].log()}\nserver log:\n${srv.log().slice(-3000)}`);
  console.log("finished:", JSON.stringify(done));
  assert.deepEqual(done.map((r) => r.name).sort(), ["load-1", "load-2", "load-3"]);
  assert.deepEqual(done.map((r) => r.share), ["1 of 3", "2 of 3", "3 of 3"]);
  for (const r of done) {
    assert.ok(r.requests > 0, `${r.name}: ${r.requests} requests`);
    assert.match(r.clock, /^[+−]\d+\.\d+ ms ± \d/, `${r.name}: clock ${r.clock}`);
  }
  // What the API says is what the page shows.
  const api = (await srv.api(`/jobs/${id}`)).doc;
  const total = api.agents.reduce((n, a) => n + a.requests, 0);
  assert.equal(done.reduce((n, r) => n + r.requests, 0), total);
  const spread = await page.textContent("#agents-spread");
  assert.match(spread, /^3 agents · started within \d+(\.\d)? ms of each other$/);
  assert.ok(typeof api.start_spread_ms === "number" && api.start_spread_ms < 50, `start spread ${api.start_spread_ms} ms`);

  // The first share held the slow users: flagged as an outlier, in words.
  const flagged = done.filter((r) => r.flags.includes("outlier"));
  assert.equal(flagged.length, 1, `flags: ${JSON.stringify(done.map((r) => r.flags))}`);
  assert.equal(flagged[0].share, "1 of 3");
  assert.match(flagged[0].flags, /^outlier p99 \d+\.\d ms against the fleet's \d+\.\d ms for \d+ s from second \d+$/);
  assert.equal(api.agents.find((a) => a.index === 0).outlier, flagged[0].flags.replace(/^outlier /, ""));
  for (const r of done.filter((x) => x !== flagged[0])) assert.equal(r.flags, "none", `${r.name}: ${r.flags}`);
  // The table is a real one: column and row headers.
  const heads = await page.$$eval("#agents-table th[scope=col]", (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(heads, ["Agent", "Share", "State", "Clock offset ± delay", "Requests", "Dropped", "Flags"]);
  assert.equal(await page.$$eval("#agents-table tbody th[scope=row]", (ths) => ths.length), AGENTS);

  const v = await axe(page);
  assert.deepEqual(v, [], JSON.stringify(v, null, 2));
  await page.locator("#agents").scrollIntoViewIfNeeded();
  await shot(page, "job-agents");
  assert.deepEqual(errors, []);
  await ctx.close();
});
