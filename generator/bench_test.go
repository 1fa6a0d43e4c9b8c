package generator

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// BenchmarkRecord measures the hot-path record of one request into a shard.
func BenchmarkRecord(b *testing.B) {
	s := newShard(4)
	o := outcome{bytes: 120, status: 200}
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		o.us = 200 + i%5000
		s.record(int(i&3), &o)
	}
}

// BenchmarkRecordParallel records from several goroutines into their own
// shards, as virtual users do.
func BenchmarkRecordParallel(b *testing.B) {
	shards := make([]*shard, runtime.GOMAXPROCS(0)*4)
	for i := range shards {
		shards[i] = newShard(1)
	}
	var next int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := shards[int(next)%len(shards)]
		next++
		o := outcome{bytes: 120, status: 200, us: 1500}
		for pb.Next() {
			s.record(0, &o)
		}
	})
}

// BenchmarkEngine drives a tiny loopback service at the maximum rate a
// closed model with no think time reaches, and reports requests per second
// and allocations per request (the in-process server's included), once
// with the users' own connections and once through net/http's transport.
func BenchmarkEngine(b *testing.B) {
	b.Run("own-connections", benchmarkEngine)
	b.Run("net-http", func(b *testing.B) {
		b.Setenv("HEADROOM_HTTP_CLIENT", "net/http")
		benchmarkEngine(b)
	})
}

func benchmarkEngine(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	const d = 2 * time.Second
	users := float64(2 * runtime.GOMAXPROCS(0))
	p := newPlan(srv.URL, plan.Load{Model: "closed", Start: users, Stages: []plan.Stage{{Duration: d, Target: users}}})
	var reqs, allocs, elapsed float64
	var ms runtime.MemStats
	for b.Loop() {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		res := mustRun(b, p, Options{})
		runtime.ReadMemStats(&ms)
		reqs += float64(res.Summary.Requests)
		allocs += float64(ms.Mallocs - before)
		elapsed += res.End.Sub(res.Start).Seconds()
		if res.Summary.Errors > 0 {
			b.Fatalf("%d errors: %v", res.Summary.Errors, res.Summary.Classes)
		}
	}
	b.ReportMetric(reqs/elapsed, "req/s")
	b.ReportMetric(allocs/reqs, "allocs/req")
}
