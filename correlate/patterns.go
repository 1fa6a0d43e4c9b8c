package correlate

import (
	"sort"
	"strings"
	"time"
)

// Repeat is an N+1 candidate: one database span repeated under one parent.
type Repeat struct {
	Span          string  `json:"span"`
	Parent        string  `json:"parent"`
	Statement     string  `json:"statement,omitempty"`
	MaxCount      int     `json:"max_count"`      // most repeats under one parent
	BaselineCount float64 `json:"baseline_count"` // mean repeats per parent in baseline traces
	DegradedCount float64 `json:"degraded_count"`
	TraceID       string  `json:"trace_id"` // the trace with MaxCount
}

// nPlusOneCount is the count of same-named database children under one
// parent that is an N+1 pattern whatever the load.
const nPlusOneCount = 10

// findRepeats finds database spans repeated under one parent: at least 10
// times, or at least 5 times and twice as often as in the baseline.
func findRepeats(base, deg []tree) []Repeat {
	type key struct{ parent, child string }
	type acc struct {
		r       Repeat
		baseSum int
		baseN   int
		degSum  int
		degN    int
	}
	all := map[key]*acc{}
	scan := func(ts []tree, degraded bool) {
		for _, t := range ts {
			for p, kids := range t.children {
				counts := map[string]int{}
				for _, c := range kids {
					if s := t.trace.Spans[c]; s.IsDB() && !s.isPoolWait() && s.Name != txSpan {
						counts[s.Name]++
					}
				}
				for name, n := range counts {
					k := key{t.trace.Spans[p].Name, name}
					a := all[k]
					if a == nil {
						a = &acc{r: Repeat{Span: name, Parent: k.parent}}
						all[k] = a
					}
					if degraded {
						a.degSum += n
						a.degN++
						if n > a.r.MaxCount {
							a.r.MaxCount, a.r.TraceID = n, t.trace.ID
							for _, c := range kids {
								if t.trace.Spans[c].Name == name {
									a.r.Statement = t.trace.Spans[c].Statement()
									break
								}
							}
						}
					} else {
						a.baseSum += n
						a.baseN++
					}
				}
			}
		}
	}
	scan(base, false)
	scan(deg, true)
	var out []Repeat
	for _, a := range all {
		r := a.r
		if a.degN > 0 {
			r.DegradedCount = float64(a.degSum) / float64(a.degN)
		}
		if a.baseN > 0 {
			r.BaselineCount = float64(a.baseSum) / float64(a.baseN)
		}
		grows := a.baseN > 0 && r.DegradedCount >= 5 && r.DegradedCount >= 2*r.BaselineCount
		if r.MaxCount >= nPlusOneCount || grows {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MaxCount != out[j].MaxCount {
			return out[i].MaxCount > out[j].MaxCount
		}
		return out[i].Span < out[j].Span
	})
	return out
}

// Serial is a set of sibling spans that ran one after another, each a
// significant part of their parent: candidates to run concurrently.
type Serial struct {
	Parent    string   `json:"parent"`
	Spans     []string `json:"spans"`
	SumMs     float64  `json:"sum_ms"`     // their durations added
	LongestMs float64  `json:"longest_ms"` // the longest of them: the floor if run concurrently
	ParentMs  float64  `json:"parent_ms"`
	Traces    int      `json:"traces"` // degraded traces showing it
	TraceID   string   `json:"trace_id"`
}

// significant is the share of its parent a sibling must take to count.
const significant = 0.15

// findSerial finds, per parent span name, sibling calls of different names
// that do not overlap, each at least 15% of the parent, where running them
// together would save at least 20% of the parent's time; reported when seen
// in at least a third of the traces.
func findSerial(deg []tree) []Serial {
	found := map[string]*Serial{}
	for _, t := range deg {
		seen := map[string]bool{}
		for p, kids := range t.children {
			parent := t.trace.Spans[p]
			pd := parent.Duration()
			if pd <= 0 || len(kids) < 2 {
				continue
			}
			var sig []Span
			names := map[string]bool{}
			for _, c := range kids {
				s := t.trace.Spans[c]
				if float64(s.Duration()) >= significant*float64(pd) && s.Duration() >= time.Millisecond && !names[s.Name] {
					sig = append(sig, s)
					names[s.Name] = true
				}
			}
			if len(sig) < 2 || overlapping(sig) {
				continue
			}
			var sum, longest time.Duration
			var ns []string
			for _, s := range sig {
				sum += s.Duration()
				longest = max(longest, s.Duration())
				ns = append(ns, s.Name)
			}
			if float64(sum-longest) < 0.2*float64(pd) {
				continue
			}
			k := parent.Name + "\x00" + strings.Join(ns, "\x00")
			if seen[k] {
				continue
			}
			seen[k] = true
			s := found[k]
			if s == nil {
				s = &Serial{Parent: parent.Name, Spans: ns, TraceID: t.trace.ID}
				found[k] = s
			}
			s.Traces++
			s.SumMs += ms(sum)
			s.LongestMs += ms(longest)
			s.ParentMs += ms(pd)
		}
	}
	var out []Serial
	for _, s := range found {
		if 3*s.Traces < len(deg) {
			continue
		}
		n := float64(s.Traces)
		s.SumMs, s.LongestMs, s.ParentMs = s.SumMs/n, s.LongestMs/n, s.ParentMs/n
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].SumMs-out[i].LongestMs > out[j].SumMs-out[j].LongestMs
	})
	return out
}

// overlapping reports whether any two spans (sorted by start) overlap.
func overlapping(ss []Span) bool {
	for i := 1; i < len(ss); i++ {
		if ss[i].Start.Before(ss[i-1].End) {
			return true
		}
	}
	return false
}
