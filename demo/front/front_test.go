package front

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a backend that counts its requests and remembers the last
// traceparent and body it got.
type recorder struct {
	*httptest.Server
	mu          sync.Mutex
	hits        int
	traceparent string
	body        string
}

func newRecorder(t *testing.T) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.hits++
		rec.traceparent = r.Header.Get("traceparent")
		rec.body = string(b)
		rec.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, r.URL.Path)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

// refusedURL is an address nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func newTestFront(t *testing.T, cfg Config) string {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func post(t *testing.T, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRoundRobinSpreadsEvenly(t *testing.T) {
	recs := []*recorder{newRecorder(t), newRecorder(t), newRecorder(t)}
	url := newTestFront(t, Config{Backends: []string{recs[0].URL, recs[1].URL, recs[2].URL}})
	const n = 300
	for i := range n {
		if code, body := post(t, url+"/v1/x", fmt.Sprint(i), nil); code != http.StatusCreated || body != "/v1/x" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	for i, r := range recs {
		if got := r.count(); got != n/3 {
			t.Errorf("backend %d got %d of %d requests, want %d", i, got, n, n/3)
		}
	}
}

func TestPassesTraceparentAndBody(t *testing.T) {
	rec := newRecorder(t)
	url := newTestFront(t, Config{Backends: []string{rec.URL}})
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	post(t, url+"/v1/login", `{"user":"a"}`, map[string]string{"traceparent": tp})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.traceparent != tp || rec.body != `{"user":"a"}` {
		t.Errorf("backend got traceparent %q body %q", rec.traceparent, rec.body)
	}
}

func TestSkipsBackendThatRefusesConnections(t *testing.T) {
	live := []*recorder{newRecorder(t), newRecorder(t)}
	dead := refusedURL(t)
	url := newTestFront(t, Config{Backends: []string{dead, live[0].URL, live[1].URL}, DeadFor: time.Minute})
	const n = 40
	for i := range n {
		if code, _ := post(t, url+"/v1/x", "body", nil); code != http.StatusCreated {
			t.Fatalf("request %d: %d, want every request served by a live backend", i, code)
		}
	}
	if a, b := live[0].count(), live[1].count(); a+b != n || a < n/2-1 || b < n/2-1 {
		t.Errorf("live backends got %d and %d of %d requests, want about half each", a, b, n)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		fmt.Sprintf("front_errors_total{backend=%q,kind=\"unreachable\"} 1\n", dead),
		fmt.Sprintf("front_backend_up{backend=%q} 0\n", dead),
		fmt.Sprintf("front_requests_total{backend=%q,code=\"201\"} %d\n", live[0].URL, live[0].count()),
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestAllBackendsDown(t *testing.T) {
	url := newTestFront(t, Config{Backends: []string{refusedURL(t), refusedURL(t)}})
	if code, body := post(t, url+"/v1/x", "", nil); code != http.StatusBadGateway || !strings.Contains(body, "no backend reachable") {
		t.Errorf("all down: %d %s", code, body)
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/healthz with every backend down = %d, want 503", resp.StatusCode)
	}
}

func TestNewRejectsBadBackends(t *testing.T) {
	for _, c := range []struct {
		backends []string
		mention  string
	}{
		{nil, "backends"},
		{[]string{"127.0.0.1:80"}, "backends[0]"},
		{[]string{"http://127.0.0.1:1", "ftp://x"}, "backends[1]"},
		{[]string{"http://127.0.0.1:1", "http://127.0.0.1:1"}, "twice"},
	} {
		if _, err := New(Config{Backends: c.backends}); err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("New(%q) = %v, want an error mentioning %q", c.backends, err, c.mention)
		}
	}
}

func TestWeightsSplitRequestsInProportion(t *testing.T) {
	recs := []*recorder{newRecorder(t), newRecorder(t), newRecorder(t)}
	url := newTestFront(t, Config{Backends: []string{recs[0].URL, recs[1].URL, recs[2].URL}, Weights: []int{2, 1, 1}})
	const n = 400
	for i := range n {
		if code, _ := post(t, url+"/v1/x", "", nil); code != http.StatusCreated {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	for i, want := range []int{n / 2, n / 4, n / 4} {
		if got := recs[i].count(); got != want {
			t.Errorf("backend %d (weight %d) got %d of %d requests, want %d", i, []int{2, 1, 1}[i], got, n, want)
		}
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if want := fmt.Sprintf("front_backend_weight{backend=%q} 2\n", recs[0].URL); !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

func TestScheduleInterleavesByWeight(t *testing.T) {
	for _, c := range []struct {
		weights []int
		want    []int
	}{
		{[]int{1, 1, 1}, []int{0, 1, 2}},
		{[]int{2, 1, 1}, []int{0, 1, 2, 0}},
		{[]int{3, 1}, []int{0, 0, 1, 0}},
	} {
		var bs []*backend
		for _, w := range c.weights {
			bs = append(bs, &backend{weight: w})
		}
		if got := schedule(bs); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("schedule(%v) = %v, want %v", c.weights, got, c.want)
		}
	}
}

func TestNewRejectsBadWeights(t *testing.T) {
	two := []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}
	for _, c := range []struct {
		weights []int
		mention string
	}{
		{[]int{1}, "2 backends"},
		{[]int{1, 0}, "weights[1]"},
		{[]int{101, 1}, "weights[0]"},
	} {
		if _, err := New(Config{Backends: two, Weights: c.weights}); err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("New(weights %v) = %v, want an error mentioning %q", c.weights, err, c.mention)
		}
	}
}
