package derive_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/derive"
	"github.com/headroom-sre/headroom/derive/internal/logsynth"
)

// BenchmarkReadLog reads a 200,000-line combined log in one pass; lines/s
// is the figure that matters (scripts/bench-derive.sh reads 5 million
// through the CLI and prints peak memory too).
func BenchmarkReadLog(b *testing.B) {
	const lines = 200_000
	var log bytes.Buffer
	if err := logsynth.Write(&log, lines, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 60, 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(log.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		p, err := derive.ReadLog(context.Background(), bytes.NewReader(log.Bytes()), "synth.log", derive.LogOptions{Format: derive.FormatCombined})
		if err != nil {
			b.Fatal(err)
		}
		if p.Requests != lines {
			b.Fatalf("%d requests, want %d", p.Requests, lines)
		}
	}
	b.ReportMetric(float64(lines*b.N)/time.Since(start).Seconds(), "lines/s")
}
