package merge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom-sre/headroom/generator"
)

// t0 is the agreed start of the test runs.
var t0 = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

// fleetSpec describes how one agent's requests take: a log-normal latency
// around medianUs, for every request name.
type agentSpec struct {
	id       string
	medianUs float64
	perName  int // requests per name per second
}

// truth records every sample the agents produced, per name ("" is all),
// both in one histogram and as the raw values.
type truth struct {
	hist map[string]*hdrhistogram.Histogram
	raw  map[string][]int64
}

func newTruth() *truth {
	return &truth{hist: map[string]*hdrhistogram.Histogram{}, raw: map[string][]int64{}}
}

func (t *truth) record(name string, us int64) {
	for _, n := range []string{name, ""} {
		h := t.hist[n]
		if h == nil {
			h = generator.NewHistogram()
			t.hist[n] = h
		}
		if err := h.RecordValue(us); err != nil {
			panic(err)
		}
		t.raw[n] = append(t.raw[n], us)
	}
}

// exactMs is the q-th percentile (nearest rank) of the raw samples of name, in ms.
func (t *truth) exactMs(name string, q float64) float64 {
	v := slices.Clone(t.raw[name])
	slices.Sort(v)
	rank := int(math.Ceil(q / 100 * float64(len(v))))
	return float64(v[max(rank, 1)-1]) / 1000
}

// second builds one agent's generator.Second at index s with names, its
// samples drawn from r and recorded into tr as well. Every request of the
// name "checkout" fails one time in ten, to give the error counts weight.
func second(r *rand.Rand, a agentSpec, s int64, names []string, tr *truth) generator.Second {
	sec := generator.Second{
		Start:      t0.Add(time.Duration(s)*time.Second + 3*time.Millisecond),
		Duration:   time.Second,
		Offered:    float64(a.perName * len(names)),
		Iterations: int64(a.perName),
		Dropped:    1,
		InFlight:   2.5,
		Busy:       3,
		VUs:        4,
		Total:      generator.Window{Hist: generator.NewHistogram(), Classes: map[string]int64{}},
	}
	for _, n := range names {
		w := generator.Window{Name: n, Hist: generator.NewHistogram(), Classes: map[string]int64{}}
		for i := 0; i < a.perName; i++ {
			us := int64(a.medianUs * math.Exp(0.6*r.NormFloat64()))
			us = max(us, 1)
			_ = w.Hist.RecordValue(us)
			_ = sec.Total.Hist.RecordValue(us)
			if tr != nil {
				tr.record(n, us)
			}
			w.Requests++
			w.Bytes += 100
			if n == "checkout" && i%10 == 0 {
				w.Errors++
				w.Classes["status_5xx"]++
			}
			if i < 2 { // two exemplars per name, named by agent and latency
				w.Exemplars = append(w.Exemplars, generator.Exemplar{TraceID: fmt.Sprintf("%s-%d-%s-%d", a.id, s, n, i), Name: n, LatencyMs: float64(us) / 1000})
			}
		}
		slices.SortFunc(w.Exemplars, func(x, y generator.Exemplar) int { return -cmpFloat(x.LatencyMs, y.LatencyMs) })
		w.Latency = generator.LatencyOf(w.Hist)
		sec.Total.Requests += w.Requests
		sec.Total.Errors += w.Errors
		sec.Total.Bytes += w.Bytes
		for k, v := range w.Classes {
			sec.Total.Classes[k] += v
		}
		sec.Total.Exemplars = slowest(sec.Total.Exemplars, w.Exemplars)
		sec.ByName = append(sec.ByName, w)
	}
	sec.Total.Latency = generator.LatencyOf(sec.Total.Hist)
	return sec
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// window is second() encoded for agent a with seq s.
func window(t testing.TB, r *rand.Rand, a agentSpec, s int64, names []string, tr *truth) Window {
	t.Helper()
	sec := second(r, a, s, names, tr)
	w, err := FromSecond(a.id, Index(t0, sec.Start), uint64(s), sec)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ids(specs []agentSpec) []string {
	out := make([]string, len(specs))
	for i, a := range specs {
		out[i] = a.id
	}
	return out
}

func mustNew(t testing.TB, o Options) *Merger {
	t.Helper()
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustAdd(t testing.TB, m *Merger, w Window, want Status) {
	t.Helper()
	got, err := m.Add(w)
	if err != nil {
		t.Fatalf("Add(%s, second %d, seq %d): %v", w.Agent, w.Second, w.Seq, err)
	}
	if got != want {
		t.Fatalf("Add(%s, second %d, seq %d) = %s, want %s", w.Agent, w.Second, w.Seq, got, want)
	}
}
