package correlate

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
)

// Traces finds and fetches traces. Tempo and Jaeger implement it.
type Traces interface {
	// Trace fetches one trace by its hex ID.
	Trace(ctx context.Context, id string) (Trace, error)
	// Search lists traces of a service between start and end; with
	// minDuration > 0 only those at least that slow.
	Search(ctx context.Context, q TraceQuery) ([]TraceRef, error)
	// Link is where a person can look at the trace.
	Link(id string) string
}

// ErrTraceNotFound marks a trace the store does not hold: evicted (a store
// that keeps only the newest traces) or never received. A store that
// cannot be reached gives other errors.
var ErrTraceNotFound = errors.New("trace not found")

// TraceQuery selects traces of one service in a time range.
type TraceQuery struct {
	Service     string
	Instance    string // service.instance.id; "" for every instance of the service
	Start, End  time.Time
	MinDuration time.Duration // 0: any
	Limit       int
	// Typical asks for a sample of ordinary traces (a baseline's), not
	// the slowest: kept traces a study labelled typical come first, in
	// time order, and nothing is ordered by duration.
	Typical bool
}

// TraceRef is one search hit.
type TraceRef struct {
	ID       string
	RootName string
	Start    time.Time
	Duration time.Duration
}

// Trace is one fetched trace.
type Trace struct {
	ID    string
	Spans []Span
}

// Span is one span of a trace.
type Span struct {
	ID, ParentID string
	Name         string
	Service      string
	Instance     string // the resource's service.instance.id
	Client       bool   // a call out of the service: span kind client, or a peer.service attribute
	Start, End   time.Time
	Attrs        map[string]string
}

// Duration is how long the span took.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Statement is the span's database statement, "" when it is no query.
func (s Span) Statement() string {
	for _, k := range []string{"db.statement", "db.query.text"} {
		if v := s.Attrs[k]; v != "" {
			return v
		}
	}
	return ""
}

// IsDB reports whether the span is a database call.
func (s Span) IsDB() bool { return s.Statement() != "" || s.Attrs["db.system"] != "" }

// normaliseID lower-cases a hex trace ID and pads it to 32 digits (Tempo's
// search drops leading zeros).
func normaliseID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < 32 {
		id = strings.Repeat("0", 32-len(id)) + id
	}
	return id
}

// tree is a trace indexed for walking: children per span, roots first.
type tree struct {
	trace    Trace
	children map[int][]int // span index → child indexes, by start time
	roots    []int
}

func newTree(t Trace) tree {
	byID := make(map[string]int, len(t.Spans))
	for i, s := range t.Spans {
		byID[s.ID] = i
	}
	tr := tree{trace: t, children: make(map[int][]int, len(t.Spans))}
	for i, s := range t.Spans {
		if p, ok := byID[s.ParentID]; ok && s.ParentID != "" && p != i {
			tr.children[p] = append(tr.children[p], i)
		} else {
			tr.roots = append(tr.roots, i)
		}
	}
	for p := range tr.children {
		c := tr.children[p]
		sort.Slice(c, func(a, b int) bool { return t.Spans[c[a]].Start.Before(t.Spans[c[b]].Start) })
	}
	sort.Slice(tr.roots, func(a, b int) bool {
		return t.Spans[tr.roots[a]].Duration() > t.Spans[tr.roots[b]].Duration()
	})
	return tr
}

// root is the trace's longest parentless span.
func (tr tree) root() (Span, bool) {
	if len(tr.roots) == 0 {
		return Span{}, false
	}
	return tr.trace.Spans[tr.roots[0]], true
}

// selfTime is a span's duration less the time covered by its children,
// each clipped to the span.
func (tr tree) selfTime(i int) time.Duration {
	s := tr.trace.Spans[i]
	covered := time.Duration(0)
	var curStart, curEnd time.Time
	for _, c := range tr.children[i] {
		cs, ce := tr.trace.Spans[c].Start, tr.trace.Spans[c].End
		if cs.Before(s.Start) {
			cs = s.Start
		}
		if ce.After(s.End) {
			ce = s.End
		}
		if !ce.After(cs) {
			continue
		}
		switch {
		case curEnd.IsZero():
			curStart, curEnd = cs, ce
		case cs.After(curEnd):
			covered += curEnd.Sub(curStart)
			curStart, curEnd = cs, ce
		case ce.After(curEnd):
			curEnd = ce
		}
	}
	if !curEnd.IsZero() {
		covered += curEnd.Sub(curStart)
	}
	return max(s.Duration()-covered, 0)
}
