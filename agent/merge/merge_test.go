package merge

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
)

// A skewed fleet: three agents near 20 ms and one slow agent near 200 ms
// (a noisy neighbour), each sending its own share of every name.
var skewed = []agentSpec{
	{"a1", 20_000, 400},
	{"a2", 22_000, 300},
	{"a3", 18_000, 500},
	{"slow", 200_000, 100},
}

var names = []string{"browse", "cart", "checkout"}

func TestMergedPercentilesEqualOneHistogramOfAllSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tr := newTruth()
	m := mustNew(t, Options{Agents: ids(skewed), Start: t0})
	var perAgentP99, perAgentN []float64
	for _, a := range skewed {
		w := window(t, r, a, 0, names, tr)
		mustAdd(t, m, w, Accepted)
		h, err := w.Total.histogram()
		if err != nil {
			t.Fatal(err)
		}
		perAgentP99 = append(perAgentP99, packedLatency(h).P99)
		perAgentN = append(perAgentN, float64(w.Total.Requests))
	}
	out := m.Ready(t0) // complete: no deadline needed
	if len(out) != 1 {
		t.Fatalf("Ready gave %d seconds, want 1", len(out))
	}
	sec := out[0]
	if sec.Short() || len(sec.Agents) != len(skewed) {
		t.Fatalf("second short (missing %v) or agents %v", sec.Missing, sec.Agents)
	}
	check := func(label string, got generator.Window, name string) {
		t.Helper()
		want := tr.hist[name]
		if !got.Hist.Equals(want) {
			t.Errorf("%s: merged histogram differs from one histogram of all %d samples", label, want.TotalCount())
		}
		if got.Latency != generator.LatencyOf(want) {
			t.Errorf("%s: latency %+v, one histogram of all samples gives %+v", label, got.Latency, generator.LatencyOf(want))
		}
		if got.Requests != int64(len(tr.raw[name])) {
			t.Errorf("%s: %d requests, the agents made %d", label, got.Requests, len(tr.raw[name]))
		}
		// Exact to the histogram's precision: 3 significant digits.
		for _, q := range []struct {
			q   float64
			got float64
		}{{50, got.Latency.P50}, {99, got.Latency.P99}, {100, got.Latency.Max}} {
			exact := tr.exactMs(name, q.q)
			if rel := math.Abs(q.got-exact) / exact; rel > 1e-3 {
				t.Errorf("%s: p%v %.3f ms, the samples' exact value %.3f ms (off by %.4f%%)", label, q.q, q.got, exact, rel*100)
			}
		}
	}
	check("all", sec.Total, "")
	if len(sec.ByName) != len(names) {
		t.Fatalf("merged %d names, want %d", len(sec.ByName), len(names))
	}
	for i, n := range names {
		if sec.ByName[i].Name != n {
			t.Fatalf("ByName[%d] = %q, want %q (sorted)", i, sec.ByName[i].Name, n)
		}
		check(n, sec.ByName[i], n)
	}

	// What averaging the agents' p99s (as JMeter-style listeners do) would
	// have said about the same fleet.
	var sum, wsum, n float64
	for i, p := range perAgentP99 {
		sum += p
		wsum += p * perAgentN[i]
		n += perAgentN[i]
	}
	avg, wavg := sum/float64(len(perAgentP99)), wsum/n
	trueP99 := tr.exactMs("", 99)
	off, woff := (avg-trueP99)/trueP99, (wavg-trueP99)/trueP99
	t.Logf("skewed fleet (%d agents, one slow): merged p99 %.2f ms, exact p99 of all samples %.2f ms; averaged per-agent p99s %.2f ms (off by %+.0f%%), request-weighted %.2f ms (off by %+.0f%%)",
		len(skewed), sec.Total.Latency.P99, trueP99, avg, off*100, wavg, woff*100)
	if math.Abs(off) < 0.2 || math.Abs(woff) < 0.2 {
		t.Errorf("averaging per-agent p99s is off by only %.1f%% (weighted %.1f%%): the fleet is not skewed enough to show it", off*100, woff*100)
	}
}

