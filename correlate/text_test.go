package correlate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWriteTextShowsTheSlowestTraceWithItsSpans(t *testing.T) {
	at := time.Date(2026, 12, 1, 11, 33, 20, 0, time.UTC)
	rep := Report{
		Window: Window{Found: true, Onset: at, End: at.Add(3 * time.Second), Reason: "p99 above the SLO", DegradedP99Ms: 2892, DegradedRate: 620},
		Findings: []Finding{{Rank: 1, Kind: "cpu_usage", Title: "CPU cores used", Score: 0.76,
			Evidence: Evidence{Facts: []string{"1.54 of 2.00 cores used"}}, Recommendation: "Profile the handlers."}},
		SlowTraces: []TraceLink{{ID: "4bf92f3577b34da6a3ce929d0e0e4736", Root: "POST /v1/checkout", Instance: "127.0.0.1:18081",
			DurationMs: 2892, URL: "http://127.0.0.1:13200/trace/4bf9", Spans: []SpanSummary{
				{Name: "db.transaction", Count: 1, DurationMs: 2071, SelfMs: 2071},
				{Name: "db.pool.wait", Count: 3, DurationMs: 819, SelfMs: 819},
				{Name: "SELECT products", Count: 1, DurationMs: 0.1, SelfMs: 0.1, Statement: "SELECT id FROM products WHERE id = ?"},
			}}},
		NotAvailable: []string{"signal cpu_throttling: not available: no series"},
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"degraded from 11:33:20 to 11:33:23 (p99 above the SLO): p99 2892 ms at 620.0/s",
		"1. CPU cores used  [cpu_usage, score 0.76]",
		"   - 1.54 of 2.00 cores used",
		"   → Profile the handlers.",
		"slowest trace of the window: 2892.0 ms POST /v1/checkout on 127.0.0.1:18081 (4bf92f3577b34da6a3ce929d0e0e4736)",
		"db.transaction         ×1      2071.0 ms, own    2071.0 ms",
		"db.pool.wait           ×3       819.0 ms",
		"SELECT id FROM products WHERE id = ?",
		"signal cpu_throttling: not available",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextReturnsTheWriteError(t *testing.T) {
	rep := Report{Notes: []string{"a note"}}
	if err := rep.WriteText(failingWriter{}); err == nil || err.Error() != "disk full" {
		t.Fatalf("err %v, want the writer's", err)
	}
}
