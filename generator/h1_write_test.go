package generator

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// headerLog records, per path, the headers of every request a server got.
type headerLog struct {
	mu   sync.Mutex
	seen map[string][]http.Header
}

func (l *headerLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]http.Header{}
	}
	h := r.Header.Clone()
	h.Set("Host", r.Host)
	l.seen[r.URL.Path] = append(l.seen[r.URL.Path], h)
}

func (l *headerLog) get(path string) []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[path]
}

// shape is a request's header lines with the traceparent's value left out
// (it differs on every request).
func shape(h http.Header) string {
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			if k == "Traceparent" && traceparentRE.MatchString(v) {
				v = "<valid>"
			}
			lines = append(lines, k+": "+v)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestPreparedHeadsSendWhatUnpreparedOnesDo(t *testing.T) {
	// A step with a fixed URL writes its head from bytes rendered once per
	// user; a step with a templated URL writes it all each time. Both must
	// send the same header lines.
	var log headerLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { log.add(r) }))
	t.Cleanup(srv.Close)
	headers := map[string]string{"X-Static": "a b", "X-Dyn": "{{ randInt 7 7 }}", "Traceparent": "00-plan-set-01"}
	p := newPlan(srv.URL, plan.Load{Model: "closed", Start: 2, Stages: []plan.Stage{{Duration: 300 * time.Millisecond, Target: 2}}},
		plan.Journey{Name: "j", Weight: 1, Steps: []plan.Step{
			{Name: "fixed", Method: "GET", Path: "/fixed", Headers: headers},
			{Name: "templated", Method: "GET", Path: "/templated{{ randString 0 }}", Headers: headers},
			{Name: "agent", Method: "GET", Path: "/agent", Headers: map[string]string{"User-Agent": "mine"}},
		}})
	p.Target.Headers = map[string]string{"X-Team": "sre"}
	res := mustRun(t, p, Options{})
	if res.Summary.Errors > 0 {
		t.Fatalf("%d errors: %v", res.Summary.Errors, res.Summary.Classes)
	}
	fixed, templated, agent := log.get("/fixed"), log.get("/templated"), log.get("/agent")
	if len(fixed) == 0 || len(templated) == 0 || len(agent) == 0 {
		t.Fatalf("requests: %d fixed, %d templated, %d agent", len(fixed), len(templated), len(agent))
	}
	want := shape(templated[0])
	for _, h := range append(fixed, templated...) {
		if got := shape(h); got != want {
			t.Fatalf("headers differ:\n%s\nwant\n%s", got, want)
		}
	}
	for _, line := range []string{"X-Static: a b", "X-Dyn: 7", "X-Team: sre", "User-Agent: headroom", "Host: " + strings.TrimPrefix(srv.URL, "http://")} {
		if !strings.Contains(want, line+"\n") && !strings.HasSuffix(want, line) {
			t.Errorf("headers lack %q:\n%s", line, want)
		}
	}
	if !strings.Contains(want, "Traceparent: <valid>") || strings.Contains(want, "plan-set") {
		t.Errorf("the traceparent is not the run's own:\n%s", want)
	}
	if got := agent[0].Values("User-Agent"); !slices.Equal(got, []string{"mine"}) {
		t.Errorf("User-Agent %q, want only the plan's", got)
	}
}

func TestTraceparentFollowsARedirectToAnotherHost(t *testing.T) {
	// The own connection writes the user's traceparent from its buffer; a
	// redirect to another host goes through net/http and must carry the
	// same value in its headers.
	eachClient(t, func(t *testing.T) {
		var log headerLog
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { log.add(r) }))
		t.Cleanup(other.Close)
		first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.add(r)
			http.Redirect(w, r, other.URL+"/there", http.StatusFound)
		}))
		t.Cleanup(first.Close)
		p := newPlan(first.URL, plan.Load{Model: "closed", Start: 1, Stages: []plan.Stage{{Duration: 200 * time.Millisecond, Target: 1}}})
		res := mustRun(t, p, Options{})
		here, there := log.get("/"), log.get("/there")
		if res.Summary.Errors > 0 || len(here) == 0 || len(there) != len(here) {
			t.Fatalf("%d requests here, %d there, errors %v", len(here), len(there), res.Summary.Classes)
		}
		for i := range here {
			a, b := here[i].Get("Traceparent"), there[i].Get("Traceparent")
			if !traceparentRE.MatchString(a) || a != b {
				t.Fatalf("request %d: traceparent %q, after the redirect %q; want one valid value", i, a, b)
			}
		}
	})
}

// fixedResponder is a loopback HTTP/1.1 server that answers every request
// head (no bodies) with the same response, allocating nothing per request.
func fixedResponder(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	end := []byte("\r\n\r\n")
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 64<<10)
				n := 0
				for {
					m, err := conn.Read(buf[n:])
					if err != nil {
						return
					}
					n += m
					for {
						i := bytes.Index(buf[:n], end)
						if i < 0 {
							break
						}
						if _, err := conn.Write(answer); err != nil {
							return
						}
						n = copy(buf, buf[i+len(end):n])
					}
					if n == len(buf) {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// benchUser is a virtual user of a one-step plan against base, with the
// engine set up as a run sets it up, and the step it sends.
func benchUser(tb testing.TB, base string) (*vu, *step) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	p := newPlan(base, plan.Load{Model: "closed", Start: 1, Stages: []plan.Stage{{Duration: time.Hour, Target: 1}}},
		plan.Journey{Name: "j", Weight: 1, Steps: []plan.Step{{Name: "get", Method: "GET", Path: "/", Headers: map[string]string{"X-Static": "a"}}}})
	e, err := newEngine(ctx, p, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	e.reqCtx, e.stopReqs = context.WithCancel(ctx)
	e.loadCtx, e.stopLoad = context.WithCancel(e.reqCtx)
	e.start = time.Now()
	v, ok := e.newVU(0)
	if !ok {
		tb.Fatal("no user")
	}
	tb.Cleanup(v.release)
	return v, e.journeys[0].steps[0]
}

func TestOwnConnectionRequestAllocatesNothing(t *testing.T) {
	v, st := benchUser(t, fixedResponder(t))
	if v.h1 == nil {
		t.Fatal("the user has no own connection")
	}
	if !v.send(st, time.Time{}) { // dials
		t.Fatal("the first request failed")
	}
	failed := 0
	allocs := testing.AllocsPerRun(200, func() {
		if !v.send(st, time.Time{}) {
			failed++
		}
	})
	if failed > 0 || allocs != 0 {
		t.Errorf("%.1f allocations per request (%d failed), want 0", allocs, failed)
	}
}

// BenchmarkOwnConnectionRequest is one user's request on its own HTTP/1.1
// connection to a loopback server, from building it to recording it: the
// allocations per request are the generator's alone.
func BenchmarkOwnConnectionRequest(b *testing.B) {
	v, st := benchUser(b, fixedResponder(b))
	b.ReportAllocs()
	for b.Loop() {
		if !v.send(st, time.Time{}) {
			b.Fatal("request failed")
		}
	}
}
