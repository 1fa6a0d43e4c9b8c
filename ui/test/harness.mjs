// Starts what the browser tests talk to: a real `headroom serve` on a free
// loopback port with a temporary SQLite store and tokens made by
// `headroom token create`, and a tiny loopback HTTP target for its runs.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./browser.mjs";

const UI = new URL("..", import.meta.url).pathname;
const ROOT = join(UI, "..");

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ensureBuilt builds the dashboard into dist/ when it is not there.
export function ensureBuilt() {
  if (!existsSync(join(UI, "dist/index.html"))) execFileSync("npm", ["run", "build"], { cwd: UI, stdio: "inherit" });
}

// binary returns HEADROOM_BIN, or builds headroom (with the built dashboard) into dir.
export function binary(dir) {
  ensureBuilt();
  if (process.env.HEADROOM_BIN && existsSync(process.env.HEADROOM_BIN)) return process.env.HEADROOM_BIN;
  const bin = join(dir, "headroom");
  execFileSync("go", ["build", "-o", bin, "./cmd/headroom"], { cwd: ROOT, stdio: "inherit" });
  return bin;
}

// target is a small JSON service on 127.0.0.1: /items and /items/:id, a few ms each.
export async function target() {
  const server = http.createServer((req, res) => {
    const delay = req.url.startsWith("/items/") ? 3 : 1;
    setTimeout(() => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(req.url === "/items" ? '{"items":[{"id":1},{"id":2}]}' : '{"id":1,"name":"one"}');
    }, delay);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

// serve starts headroom serve (with extra flags args) and makes an admin, an
// operator and a viewer token; bin and db let a test make more (an agent's).
export async function serve({ args = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "headroom-ui-"));
  const bin = binary(dir);
  const db = join(dir, "headroom.db");
  const token = (role) => execFileSync(bin, ["token", "create", "--db", db, "--role", role, "--name", `ui-${role}`], { encoding: "utf8" }).trim();
  const tokens = { admin: token("admin"), operator: token("operator"), viewer: token("viewer") };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--db", db, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  let exited = null;
  proc.on("exit", (code) => (exited = code));
  await waitFor(async () => {
    if (exited !== null) throw new Error(`headroom serve exited ${exited}: ${log}`);
    const r = await fetch(url + "/readyz").catch(() => null);
    return r?.ok;
  }, "headroom serve /readyz", 30000);
  return {
    url,
    tokens,
    bin,
    db,
    log: () => log,
    async api(path, { token = tokens.admin, method, body, yaml } = {}) {
      const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
      if (yaml !== undefined) headers["Content-Type"] = "application/yaml";
      else if (body !== undefined) headers["Content-Type"] = "application/json";
      const r = await fetch(url + "/api/v1" + path, { method: method ?? (body || yaml ? "POST" : "GET"), headers, body: yaml ?? (body ? JSON.stringify(body) : undefined) });
      const text = await r.text();
      return { status: r.status, doc: text ? JSON.parse(text) : {} };
    },
    async stop() {
      if (exited === null) {
        proc.kill("SIGTERM"); // by its own PID
        await waitFor(() => exited !== null, "headroom serve to stop", 15000).catch(() => proc.kill("SIGKILL"));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// kneeTarget starts knee-target.mjs in its own node process on 127.0.0.1.
export async function kneeTarget() {
  const proc = spawn(process.execPath, [new URL("./knee-target.mjs", import.meta.url).pathname], { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  const port = await waitFor(() => Number(out.trim().split("\n")[0]) || null, "the knee target's port", 15000);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM"); // by its own PID
        await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, "the knee target to stop", 10000).catch(() => proc.kill("SIGKILL"));
      }
    },
  };
}

// prometheus starts Debian's Prometheus on a free loopback port, scraping
// the given host:port targets (job "target") every second, with its data in
// a temporary folder. It fails with how to install it when it is missing.
export async function prometheus(targets) {
  const bin = process.env.PROMETHEUS ?? "/usr/bin/prometheus";
  if (!existsSync(bin)) throw new Error(`${bin} not found: install Debian's prometheus (apt-get install prometheus, or make obs-deps)`);
  const dir = mkdtempSync(join(tmpdir(), "headroom-prom-"));
  const port = await freePort();
  const cfg = join(dir, "prometheus.yml");
  writeFileSync(
    cfg,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: target\n    static_configs:\n      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]\n`,
  );
  const proc = spawn(bin, [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => (log = (log + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited ${proc.exitCode}: ${log}`);
    return (await fetch(url + "/-/ready").catch(() => null))?.ok;
  }, "prometheus /-/ready", 60000);
  return {
    url,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM"); // by its own PID
        await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, "prometheus to stop", 20000).catch(() => proc.kill("SIGKILL"));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// shop starts `headroom demo shop` (the binary serve uses) on free loopback
// ports with its profiles served apart (--pprof-addr) and the given fault
// flags, and returns its API and pprof base URLs.
export async function shop(args = []) {
  const dir = mkdtempSync(join(tmpdir(), "headroom-shop-"));
  const bin = binary(dir);
  const proc = spawn(bin, ["demo", "shop", "--addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0", "--products", "200", "--users", "10", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  const urls = await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`headroom demo shop exited ${proc.exitCode}: ${out}`);
    const api = /shop listening on (http:\/\/\S+)/.exec(out)?.[1];
    const pprof = /shop profiles on (http:\/\/\S+\/debug\/pprof)\//.exec(out)?.[1];
    return api && pprof ? { url: api, pprof } : null;
  }, "the shop to say where it listens", 60000);
  return {
    ...urls,
    log: () => out,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM"); // by its own PID
        await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, "the shop to stop", 15000).catch(() => proc.kill("SIGKILL"));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
