package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
)

// The security suite replays, against a real server on a loopback port,
// every attack of issue 16: the server is started as
// `headroom serve --allow 127.0.0.1:<target> --max-rate 5 --max-jobs 2
// --max-vus 50` with a secret in its environment; the target is a loopback
// service that records what it receives; the forbidden host is a receiver
// on a second loopback address (127.0.0.2) that counts every connection.
// Each attack must be refused, or its limit must hold; at the end nothing
// has reached the forbidden host and the secret never reached the target.

// secretValue is what the server's environment holds and no plan may read.
const secretValue = "s3cr3t-db-password-5f2a"

// memoryBound is how far the server's heap may grow over the whole suite
// (the /dev/zero attack grew it by 1.2 GiB before).
const memoryBound = 128 << 20

// recorder is the loopback target: it counts requests and remembers the
// largest body and whether the secret ever arrived.
type recorder struct {
	URL     string
	port    int
	n       atomic.Int64
	maxBody atomic.Int64
	secret  atomic.Bool
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.n.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if int64(len(body)) > rec.maxBody.Load() {
			rec.maxBody.Store(int64(len(body)))
		}
		var seen strings.Builder
		seen.WriteString(r.URL.String())
		seen.Write(body)
		for k, vs := range r.Header {
			seen.WriteString(k + strings.Join(vs, ","))
		}
		if strings.Contains(seen.String(), secretValue) {
			rec.secret.Store(true)
		}
		if strings.HasPrefix(r.URL.Path, "/redirect") {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/fail") {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	rec.port = ln.Addr().(*net.TCPAddr).Port
	rec.URL = "http://" + ln.Addr().String()
	return rec
}

// forbidden is the receiver on the forbidden host: it counts connections
// and answers each with a reply no viewer may read.
type forbidden struct {
	addr  string
	conns atomic.Int64
}

func newForbidden(t *testing.T) *forbidden {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("precondition: the suite needs a second loopback address, 127.0.0.2 (Linux routes 127/8 to lo): %v", err)
	}
	f := &forbidden{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(2 * time.Second))
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 22\r\nConnection: close\r\n\r\nFORBIDDEN-REPLY-SECRET")
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return f
}

// lab is the server under attack and its surroundings.
type lab struct {
	*testServer
	tgt     *recorder
	bad     *forbidden
	dataDir string
	dbPath  string
	cfg     server.Config
}

