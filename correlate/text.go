package correlate

import (
	"fmt"
	"io"
	"time"
)

// WriteText writes the report as the CLI and the server print it: the
// degradation window, notes, the top three findings with their facts, the
// slowest trace with its span breakdown, and what was not available.
func (r Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	if win := r.Window; win.Found {
		ew.printf("degraded from %s to %s (%s): p99 %.0f ms at %.1f/s",
			win.Onset.Format(time.TimeOnly), win.End.Format(time.TimeOnly), win.Reason, win.DegradedP99Ms, win.DegradedRate)
		if win.HasBaseline() {
			ew.printf(", baseline %.0f ms at %.1f/s", win.BaselineP99Ms, win.BaselineRate)
		}
		ew.printf("\n")
		if len(win.Parts) > 0 {
			ew.printf("degraded steps (the window, nothing between them):")
			for _, p := range win.Parts {
				ew.printf(" %s #%d %s–%s", p.Phase, p.Index, p.Start.Format(time.TimeOnly), p.End.Format(time.TimeOnly))
				if p.Cut {
					ew.printf(" (stopped in its warm-up)")
				}
				ew.printf(";")
			}
			ew.printf("\n")
		}
	}
	for _, n := range r.Notes {
		ew.printf("note: %s\n", n)
	}
	for _, f := range r.Top(3) {
		ew.printf("\n%d. %s  [%s, score %.2f]\n", f.Rank, f.Title, f.Kind, f.Score)
		for _, fact := range f.Evidence.Facts {
			ew.printf("   - %s\n", fact)
		}
		if len(f.Evidence.Traces) > 0 && f.Evidence.Traces[0].URL != "" {
			ew.printf("   trace: %s\n", f.Evidence.Traces[0].URL)
		}
		ew.printf("   → %s\n", f.Recommendation)
	}
	if len(r.SlowTraces) > 0 {
		writeTrace(ew, r.SlowTraces[0])
	}
	if len(r.NotAvailable) > 0 {
		ew.printf("\n")
		for _, n := range r.NotAvailable {
			ew.printf("%s\n", n)
		}
	}
	return ew.err
}

// spansShown is how many span names of the slowest trace are printed.
const spansShown = 6

// writeTrace prints one slow trace and where its time went.
func writeTrace(ew *errWriter, t TraceLink) {
	ew.printf("\nslowest trace of the window: %.1f ms", t.DurationMs)
	if t.Root != "" {
		ew.printf(" %s", t.Root)
	}
	if t.Instance != "" {
		ew.printf(" on %s", t.Instance)
	}
	ew.printf(" (%s)\n", t.ID)
	if t.URL != "" {
		ew.printf("   %s\n", t.URL)
	}
	for i, s := range t.Spans {
		if i == spansShown {
			ew.printf("   … and %d more span names\n", len(t.Spans)-spansShown)
			break
		}
		ew.printf("   %-22s ×%-3d %9.1f ms, own %9.1f ms", s.Name, s.Count, s.DurationMs, s.SelfMs)
		if s.Statement != "" {
			ew.printf("  %s", s.Statement)
		}
		ew.printf("\n")
	}
}

// errWriter keeps the first write error and skips writes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
