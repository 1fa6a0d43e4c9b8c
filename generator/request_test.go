package generator

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// eachClient runs test once with the users' own connections and once
// through net/http's transport (HEADROOM_HTTP_CLIENT=net/http).
func eachClient(t *testing.T, test func(t *testing.T)) {
	t.Run("own connections", test)
	t.Run("net/http", func(t *testing.T) {
		t.Setenv("HEADROOM_HTTP_CLIENT", "net/http")
		test(t)
	})
}

func TestJourneyExtractsAndReusesValues(t *testing.T) {
	eachClient(t, testJourneyExtractsAndReusesValues)
}

func testJourneyExtractsAndReusesValues(t *testing.T) {
	var mu sync.Mutex
	var problems []string
	fail := func(what string, got ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprint(what, ": ", got))
		mu.Unlock()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["user"] != "ann@example.com" || body["n"] != 3.0 {
			fail("login body", body, err)
		}
		_, _ = io.WriteString(w, `{"token":"t-123","user":{"id":7}}`)
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t-123" || r.Header.Get("X-Team") != "sre" {
			fail("cart headers", r.Header)
		}
		if r.FormValue("qty") != "2" {
			fail("cart form", r.Form)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"cart_id":"c-9"}`)
	})
	mux.HandleFunc("GET /cart/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "c-9" || r.URL.Query().Get("user") != "7" {
			fail("cart path", r.URL)
		}
		_, _ = io.WriteString(w, `{"status":"open","items":[1,2]}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	p := newPlan(srv.URL, constant(20, time.Second, 10), plan.Journey{Name: "buy", Steps: []plan.Step{
		{Name: "login", Method: "POST", Path: "/login", JSON: map[string]any{"user": "{{ .data.users.email }}", "n": 3},
			Extract: []plan.Extraction{{Var: "token", Path: "token"}, {Var: "uid", Path: "user.id"}}},
		{Name: "add", Method: "POST", Path: "/cart", Form: map[string]string{"qty": "{{ randInt 2 2 }}"},
			Headers: map[string]string{"Authorization": "Bearer {{ .vars.token }}"},
			Expect:  plan.Expect{Status: []int{201}}, Extract: []plan.Extraction{{Var: "cart", Path: "cart_id"}}},
		{Name: "view", Method: "GET", Path: "/cart/{{ .vars.cart }}", Query: map[string]string{"user": "{{ .vars.uid }}"},
			Expect: plan.Expect{Status: []int{200}, JSON: map[string]string{"status": "open", "items.1": "2"}, Contains: "items"}},
	}})
	p.Target.Headers = map[string]string{"X-Team": "sre"}
	dir := t.TempDir()
	p.File = dir + "/plan.yaml"
	p.Data = map[string]plan.DataSource{"users": {CSV: "users.csv"}}
	writeFile(t, dir+"/users.csv", "email,password\n"+strings.Repeat("ann@example.com,pw\n", 20))

	res := mustRun(t, p, Options{})
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("%d requests the server did not expect, e.g. %s", len(problems), problems[0])
	}
	mu.Unlock()
	if len(res.ByName) != 3 {
		t.Fatalf("by name: %+v", res.ByName)
	}
	for _, s := range res.ByName {
		if s.Requests < 15 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors (%v); want ≥ 15 and none", s.Name, s.Requests, s.Errors, s.Classes)
		}
	}
}

func TestFailedCheckEndsTheIterationWithItsClass(t *testing.T) {
	c, srv := newCounting(t)
	p := newPlan(srv.URL, constant(20, time.Second, 10), plan.Journey{Name: "j", Steps: []plan.Step{
		{Name: "first", Method: "GET", Path: "/first", Expect: plan.Expect{JSON: map[string]string{"missing": "exists"}}},
		{Name: "second", Method: "GET", Path: "/second"},
	}})
	res := mustRun(t, p, Options{})
	if c.paths["/second"] != 0 {
		t.Errorf("the step after a failed check ran %d times", c.paths["/second"])
	}
	s := res.Summary
	if s.Errors != s.Requests || s.Classes["check_failed"] != s.Requests || s.Requests < 15 {
		t.Errorf("requests %d, errors %d, classes %v; want every request check_failed", s.Requests, s.Errors, s.Classes)
	}
}

func TestErrorClasses(t *testing.T) { eachClient(t, testErrorClasses) }

func testErrorClasses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()

	for _, tc := range []struct{ name, url, class string }{
		{"connection refused", closed, "connect_refused"},
		{"5xx", failing.URL, "status_5xx"},
		{"4xx", notFound.URL, "status_4xx"},
		{"timeout", slow.URL, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlan(tc.url, constant(10, time.Second, 20))
			p.Target.Timeout = 100 * time.Millisecond
			res := mustRun(t, p, Options{})
			s := res.Summary
			if s.Requests < 8 || s.Classes[tc.class] != s.Requests || s.Errors != s.Requests {
				t.Errorf("requests %d, errors %d, classes %v; want every request %s", s.Requests, s.Errors, s.Classes, tc.class)
			}
			if tc.class == "timeout" && s.Latency.Max > 1000 {
				t.Errorf("timed-out requests lasted up to %.0f ms, want about 100", s.Latency.Max)
			}
		})
	}
}

