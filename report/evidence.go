package report

import (
	"fmt"

	"github.com/headroom-sre/headroom/correlate"
)

// readings are a finding's signal and the related ones that were read.
func readings(f correlate.Finding) []correlate.Reading {
	var out []correlate.Reading
	if r := f.Evidence.Signal; r != nil && r.Available {
		out = append(out, *r)
	}
	for _, r := range f.Evidence.Related {
		if r.Available {
			out = append(out, r)
		}
	}
	return out
}

// withUnit writes a signal value with its unit.
func withUnit(v float64, unit string) string {
	switch unit {
	case "", "value":
		return fmtFloat(v)
	case "ratio", "fraction":
		return fmtPct(v)
	}
	return fmtFloat(v) + " " + unit
}

// lead says when a signal moved relative to the latency knee.
func lead(s *float64) string {
	switch {
	case s == nil:
		return "—"
	case *s >= 0:
		return fmt.Sprintf("%s s before the knee", fmtFloat(*s))
	}
	return fmt.Sprintf("%s s after the knee", fmtFloat(-*s))
}

func optFloat(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtFloat(*v)
}

func spanName(s correlate.SpanDelta) string {
	if s.Statement != "" {
		return s.Name + " (" + s.Statement + ")"
	}
	return s.Name
}

// short is the head of a trace ID.
func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}