func newLab(t *testing.T) *lab {
	t.Helper()
	t.Setenv("SECRET_DB_URL", secretValue)
	l := &lab{tgt: newRecorder(t), bad: newForbidden(t), dataDir: t.TempDir()}
	l.cfg = server.Config{
		Allow:        []string{"127.0.0.1:" + strconv.Itoa(l.tgt.port)},
		ObserveAllow: []string{"127.0.0.1:1"}, // nothing real: observe is refused unless listed
		MaxRate:      5,
		MaxJobs:      2,
		MaxVUs:       50,
		DataDir:      l.dataDir,
		MaxDataBytes: 1 << 20,
		MaxConns:     64,
		ReadTimeout:  time.Second,
		IdleTimeout:  time.Second,
		WriteTimeout: 5 * time.Second,
		UI: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><script>var theme = 1;</script><main></main>")},
			"app.js": {Data: []byte("console.log(1)")}},
	}
	l.dbPath = filepath.Join(t.TempDir(), "headroom.db")
	st, err := store.Open(context.Background(), l.dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l.testServer = startOn(t, st, l.cfg)
	if err := os.WriteFile(filepath.Join(l.dataDir, "users.csv"), []byte("email\na@example.com\nb@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return l
}

// plan is a small valid plan against the target with extra YAML spliced
// in: extra.target under target:, extra.top at the top level, extra.step
// in the only step.
type parts struct{ base, target, top, step, load string }

func (l *lab) plan(name string, p parts) string {
	base := p.base
	if base == "" {
		base = l.tgt.URL
	}
	load := p.load
	if load == "" {
		load = "  model: open\n  stages:\n    - { duration: 1s, target: 2 }\n"
	}
	return fmt.Sprintf("version: 1\nname: %s\ntarget:\n  base_url: %s\n%sload:\n%s%sjourneys:\n  - name: j\n    steps:\n      - name: s\n        get: /ok\n%s",
		name, base, p.target, load, p.top, p.step)
}

// refused posts a plan and wants 422 with a problem on field (and line
// when line > 0); it returns the problem's message.
func (l *lab) refused(t *testing.T, yaml, field string, line int) string {
	t.Helper()
	var body struct {
		Error    string
		Problems []struct {
			Line    int
			Field   string
			Message string
		}
	}
	code, raw := l.do(t, l.operator, http.MethodPost, "/api/v1/plans", "application/yaml", []byte(yaml), nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("plan accepted (%d %s), want 422 on %s", code, raw, field)
	}
	json.Unmarshal(raw, &body)
	for _, p := range body.Problems {
		if p.Field == field && (line == 0 || p.Line == line) {
			return p.Message
		}
	}
	t.Fatalf("422 without a problem on %s (line %d): %s", field, line, raw)
	return ""
}

// runFails stores a plan (accepted), runs it and wants it to end failed
// with want in its error, without a request reaching the target.
func (l *lab) runFails(t *testing.T, yaml, want string) {
	t.Helper()
	before := l.tgt.n.Load()
	id := l.startJob(t, l.createPlan(t, yaml), "run", nil)
	j := l.waitJob(t, id, 30*time.Second, isFinished)
	if j.Status != "failed" || !strings.Contains(j.Error, want) {
		t.Fatalf("job %d: %s %q, want failed with %q", id, j.Status, j.Error, want)
	}
	if n := l.tgt.n.Load() - before; n != 0 {
		t.Fatalf("the target got %d requests from a job that must not start", n)
	}
}

// attack is one row of the table: what was done, what the server did
// before issue 16 and what it must do now.
type attack struct {
	name, before, after string
	run                 func(t *testing.T, l *lab)
}

func TestSecuritySuite(t *testing.T) {
	l := newLab(t)
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	port := strconv.Itoa(l.tgt.port)

	attacks := []attack{
		{"target.env reads the server's secret", "the secret reached the target in a header",
			"422 on target.env[0]: not on --plan-env (empty by default)", func(t *testing.T, l *lab) {
				l.refused(t, l.plan("env", parts{target: "  env: [SECRET_DB_URL]\n  headers: { X-Leak: \"{{ .env.SECRET_DB_URL }}\" }\n"}), "target.env[0]", 0)
			}},
		{"{{ . }} dumps the template data", "passed the reference check; dumped env and data",
			"422: a bare . is not allowed", func(t *testing.T, l *lab) {
				l.runFails(t, l.plan("dot", parts{step: "        headers: { X-All: \"{{ . }}\" }\n"}), "a bare . is not allowed")
			}},
		{"data: /etc/shells (absolute path)", "read and sent", "422 on data.x.csv: a relative path inside --data-dir",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("abs", parts{top: "data:\n  x: { csv: /etc/shells }\n"}), "data.x.csv", 0)
			}},
		{"data: ../../../../etc/hosts", "read and sent", "422 on data.x.csv",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("dotdot", parts{top: "data:\n  x: { csv: ../../../../etc/hosts }\n"}), "data.x.csv", 0)
			}},
		{"data: a symlink in --data-dir to /etc/hosts", "read and sent", "job fails before any load: the link escapes the folder",
			func(t *testing.T, l *lab) {
				if err := os.Symlink("/etc/hosts", filepath.Join(l.dataDir, "hosts.csv")); err != nil {
					t.Fatal(err)
				}
				l.runFails(t, l.plan("link", parts{top: "data:\n  x: { csv: hosts.csv }\n"}), "escapes")
			}},
		{"data: /dev/zero (through a link)", "88 → 1,274 MiB in 7 s, cancel did nothing", "job fails at once; heap bound holds",
			func(t *testing.T, l *lab) {
				if err := os.Symlink("/dev/zero", filepath.Join(l.dataDir, "zero.csv")); err != nil {
					t.Fatal(err)
				}
				l.runFails(t, l.plan("zero", parts{top: "data:\n  z: { csv: zero.csv }\n"}), "escapes")
			}},
		{"data: a FIFO", "held a job slot forever", "job fails at once: not a regular file",
			func(t *testing.T, l *lab) {
				if err := syscall.Mkfifo(filepath.Join(l.dataDir, "fifo.csv"), 0o600); err != nil {
					t.Fatal(err)
				}
				l.runFails(t, l.plan("fifo", parts{top: "data:\n  f: { csv: fifo.csv }\n"}), "not a regular file")
			}},
		{"data: a file over --max-data-bytes", "read whole", "job fails: larger than the limit",
			func(t *testing.T, l *lab) {
				f, err := os.Create(filepath.Join(l.dataDir, "big.csv"))
				if err != nil {
					t.Fatal(err)
				}
				f.Truncate(64 << 20) // sparse: no disk used
				f.Close()
				l.runFails(t, l.plan("big", parts{top: "data:\n  b: { csv: big.csv }\n"}), "more than the")
			}},
		{"observe.prometheus on the forbidden host", "13 requests sent there, reply quoted to viewers",
			"422 on observe.prometheus at its line: outside --observe-allow", func(t *testing.T, l *lab) {
				y := l.plan("prom", parts{top: "observe:\n  prometheus: http://" + l.bad.addr + "\n"})
				l.refused(t, y, "observe.prometheus", strings.Count(y[:strings.Index(y, "prometheus:")], "\n")+1)
			}},
		{"observe.jaeger on the forbidden host", "requests sent, reply quoted", "422 on observe.jaeger",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("jaeger", parts{top: "observe:\n  jaeger: http://" + l.bad.addr + "\n"}), "observe.jaeger", 0)
			}},
		{"observe outside the list, stored behind the API's back", "ran", "POST /jobs 422 (checked again when the job starts)",
			func(t *testing.T, l *lab) {
				sp, err := l.st.CreatePlan(t.Context(), "sneaky", l.plan("sneaky", parts{top: "observe:\n  prometheus: http://" + l.bad.addr + "\n"}))
				if err != nil {
					t.Fatal(err)
				}
				body := fmt.Sprintf(`{"plan_id":%d,"kind":"run"}`, sp.ID)
				if code, raw := l.do(t, l.operator, http.MethodPost, "/api/v1/jobs", "application/json", []byte(body), nil); code != http.StatusUnprocessableEntity {
					t.Fatalf("job of a stored plan with a forbidden observe URL: %d %s", code, raw)
				}
				job, err := l.st.CreateJob(t.Context(), store.Job{PlanID: sp.ID, PlanVersion: sp.Version, Kind: "run", Target: "x"})
				if err != nil {
					t.Fatal(err)
				}
				j := l.waitJob(t, job.ID, 30*time.Second, isFinished)
				if j.Status != "failed" || !strings.Contains(j.Error, "observe") {
					t.Fatalf("job written straight to the store: %s %q, want failed on observe", j.Status, j.Error)
				}
			}},
		{"closed model of 30,000 VUs", "ran at --max-rate 5 (≈5 KiB each)", "422 on load.stages[0].target at its line: above --max-vus 50",
			func(t *testing.T, l *lab) {
				y := l.plan("vus", parts{load: "  model: closed\n  stages:\n    - { duration: 1s, target: 30000 }\n"})
				l.refused(t, y, "load.stages[0].target", strings.Count(y[:strings.Index(y, "target: 30000")], "\n")+1)
			}},
		{"open model max_vus: 30000", "accepted", "422 on load.max_vus: above --max-vus 50",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("maxvus", parts{load: "  model: open\n  max_vus: 30000\n  stages:\n    - { duration: 1s, target: 2 }\n"}), "load.max_vus", 0)
			}},
		{"a rate of 1e9", "valid", "422 on load.stages[0].target: at most 1000000/s",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("rate", parts{load: "  model: open\n  stages:\n    - { duration: 1s, target: 1e9 }\n"}), "load.stages[0].target", 0)
			}},
		{"{{ range 8 }}{{ randString 1048576 }}{{ end }}", "8 MiB per request from 80 bytes", "refused: range is not allowed",
			func(t *testing.T, l *lab) {
				l.runFails(t, l.plan("range", parts{step: "        body: \"{{ range 8 }}{{ randString 1048576 }}{{ end }}\"\n"}), "range is not allowed")
			}},
		{"{{ with }}, {{ define }}, {{ template }}, $", "allowed", "refused at the job's start",
			func(t *testing.T, l *lab) {
				l.runFails(t, l.plan("with", parts{step: "        body: \"{{ with .vars }}x{{ end }}\"\n"}), "with is not allowed")
				l.runFails(t, l.plan("define", parts{step: "        body: '{{ define \"a\" }}x{{ end }}{{ template \"a\" }}'\n"}), "not allowed")
				l.runFails(t, l.plan("dollar", parts{step: "        body: \"{{ $ }}\"\n"}), "not allowed")
			}},
		{"20 × randString 65536 in one body (1.3 MiB)", "sent", "no request over 1 MiB reaches the target",
			func(t *testing.T, l *lab) {
				body := strings.Repeat("{{ randString 65536 }}", 20)
				id := l.startJob(t, l.createPlan(t, l.plan("big-body", parts{step: "        body: \"" + body + "\"\n"})), "run", nil)
				l.waitJob(t, id, 30*time.Second, isFinished)
				if mb := l.tgt.maxBody.Load(); mb > 1<<20 {
					t.Fatalf("a %d-byte body reached the target", mb)
				}
			}},
		{"base_url http://127.0.0.1:22", "accepted (any local service)", "422 on target.base_url: outside --allow 127.0.0.1:<port>",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("ssh", parts{base: "http://127.0.0.1:22"}), "target.base_url", 0)
			}},
		{"base_url on the forbidden host", "refused by host", "422 on target.base_url",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("fb", parts{base: "http://" + l.bad.addr, target: "  allow: [127.0.0.2]\n"}), "target.base_url", 0)
			}},
		{"the target redirects to 127.0.0.1:<another port>", "followed (the plan allows the host)", "not followed: redirect_blocked",
			func(t *testing.T, l *lab) {
				other, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				var hits atomic.Int64
				go func() {
					for {
						c, err := other.Accept()
						if err != nil {
							return
						}
						hits.Add(1)
						c.Close()
					}
				}()
				y := strings.Replace(l.plan("redir", parts{}), "get: /ok", "get: \"/redirect?to=http://"+other.Addr().String()+"/\"", 1)
				id := l.startJob(t, l.createPlan(t, y), "run", nil)
				l.waitJob(t, id, 30*time.Second, isFinished)
				if n := hits.Load(); n != 0 {
					t.Fatalf("a redirect led %d connections to %s", n, other.Addr())
				}
				if l.tgt.n.Load() == 0 {
					t.Fatal("the target got no request: the redirect was never tried")
				}
			}},
		{"Host: payments.prod.internal", "sent as given", "422 on target.headers.Host",
			func(t *testing.T, l *lab) {
				l.refused(t, l.plan("host", parts{target: "  headers: { Host: payments.prod.internal }\n"}), "target.headers.Host", 0)
			}},
		{"127.0.0.1:0" + port + " beside 127.0.0.1:" + port, "both ran at once (one-job-per-target defeated)",
			"one target key; the jobs run one after the other", func(t *testing.T, l *lab) {
				a := l.startJob(t, l.createPlan(t, l.plan("p1", parts{})), "run", nil)
				b := l.startJob(t, l.createPlan(t, l.plan("p2", parts{base: "http://127.0.0.1:0" + port})), "run", nil)
				var ja, jb struct {
					Target   string
					Started  *time.Time
					Finished *time.Time
				}
				l.waitJob(t, a, 30*time.Second, isFinished)
				l.waitJob(t, b, 30*time.Second, isFinished)
				l.getJSON(t, l.viewer, fmt.Sprintf("/api/v1/jobs/%d", a), &ja)
				l.getJSON(t, l.viewer, fmt.Sprintf("/api/v1/jobs/%d", b), &jb)
				if ja.Target != jb.Target || ja.Target != "127.0.0.1:"+port {
					t.Fatalf("targets %q and %q, want both 127.0.0.1:%s", ja.Target, jb.Target, port)
				}
				if ja.Started == nil || jb.Started == nil || (jb.Started.Before(*ja.Finished) && ja.Started.Before(*jb.Finished)) {
					t.Fatalf("the two jobs on one target overlapped: %v–%v and %v–%v", ja.Started, ja.Finished, jb.Started, jb.Finished)
				}
			}},
		{"load at the server's own address", "accepted", "422: this server's own address (even under --allow 127.0.0.1)",
			func(t *testing.T, l *lab) {
				own := startServer(t, server.Config{Allow: []string{"127.0.0.1"}})
				y := l.plan("self", parts{base: own.URL})
				code, raw := own.do(t, own.operator, http.MethodPost, "/api/v1/plans", "application/yaml", []byte(y), nil)
				if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "own address") {
					t.Fatalf("plan aimed at the server itself: %d %s", code, raw)
				}
			}},
		{"settings.base_url with no host", "accepted, failed at run time", "422 at POST /jobs",
			func(t *testing.T, l *lab) {
				id := l.createPlan(t, l.plan("nohost", parts{}))
				body := fmt.Sprintf(`{"plan_id":%d,"kind":"run","settings":{"base_url":"http://"}}`, id)
				if code, raw := l.do(t, l.operator, http.MethodPost, "/api/v1/jobs", "application/json", []byte(body), nil); code != http.StatusUnprocessableEntity {
					t.Fatalf("settings.base_url http://: %d %s", code, raw)
				}
			}},
		{"cron: \"@every 1ns\"", "ran", "422: one run per minute at most",
			func(t *testing.T, l *lab) {
				id := l.createPlan(t, l.plan("cron", parts{}))
				body := fmt.Sprintf(`{"plan_id":%d,"kind":"run","cron":"@every 1ns"}`, id)
				if code, raw := l.do(t, l.admin, http.MethodPost, "/api/v1/schedules", "application/json", []byte(body), nil); code != http.StatusUnprocessableEntity {
					t.Fatalf("@every 1ns: %d %s", code, raw)
				}
			}},
		{"chunked 1.06 MB POST /jobs and /plans", "accepted", "413",
			func(t *testing.T, l *lab) {
				for _, path := range []string{"/api/v1/jobs", "/api/v1/plans"} {
					pr, pw := io.Pipe()
					go func() {
						pw.Write([]byte(`{"plan_id":1,"kind":"run","settings":{"base_url":"`))
						pw.Write([]byte(strings.Repeat("a", 1_060_000)))
						pw.Write([]byte(`"}}`))
						pw.Close()
					}()
					req, _ := http.NewRequest(http.MethodPost, l.URL+path, pr)
					req.Header.Set("Authorization", "Bearer "+l.operator)
					req.Header.Set("Content-Type", "application/json")
					if strings.HasSuffix(path, "plans") {
						req.Header.Set("Content-Type", "application/yaml")
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						continue // the server may close the connection as soon as it has said 413
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusRequestEntityTooLarge {
						t.Fatalf("chunked 1.06 MB to %s: %d, want 413", path, resp.StatusCode)
					}
				}
			}},
		{"2,000 idle keep-alive connections without a token", "all held 45 s+",
			"past --max-conns closed at once; the rest closed after --idle-timeout", func(t *testing.T, l *lab) {
				holdConnections(t, l, 200)
			}},
		{"200 half-sent bodies without a token", "held 45 s+", "closed after --read-timeout",
			func(t *testing.T, l *lab) {
				halfSent(t, l, 40)
			}},
		{"/metrics with random methods", "80,000 new series", "method label from a closed set",
			func(t *testing.T, l *lab) {
				metricMethods(t, l)
			}},
		{"event stream with ?access_token=", "the token in the URL (logs, history)", "401; a one-minute ticket per job instead",
			func(t *testing.T, l *lab) {
				if code, _ := l.do(t, "", http.MethodGet, "/api/v1/jobs/1/events?access_token="+l.viewer, "", nil, nil); code != http.StatusUnauthorized {
					t.Fatalf("?access_token: %d, want 401", code)
				}
			}},
		{"security headers", "none", "CSP, nosniff, X-Frame-Options DENY, Referrer-Policy on dashboard, API and reports",
			func(t *testing.T, l *lab) {
				for _, path := range []string{"/", "/jobs/1", "/api/v1/me"} {
					req, _ := http.NewRequest(http.MethodGet, l.URL+path, nil)
					req.Header.Set("Authorization", "Bearer "+l.viewer)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					h := resp.Header
					if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
						h.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
						t.Fatalf("%s: headers %v", path, h)
					}
					if path == "/" && !strings.Contains(h.Get("Content-Security-Policy"), "'sha256-") {
						t.Fatalf("the dashboard's CSP does not allow its inline script by hash: %s", h.Get("Content-Security-Policy"))
					}
				}
			}},
		{"every request fails, no objective", "passed", "failed: error_rate < 50% (default); Markdown escapes the plan's name",
			func(t *testing.T, l *lab) {
				name := "evil [click](http://evil.example) <img src=x onerror=alert(1)>"
				if !rawMarkup.MatchString(name) {
					t.Fatal("the check cannot see the raw link and tag")
				}
				y := strings.Replace(l.plan("x", parts{}), "name: x", "name: \""+name+"\"", 1)
				y = strings.Replace(y, "get: /ok", "get: /fail", 1)
				id := l.startJob(t, l.createPlan(t, y), "run", nil)
				j := l.waitJob(t, id, 30*time.Second, isFinished)
				if j.Status != "failed" {
					t.Fatalf("a run whose every request failed: %s", j.Status)
				}
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/jobs/%d/report?format=md", l.URL, id), nil)
				req.Header.Set("Authorization", "Bearer "+l.viewer)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				md, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if cd := resp.Header.Get("Content-Disposition"); cd != fmt.Sprintf(`inline; filename="job-%d.md"`, id) {
					t.Fatalf("Content-Disposition %q", cd)
				}
				if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
					t.Fatalf("report CSP %q", resp.Header.Get("Content-Security-Policy"))
				}
				if rawMarkup.Match(md) {
					t.Fatalf("the Markdown report carries the plan's link or tag raw:\n%s", md)
				}
			}},
		{"no admin left", "a new admin token minted and logged", "none minted: ErrNoAdmin says how to make one",
			func(t *testing.T, l *lab) {
				srv, err := server.New(l.st, server.Config{})
				if err != nil {
					t.Fatal(err)
				}
				toks, _ := l.st.ListTokens(t.Context())
				for _, tk := range toks {
					if tk.Role == store.Admin {
						l.st.RevokeToken(t.Context(), tk.ID)
					}
				}
				if plain, err := srv.EnsureAdmin(t.Context()); plain != "" || err != server.ErrNoAdmin {
					t.Fatalf("EnsureAdmin with every admin revoked: %q, %v", plain, err)
				}
			}},
		{"store file mode", "0644", "0600",
			func(t *testing.T, l *lab) {
				fi, err := os.Stat(l.dbPath)
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("store file: %v, %v", fi.Mode(), err)
				}
			}},
	}
	for _, a := range attacks {
		if !t.Run(a.name, func(t *testing.T) { a.run(t, l) }) {
			continue
		}
	}

	if n := l.bad.conns.Load(); n != 0 {
		t.Errorf("the forbidden host received %d connections", n)
	}
	if l.tgt.secret.Load() {
		t.Error("the secret reached the target")
	}
	var m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grew := int64(m1.HeapInuse) - int64(m0.HeapInuse); grew > memoryBound {
		t.Errorf("the heap grew by %d MiB over the suite, bound %d MiB", grew>>20, memoryBound>>20)
	}
	var table strings.Builder
	table.WriteString("| attack | before | after |\n|---|---|---|\n")
	for _, a := range attacks {
		fmt.Fprintf(&table, "| %s | %s | %s |\n", a.name, a.before, a.after)
	}
	t.Logf("heap in use grew %d MiB (bound %d MiB); forbidden host: %d connections\n%s",
		(int64(m1.HeapInuse)-int64(m0.HeapInuse))>>20, memoryBound>>20, l.bad.conns.Load(), table.String())
}