func TestMergedCountsAndExemplars(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := mustNew(t, Options{Agents: ids(skewed), Start: t0})
	var ws []Window
	var want struct {
		requests, errors, bytes, iterations, dropped, vus, fiveXX int64
		offered, inFlight, busy                                   float64
		slowest                                                   float64
	}
	for _, a := range skewed {
		w := window(t, r, a, 0, names, nil)
		ws = append(ws, w)
		mustAdd(t, m, w, Accepted)
		want.requests += w.Total.Requests
		want.errors += w.Total.Errors
		want.bytes += w.Total.Bytes
		want.iterations += w.Iterations
		want.dropped += w.Dropped
		want.vus += int64(w.VUs)
		want.fiveXX += w.Total.Classes["status_5xx"]
		want.offered += w.Offered
		want.inFlight += w.InFlight
		want.busy += w.Busy
		want.slowest = max(want.slowest, w.Total.Exemplars[0].LatencyMs)
	}
	sec := m.Flush()[0]
	got := sec.Second
	if got.Total.Requests != want.requests || got.Total.Errors != want.errors || got.Total.Bytes != want.bytes {
		t.Errorf("total requests/errors/bytes %d/%d/%d, want %d/%d/%d", got.Total.Requests, got.Total.Errors, got.Total.Bytes, want.requests, want.errors, want.bytes)
	}
	if got.Total.Classes["status_5xx"] != want.fiveXX || want.fiveXX == 0 {
		t.Errorf("status_5xx %d, want %d (> 0)", got.Total.Classes["status_5xx"], want.fiveXX)
	}
	if got.Iterations != want.iterations || got.Dropped != want.dropped || int64(got.VUs) != want.vus {
		t.Errorf("iterations/dropped/vus %d/%d/%d, want %d/%d/%d", got.Iterations, got.Dropped, got.VUs, want.iterations, want.dropped, want.vus)
	}
	if got.Offered != want.offered || got.InFlight != want.inFlight || got.Busy != want.busy {
		t.Errorf("offered/in-flight/busy %v/%v/%v, want %v/%v/%v", got.Offered, got.InFlight, got.Busy, want.offered, want.inFlight, want.busy)
	}
	if !got.Start.Equal(t0) || got.Duration != time.Second {
		t.Errorf("start %v duration %v, want %v and 1s", got.Start, got.Duration, t0)
	}
	if got.RequestRate() != float64(want.requests) {
		t.Errorf("request rate %v, want %d", got.RequestRate(), want.requests)
	}
	ex := got.Total.Exemplars
	if len(ex) != maxExemplars || ex[0].LatencyMs != want.slowest {
		t.Fatalf("exemplars %+v: want %d, the slowest %.3f ms first", ex, maxExemplars, want.slowest)
	}
	for i := 1; i < len(ex); i++ {
		if ex[i].LatencyMs > ex[i-1].LatencyMs {
			t.Errorf("exemplars not slowest first: %v after %v", ex[i].LatencyMs, ex[i-1].LatencyMs)
		}
	}
	if len(sec.PerAgent) != len(skewed) {
		t.Fatalf("%d per-agent windows, want %d", len(sec.PerAgent), len(skewed))
	}
	for i, a := range sec.PerAgent {
		if a.Window.Agent != sec.Agents[i] || a.Window.Total.Requests == 0 || a.Latency.P99 == 0 {
			t.Errorf("per-agent %d: agent %q (want %q), %d requests, p99 %v", i, a.Window.Agent, sec.Agents[i], a.Window.Total.Requests, a.Latency.P99)
		}
	}
	if slow := sec.PerAgent[3]; slow.Window.Agent != "slow" || slow.Latency.P50 < 5*sec.PerAgent[0].Latency.P50 {
		t.Errorf("the slow agent's own latency is not kept apart: %+v", slow)
	}
}

func TestWindowDecodesBackToItsSecond(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	sec := second(r, skewed[0], 7, names, nil)
	w, err := FromSecond("a1", Index(t0, sec.Start), 9, sec)
	if err != nil {
		t.Fatal(err)
	}
	if w.Second != 7 || w.Seq != 9 || w.Agent != "a1" {
		t.Fatalf("window key %s/%d/%d, want a1/7/9", w.Agent, w.Second, w.Seq)
	}
	back, err := w.Decode(t0)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Start.Equal(t0.Add(7*time.Second)) || back.Duration != sec.Duration || back.Offered != sec.Offered || back.VUs != sec.VUs {
		t.Errorf("decoded second %v/%v/%v/%v, want %v/%v/%v/%v", back.Start, back.Duration, back.Offered, back.VUs, t0.Add(7*time.Second), sec.Duration, sec.Offered, sec.VUs)
	}
	pairs := [][2]generator.Window{{back.Total, sec.Total}}
	for i := range sec.ByName {
		pairs = append(pairs, [2]generator.Window{back.ByName[i], sec.ByName[i]})
	}
	for _, p := range pairs {
		got, want := p[0], p[1]
		if !got.Hist.Equals(want.Hist) || got.Latency != want.Latency || got.Requests != want.Requests || got.Errors != want.Errors || len(got.Exemplars) != len(want.Exemplars) {
			t.Errorf("%q: decoded %+v, want %+v", want.Name, got.Latency, want.Latency)
		}
	}
	// The window holds copies: recording into the live histogram after
	// OnSecond does not change it.
	_ = sec.Total.Hist.RecordValue(3_000_000)
	again, _ := w.Decode(t0)
	if again.Total.Latency.Max == 3000 {
		t.Error("the window shares the live histogram")
	}
}

func TestIndexRoundsClockSkew(t *testing.T) {
	for _, c := range []struct {
		at   time.Duration
		want int64
	}{{0, 0}, {-20 * time.Millisecond, 0}, {999 * time.Millisecond, 1}, {5*time.Second + 40*time.Millisecond, 5}} {
		if got := Index(t0, t0.Add(c.at)); got != c.want {
			t.Errorf("Index(start+%v) = %d, want %d", c.at, got, c.want)
		}
	}
}
