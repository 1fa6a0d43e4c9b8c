package fleet

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeInstance is an httptest server standing in for a shop.
type fakeInstance struct{ srv *httptest.Server }

func (f fakeInstance) URL() string { return f.srv.URL }
func (f fakeInstance) Stop(context.Context) error {
	f.srv.Close()
	return nil
}

type launcher struct {
	mu       sync.Mutex
	launched int
}

func (l *launcher) launch(context.Context, int) (Instance, error) {
	l.mu.Lock()
	l.launched++
	l.mu.Unlock()
	return fakeInstance{httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))}, nil
}

func startFleet(t *testing.T, cfg Config) (*Fleet, string) {
	t.Helper()
	f, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.Serve(ln) }()
	t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
	return f, "http://" + ln.Addr().String()
}

// drive sends rate requests a second to url until stop is closed or the
// deadline passes.
func drive(t *testing.T, url string, rate int, stop <-chan struct{}, deadline time.Duration) {
	t.Helper()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.After(deadline)
	c := &http.Client{Timeout: 5 * time.Second}
	for {
		select {
		case <-stop:
			return
		case <-end:
			return
		case <-tick.C:
			go func() {
				resp, err := c.Get(url + "/v1/products/1")
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
	}
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// At 100 req/s with a target of 30 per instance the autoscaler wants
// ⌈100 ÷ 30⌉ = 4 (the maximum); new instances serve only after the
// startup delay; when the load stops it scales back to the minimum once
// the stabilisation window has passed, not before.
func TestFleetScalesLikeTheHPA(t *testing.T) {
	var l launcher
	f, url := startFleet(t, Config{Min: 1, Max: 4, Startup: 1500 * time.Millisecond, TargetRPS: 30,
		Sync: 200 * time.Millisecond, Window: 2 * time.Second, ScaleDownWindow: 2 * time.Second, Launch: l.launch})
	stop := make(chan struct{})
	go drive(t, url, 100, stop, 60*time.Second)
	var upAt time.Time
	waitFor(t, "scale up to 4", 20*time.Second, func() bool {
		c, _ := f.Replicas()
		if c > 1 && upAt.IsZero() {
			upAt = time.Now()
		}
		return c == 4
	})
	if _, s := f.Replicas(); s == 4 && time.Since(upAt) < 1500*time.Millisecond {
		t.Errorf("new instances served %s after they were asked for, before the 1.5 s startup", time.Since(upAt))
	}
	waitFor(t, "all 4 serving", 10*time.Second, func() bool { _, s := f.Replicas(); return s == 4 })
	ev := f.Events()
	if len(ev) == 0 || ev[len(ev)-1].To != 4 || !strings.Contains(ev[len(ev)-1].Reason, "÷ 30.0⌉ = 4") {
		t.Fatalf("events %+v, want the last to scale to 4 with the arithmetic", ev)
	}
	close(stop)
	stoppedAt := time.Now()
	waitFor(t, "scale down to 1", 20*time.Second, func() bool { c, _ := f.Replicas(); return c == 1 })
	if took := time.Since(stoppedAt); took < 2*time.Second {
		t.Errorf("scaled down %s after the load stopped, inside the 2 s stabilisation window", took)
	}

	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`kube_deployment_status_replicas{deployment="shop",namespace="demo"} 1`,
		`kube_horizontalpodautoscaler_status_current_replicas{horizontalpodautoscaler="shop",namespace="demo"} 1`,
		`kube_horizontalpodautoscaler_status_desired_replicas{horizontalpodautoscaler="shop",namespace="demo"} 1`,
		`kube_horizontalpodautoscaler_spec_max_replicas{horizontalpodautoscaler="shop",namespace="demo"} 4`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	l.mu.Lock()
	launched := l.launched
	l.mu.Unlock()
	if launched != 4 {
		t.Errorf("launched %d instances, want 4", launched)
	}
}

func TestFleetConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{TargetRPS: 0}, "target_rps"},
		{Config{TargetRPS: 1, Min: 3, Max: 2}, "max"},
		{Config{TargetRPS: 1, Startup: time.Hour}, "startup"},
		{Config{TargetRPS: 1, Tolerance: 2}, "tolerance"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}

func TestFleetServesRealShops(t *testing.T) {
	f, url := startFleet(t, Config{Min: 2, TargetRPS: 10})
	if c, s := f.Replicas(); c != 2 || s != 2 {
		t.Fatalf("replicas %d serving %d, want 2 and 2", c, s)
	}
	for range 4 {
		resp, err := http.Get(url + "/v1/products/3")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id"`) {
			t.Fatalf("GET /v1/products/3 through the fleet: %d %s", resp.StatusCode, body)
		}
	}
}