// rawMarkup is a link or a tag of the plan's name left unescaped.
var rawMarkup = regexp.MustCompile(`(^|[^\\])\[click[^\n]*[^\\]\]\(|(^|[^\\])<img`)

// holdConnections opens n keep-alive connections that each make one
// request and then idle: past --max-conns they are closed at once, and
// every one is closed by the server within its idle timeout.
func holdConnections(t *testing.T, l *lab, n int) {
	addr := strings.TrimPrefix(l.URL, "http://")
	var served, closed atomic.Int64
	var wg sync.WaitGroup
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			// Bounded wait: the deadline is the failure, not the measure.
			c.SetDeadline(time.Now().Add(l.cfg.IdleTimeout + 10*time.Second))
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			r := bufio.NewReader(c)
			if resp, err := http.ReadResponse(r, nil); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				served.Add(1)
			}
			if _, err := r.ReadByte(); err != nil && !isTimeout(err) {
				closed.Add(1)
			}
		}()
	}
	wg.Wait()
	if s := served.Load(); s > int64(l.cfg.MaxConns) || s == 0 {
		t.Errorf("%d of %d connections were served at once, want 1..%d", s, n, l.cfg.MaxConns)
	}
	if c := closed.Load(); c != int64(n) {
		t.Errorf("%d of %d idle connections were closed by the server", c, n)
	}
}

