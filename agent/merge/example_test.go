package merge_test

import (
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/agent/merge"
	"github.com/headroom-sre/headroom/generator"
)

// Two agents each send their second 0; the fleet's p99 comes from the two
// histograms merged (400 ms: the slowest 1% of the fleet's requests are
// the slow agent's), not from the average of the agents' p99s (205 ms).
func ExampleMerger() {
	start := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	m, err := merge.New(merge.Options{Agents: []string{"fast", "slow"}, Start: start})
	if err != nil {
		panic(err)
	}
	for _, a := range []struct {
		id string
		ms int64
	}{{"fast", 10}, {"slow", 400}} {
		h := generator.NewHistogram()
		for i := 0; i < 100; i++ {
			_ = h.RecordValue(a.ms * 1000)
		}
		sec := generator.Second{Start: start, Duration: time.Second, Total: generator.Window{Requests: 100, Hist: h}}
		w, err := merge.FromSecond(a.id, merge.Index(start, sec.Start), 0, sec)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: p99 %.0f ms\n", a.id, generator.LatencyOf(h).P99)
		if _, err := m.Add(w); err != nil {
			panic(err)
		}
	}
	for _, s := range m.Ready(start) {
		fmt.Printf("fleet second %d: %d requests, p50 %.0f ms, p99 %.0f ms, short %v\n",
			s.Index, s.Total.Requests, s.Total.Latency.P50, s.Total.Latency.P99, s.Short())
	}
	// Output:
	// fast: p99 10 ms
	// slow: p99 400 ms
	// fleet second 0: 200 requests, p50 10 ms, p99 400 ms, short false
}
