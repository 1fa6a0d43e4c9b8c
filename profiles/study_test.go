package profiles

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
)

func TestRecorderAttachesTheDegradedStepsTopToTheCPUFinding(t *testing.T) {
	var baseBuf, degBuf bytes.Buffer
	if err := newCPU().add(100*ms, burn, limited, srv).add(600*ms, json, list, limited, srv).add(300*ms, gc).
		withSpan(time.Second).p.Write(&baseBuf); err != nil {
		t.Fatal(err)
	}
	if err := newCPU().add(1500*ms, sha, burn, limited, srv).add(700*ms, json, list, limited, srv).add(100*ms, gc).
		withSpan(time.Second).p.Write(&degBuf); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r) // a service that serves only the CPU profile
			return
		}
		if r.URL.Query().Get("seconds") != "2" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
			return
		}
		switch asked.Add(1) {
		case 1:
			_, _ = w.Write(baseBuf.Bytes())
		case 4:
			http.Error(w, "gone", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write(degBuf.Bytes())
		}
	}))
	defer ts.Close()
	rec, err := NewRecorder(ts.URL+"/debug/pprof", RecorderHooks{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	var step int
	prober := rec.Prober(capacity.ProberFunc(func(ctx context.Context, p capacity.Probe) (capacity.Summary, error) {
		step++
		start := t0.Add(time.Duration(step) * time.Minute)
		return capacity.Summary{Start: start, End: start.Add(2 * time.Second), Requests: int64(100 * step)}, nil
	}))
	probe := capacity.Probe{Holds: []capacity.Hold{{Rate: 10, Duration: 2 * time.Second}}}
	var st capacity.Study
	verdicts := []capacity.Verdict{capacity.Acceptable, capacity.Acceptable, capacity.Unacceptable, capacity.Unacceptable}
	for _, v := range verdicts {
		s, err := prober.Probe(context.Background(), probe)
		if err != nil {
			t.Fatal(err)
		}
		st.Steps = append(st.Steps, capacity.Step{Start: s.Start, Verdict: v})
	}
	got := strings.Join(rec.Problems(), "\n")
	if n := strings.Count(got, "503"); n != 1 {
		t.Errorf("problems %q, want the 4th step's 503 once", got)
	}
	for _, k := range []string{"allocs", "mutex", "block"} {
		if n := strings.Count(got, k+" profile not available"); n != 1 {
			t.Errorf("problems %q: %q not available %d times, want once over 4 steps", got, k, n)
		}
	}
	d, ok, err := rec.StudyDiff(st)
	if err != nil || !ok {
		t.Fatalf("StudyDiff: ok %v, %v", ok, err)
	}
	findings := []correlate.Finding{{Kind: "cpu_usage"}, {Kind: "pool_wait"}}
	lines := Attach(findings, d, 3)
	// Only step 3 is degraded and profiled (step 4's fetch failed): 1500 of
	// 2300 ms, 300 requests; handleListProducts rose in rate (700 against 600 ms a second) though its share fell.
	want := "Profile: 65% of CPU in shop.burnCPU (mostly sha256.blockAVX2) under shop.(*Server).serveLimited (+55 points against the baseline; 5.0 ms per request)."
	if len(lines) == 0 || lines[0] != want {
		t.Fatalf("lines %q\nwant first %s", lines, want)
	}
	if f := findings[0].Evidence.Facts; len(f) != len(lines) || f[0] != want {
		t.Errorf("cpu_usage facts %q", f)
	}
	if f := findings[1].Evidence.Facts; len(f) != 0 {
		t.Errorf("pool_wait got facts %q", f)
	}
	if r, err := NewRecorder("", RecorderHooks{}); r != nil || err != nil {
		t.Errorf("no base: %v %v", r, err)
	}
	if _, err := NewRecorder("localhost:6060", RecorderHooks{}); err == nil {
		t.Error("base without scheme accepted")
	}
}