// halfSent starts n requests whose bodies never finish: the server must
// close each within its read timeout.
func halfSent(t *testing.T, l *lab, n int) {
	addr := strings.TrimPrefix(l.URL, "http://")
	var closed atomic.Int64
	var wg sync.WaitGroup
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(l.cfg.ReadTimeout + 10*time.Second))
			io.WriteString(c, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789")
			if _, err := io.Copy(io.Discard, c); err == nil {
				closed.Add(1) // EOF: the server closed it
			} else if !isTimeout(err) {
				closed.Add(1) // reset
			}
		}()
	}
	wg.Wait()
	if c := closed.Load(); c != int64(n) {
		t.Errorf("%d of %d half-sent requests were closed by the server", c, n)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// metricMethods sends requests with made-up methods and wants /metrics to
// label them all "other".
func metricMethods(t *testing.T, l *lab) {
	for i := range 300 {
		req, _ := http.NewRequest(fmt.Sprintf("X%dY", i), l.URL+"/api/v1/me", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	resp, err := http.Get(l.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	allowed := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true,
		"OPTIONS": true, "CONNECT": true, "TRACE": true, "other": true}
	series := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "headroom_http_requests_total{") {
			continue
		}
		series++
		_, rest, _ := strings.Cut(line, `method="`)
		method, _, _ := strings.Cut(rest, `"`)
		if !allowed[method] {
			t.Fatalf("a series with method %q: %s", method, line)
		}
	}
	if series == 0 || series > 100 {
		t.Fatalf("%d request series after 300 made-up methods", series)
	}
}
