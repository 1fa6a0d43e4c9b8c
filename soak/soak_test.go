package soak

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
)

// fakeMetrics answers each query whose text contains a key with a series
// made by its function of hours since from; other queries have no data.
type fakeMetrics struct {
	series  map[string]func(h float64) float64
	queries []string
	err     error
}

func (f *fakeMetrics) QueryRange(_ context.Context, q string, from, to time.Time, step time.Duration) ([]correlate.Series, error) {
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	for key, fn := range f.series {
		if strings.Contains(q, key) {
			var s correlate.Series
			for t := from; !t.After(to); t = t.Add(step) {
				s.Samples = append(s.Samples, correlate.Sample{At: t, Value: fn(t.Sub(from).Hours())})
			}
			return []correlate.Series{s}, nil
		}
	}
	return nil, nil
}

func signal(t *testing.T, r Result, name string) Signal {
	t.Helper()
	for _, s := range r.Signals {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no signal %q in %+v", name, r.Signals)
	return Signal{}
}

func TestAnalyzeFindsALeakAndItsTimeToLimit(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(2 * time.Hour)
	// 38 MiB/h from 200 MiB with a ±3 MiB sawtooth; a 512 MiB limit.
	const mib = 1 << 20
	saw := func(h float64) float64 { return 3 * mib * math.Sin(h*600) }
	fm := &fakeMetrics{series: map[string]func(float64) float64{
		"process_resident_memory_bytes": func(h float64) float64 { return 200*mib + 38*mib*h + saw(h) },
		"go_gc_heap_live_bytes":         func(h float64) float64 { return 50 * mib },
		"go_goroutines":                 func(h float64) float64 { return 40 + math.Mod(h*1000, 3) },
		"process_open_fds":              func(h float64) float64 { return 20 },
		"process_max_fds":               func(h float64) float64 { return 1024 },
	}}
	r := Analyze(context.Background(), Input{From: from, To: to, Metrics: fm, MemoryLimit: 512 * mib, Selector: `{job="shop"}`})
	mem := signal(t, r, Memory)
	if mem.Verdict != Leak || math.Abs(mem.SlopePerHour/mib-38) > 1 || mem.CILow > 38*mib || mem.CIHigh < 38*mib {
		t.Errorf("memory: %s; want a leak of 38 MiB/h inside its interval", mem.Sentence())
	}
	// At the end the fit is at 276 MiB: (512 − 276) / 38 = 6.2 h.
	if math.Abs(mem.HoursToLimit-6.2) > 0.2 {
		t.Errorf("memory reaches 512 MiB in %.2f h, want 6.2", mem.HoursToLimit)
	}
	if !strings.Contains(mem.Sentence(), "reaches the 512 MiB limit in about 6.2 h") {
		t.Errorf("sentence %q", mem.Sentence())
	}
	for _, name := range []string{Heap, Goroutines, OpenFiles} {
		if s := signal(t, r, name); s.Verdict != Flat {
			t.Errorf("%s: %s; want flat", name, s.Sentence())
		}
	}
	if s := signal(t, r, OpenFiles); s.Limit != 1024 {
		t.Errorf("open_files limit %v, want process_max_fds 1024", s.Limit)
	}
	if s := signal(t, r, PoolInUse); s.Verdict != NotAvailable || s.Note == "" {
		t.Errorf("pool_in_use without data: %+v, want not available with a note", s)
	}
	if r.Verdict != Leak {
		t.Errorf("overall verdict %q, want leak", r.Verdict)
	}
	for _, q := range fm.queries {
		if !strings.Contains(q, `job="shop"`) {
			t.Errorf("query %q lacks the plan's selector", q)
		}
	}
}

// Growth whose whole interval is above zero but that is small against the
// signal's level is not a leak: warm-up drift of a few kilobytes.
func TestAnalyzeIgnoresImmaterialGrowth(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fm := &fakeMetrics{series: map[string]func(float64) float64{
		"process_resident_memory_bytes": func(h float64) float64 { return 100<<20 + 100<<10*h },
	}}
	r := Analyze(context.Background(), Input{From: from, To: from.Add(time.Hour), Metrics: fm})
	if s := signal(t, r, Memory); s.Verdict != Flat || s.CILow <= 0 {
		t.Errorf("memory growing 100 KiB/h on 100 MiB: %s; want flat with a positive interval", s.Sentence())
	}
}

func TestAnalyzeWithoutPrometheusDegrades(t *testing.T) {
	from := time.Now().Add(-time.Minute)
	var secs []generator.SecondRecord
	for i := range 60 {
		secs = append(secs, generator.SecondRecord{Start: from.Add(time.Duration(i) * time.Second), Requests: 100, Errors: int64(i), Latency: generator.Latency{P99: 50}})
	}
	r := Analyze(context.Background(), Input{From: from, To: from.Add(time.Minute), Seconds: secs,
		Metrics: &fakeMetrics{err: errors.New("prometheus http://127.0.0.1:1: connection refused")}})
	if s := signal(t, r, Memory); s.Verdict != NotAvailable || !strings.Contains(s.Note, "connection refused") {
		t.Errorf("memory with Prometheus down: %+v", s)
	}
	if s := signal(t, r, P99); s.Verdict != Flat || s.Level != 50 {
		t.Errorf("p99 steady at 50 ms: %s", s.Sentence())
	}
	// 1% more errors every second: 60%/min.
	if s := signal(t, r, ErrorRate); s.Verdict != Leak || math.Abs(s.SlopePerHour-36) > 0.01 {
		t.Errorf("error rate rising 1%%/s: %s; want leak at 3600%%/h", s.Sentence())
	}
	if r.Note == "" {
		t.Error("no note that Prometheus could not be read")
	}
}

func TestSelfGrowthOfTheResultIsNotALeak(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []Point
	for i := range 3600 {
		pts = append(pts, Point{T: from.Add(time.Duration(i) * time.Second), V: 30<<20 + float64(i)*3000})
	}
	r := Analyze(context.Background(), Input{From: from, To: from.Add(time.Hour), Self: pts, SelfKept: 3000 * 3600})
	if s := signal(t, r, HeadroomMemory); s.Verdict != Flat || !strings.Contains(s.Note, "windows kept") {
		t.Errorf("own memory growing by the windows it keeps: %s", s.Sentence())
	}
	r = Analyze(context.Background(), Input{From: from, To: from.Add(time.Hour), Self: pts, SelfKept: 300 * 3600})
	if s := signal(t, r, HeadroomMemory); s.Verdict != Leak {
		t.Errorf("own memory growing ten times faster than its windows: %s", s.Sentence())
	}
}

func TestSelfSamplerStaysBounded(t *testing.T) {
	s := SampleSelf(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		every := s.every
		s.mu.Unlock()
		if every > time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sampler never halved its rate in 10 s at 1 ms a sample")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mem, heap := s.Stop()
	if len(mem) == 0 || len(mem) >= maxSelfPoints || len(heap) != len(mem) {
		t.Errorf("kept %d memory and %d heap samples; want between 1 and %d", len(mem), len(heap), maxSelfPoints-1)
	}
	if mem[0].V <= 0 || heap[0].V <= 0 {
		t.Errorf("first samples %+v %+v", mem[0], heap[0])
	}
}
