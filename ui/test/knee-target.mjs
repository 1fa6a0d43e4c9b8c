// A loopback service with a capacity knee, run as its own process so its CPU
// is its own: every request burns BUSY_MS of CPU on one thread (requests
// queue behind each other past 1000/BUSY_MS a second), and /metrics exposes
// the process's real CPU seconds for Prometheus to scrape. It prints its
// port, then serves until it is stopped (by its PID) or its parent exits.
import http from "node:http";

const BUSY_MS = Number(process.env.BUSY_MS ?? 4);
let requests = 0;

function burn(ms) {
  const end = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  let x = 0;
  while (process.hrtime.bigint() < end) x += Math.sqrt(x + 1);
  return x;
}

const server = http.createServer((req, res) => {
  if (req.url === "/metrics") {
    const cpu = process.cpuUsage();
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(
      "# TYPE process_cpu_seconds_total counter\n" +
        `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}\n` +
        "# TYPE knee_requests_total counter\n" +
        `knee_requests_total ${requests}\n`,
    );
    return;
  }
  requests++;
  burn(BUSY_MS);
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end('{"ok":true}');
});

server.listen(0, "127.0.0.1", () => console.log(String(server.address().port)));
// Ends with the test that started it.
process.on("disconnect", () => process.exit(0));
setInterval(() => {
  if (process.ppid === 1) process.exit(0);
}, 1000).unref();
