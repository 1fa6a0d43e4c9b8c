package merge

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchFleet is 100 agents, each sending 20 request names at 100
// requests per name per second (2,000 requests/s per agent, 200,000/s for
// the fleet), latencies log-normal around 20 ms.
func benchFleet(b *testing.B) ([]string, []Window) {
	const agents, perName = 100, 100
	var ns []string
	for i := 0; i < 20; i++ {
		ns = append(ns, fmt.Sprintf("request-%02d", i))
	}
	r := rand.New(rand.NewPCG(41, 42))
	var ids []string
	var ws []Window
	for i := 0; i < agents; i++ {
		a := agentSpec{id: fmt.Sprintf("agent-%03d", i), medianUs: 20_000 * (0.8 + 0.4*r.Float64()), perName: perName}
		ids = append(ids, a.id)
		ws = append(ws, window(b, r, a, 0, ns, nil))
	}
	return ids, ws
}

// BenchmarkMerge100Agents20Names is the server's cost for one second of a
// 100-agent fleet: ingest (check and decode) 100 windows of 20 request
// names each, then merge them into one second (histograms, counts,
// exemplars, latency statistics, the outlier judgement). One op is one
// merged second; core-ms/s is the share of one core a fleet keeps busy.
func BenchmarkMerge100Agents20Names(b *testing.B) {
	ids, ws := benchFleet(b)
	m := mustNew(b, Options{Agents: ids, Start: t0})
	var ingest, merge time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t1 := time.Now()
		for _, w := range ws {
			w.Second, w.Seq = int64(i), uint64(i)
			if _, err := m.Add(w); err != nil {
				b.Fatal(err)
			}
		}
		t2 := time.Now()
		out := m.Ready(t0) // complete: no deadline involved
		if len(out) != 1 || out[0].Short() || len(out[0].ByName) != 20 {
			b.Fatalf("second %d: %d seconds emitted", i, len(out))
		}
		ingest += t2.Sub(t1)
		merge += time.Since(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(ingest.Nanoseconds())/n, "ingest-ns/second")
	b.ReportMetric(float64(merge.Nanoseconds())/n, "merge-ns/second")
	b.ReportMetric(float64((ingest+merge).Microseconds())/n/1000, "core-ms/s")
}

// BenchmarkFromSecond20Names is an agent's cost to encode one second of 20
// request names for the wire.
func BenchmarkFromSecond20Names(b *testing.B) {
	var ns []string
	for i := 0; i < 20; i++ {
		ns = append(ns, fmt.Sprintf("request-%02d", i))
	}
	sec := second(rand.New(rand.NewPCG(43, 44)), agentSpec{"a", 20_000, 100}, 0, ns, nil)
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int
	for i := 0; i < b.N; i++ {
		w, err := FromSecond("a", 0, uint64(i), sec)
		if err != nil {
			b.Fatal(err)
		}
		bytes = len(w.Total.HDR)
		for _, n := range w.ByName {
			bytes += len(n.HDR)
		}
	}
	b.ReportMetric(float64(bytes), "hdr-bytes/window")
}
