package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/store/storetest"
)

// benchStores are the two drivers for a benchmark.
func benchStores(b *testing.B) map[string]*Store {
	out := map[string]*Store{}
	for name, dsn := range map[string]string{
		"sqlite":   filepath.Join(b.TempDir(), "bench.db"),
		"postgres": storetest.StartPostgres(b),
	} {
		s, err := Open(ctx, dsn, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		out[name] = s
	}
	return out
}

// oneSecond is what a study writes each second: all requests and 10 names,
// each with a 1 KiB histogram.
func oneSecond(seq int, t0 time.Time) []Window {
	hdr := make([]byte, 1024)
	ws := make([]Window, 11)
	for i := range ws {
		ws[i] = Window{Seq: seq, Phase: "search", Step: 3, Start: t0.Add(time.Duration(seq) * time.Second), DurationS: 1,
			Requests: 500, Errors: 2, Classes: map[string]int64{"5xx": 2}, HDR: hdr}
		if i > 0 {
			ws[i].Name = fmt.Sprintf("GET /item/%d", i)
		}
	}
	return ws
}

func BenchmarkAppendWindows(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			p, _ := s.CreatePlan(ctx, "bench", "x")
			j, _ := s.CreateJob(ctx, Job{PlanID: p.ID, Kind: "study"})
			t0 := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.AppendWindows(ctx, j.ID, oneSecond(i+1, t0)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWindowsMinute reads one minute (660 rows) out of a 10-minute study.
func BenchmarkWindowsMinute(b *testing.B) {
	for name, s := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			p, _ := s.CreatePlan(ctx, "bench", "x")
			j, _ := s.CreateJob(ctx, Job{PlanID: p.ID, Kind: "study"})
			t0 := time.Now().Truncate(time.Second)
			for seq := 1; seq <= 600; seq++ {
				if err := s.AppendWindows(ctx, j.ID, oneSecond(seq, t0)); err != nil {
					b.Fatal(err)
				}
			}
			from := t0.Add(300 * time.Second)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ws, err := s.Windows(ctx, j.ID, from, from.Add(time.Minute))
				if err != nil || len(ws) != 660 {
					b.Fatalf("%d windows, %v", len(ws), err)
				}
			}
		})
	}
}