func TestRedirectToADisallowedHostIsRefused(t *testing.T) {
	var reached atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer other.Close()
	_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
	elsewhere := "http://localhost:" + port + "/x" // same server, but a host the plan does not allow
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, elsewhere, http.StatusFound) })
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/done", http.StatusFound) })
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "done") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	p := newPlan(srv.URL, constant(10, time.Second, 10), plan.Journey{Name: "j", Steps: []plan.Step{
		{Name: "here", Method: "GET", Path: "/here", Expect: plan.Expect{Contains: "done"}},
		{Name: "away", Method: "GET", Path: "/away"},
	}})
	p.Target.Allow = []string{"127.0.0.1"}
	res := mustRun(t, p, Options{})
	if n := reached.Load(); n != 0 {
		t.Errorf("the disallowed host got %d requests", n)
	}
	for _, s := range res.ByName {
		switch s.Name {
		case "here":
			if s.Errors != 0 || s.Requests < 8 {
				t.Errorf("allowed redirect: %d requests, %d errors %v", s.Requests, s.Errors, s.Classes)
			}
		case "away":
			if s.Classes["redirect_blocked"] != s.Requests || s.Requests < 8 {
				t.Errorf("disallowed redirect: %d requests, classes %v; want all redirect_blocked", s.Requests, s.Classes)
			}
		}
	}
}

func TestBaseURLOnADisallowedHostIsRefused(t *testing.T) {
	p := newPlan("http://127.0.0.1:1", constant(10, time.Second, 10))
	_, err := Run(t.Context(), p, Options{BaseURL: "http://example.com"})
	if err == nil || !strings.Contains(err.Error(), `"example.com" is not allowed`) {
		t.Fatalf("err = %v, want a refusal naming the host", err)
	}
}

var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)

func TestEveryRequestCarriesAFreshTraceparent(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp := r.Header.Get("Traceparent")
		mu.Lock()
		defer mu.Unlock()
		m := traceparentRE.FindStringSubmatch(tp)
		if m == nil || seen[m[1]] || strings.Trim(m[1], "0") == "" {
			bad = append(bad, tp)
			return
		}
		seen[m[1]] = true
	}))
	defer srv.Close()
	res := mustRun(t, newPlan(srv.URL, busy(time.Second)), Options{})
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("%d malformed or repeated traceparent headers, e.g. %q", len(bad), bad[0])
	}
	if int64(len(seen)) != res.Summary.Requests || len(seen) < 100 {
		t.Errorf("%d distinct trace IDs for %d requests", len(seen), res.Summary.Requests)
	}
}

func TestExemplarsAreTheSlowestRequests(t *testing.T) {
	var n atomic.Int64
	var mu sync.Mutex
	slow := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 != 0 {
			return
		}
		m := traceparentRE.FindStringSubmatch(r.Header.Get("Traceparent"))
		mu.Lock()
		slow[m[1]] = true
		mu.Unlock()
		select {
		case <-time.After(150 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	var got []Exemplar
	res := mustRun(t, newPlan(srv.URL, constant(30, 2*time.Second, 50)), Options{OnSecond: func(s Second) {
		got = append(got, s.Total.Exemplars...)
		if len(s.Total.Exemplars) > maxExemplars {
			t.Errorf("%d exemplars in one window", len(s.Total.Exemplars))
		}
	}})
	mu.Lock()
	defer mu.Unlock()
	found := 0
	for _, e := range got {
		if slow[e.TraceID] {
			found++
			if e.LatencyMs < 150 || e.Name != "get" || e.Status != 200 {
				t.Errorf("slow exemplar %+v: want ≥ 150 ms, name get, status 200", e)
			}
		}
	}
	if found != len(slow) || found < 4 {
		t.Errorf("%d of %d slow requests are exemplars (%d requests)", found, len(slow), res.Summary.Requests)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := writeFileBytes(path, []byte(content)); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPSUsesHTTP2WhenOffered(t *testing.T) {
	var h2, other atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		} else {
			other.Add(1)
		}
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate half fails handshakes on purpose
	srv.StartTLS()
	defer srv.Close()
	p := newPlan(srv.URL, constant(10, time.Second, 5))
	p.Target.Insecure = true // httptest's own certificate
	res := mustRun(t, p, Options{})
	if res.Summary.Errors != 0 || h2.Load() != res.Summary.Requests || other.Load() != 0 {
		t.Errorf("%d HTTP/2 and %d other requests, %d errors %v; want all HTTP/2", h2.Load(), other.Load(), res.Summary.Errors, res.Summary.Classes)
	}

	p.Target.Insecure = false // the certificate is not trusted: every request fails
	res = mustRun(t, p, Options{})
	if res.Summary.Errors != res.Summary.Requests || res.Summary.Requests == 0 {
		t.Errorf("without insecure_tls: %d errors of %d requests, want all to fail", res.Summary.Errors, res.Summary.Requests)
	}
}
