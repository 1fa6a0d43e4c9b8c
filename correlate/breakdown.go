package correlate

import (
	"sort"
	"time"
)

// SpanDelta is one span name's self-time per trace, baseline vs degraded:
// the rows of the "which span accounts for the added latency" table.
type SpanDelta struct {
	Name          string  `json:"name"`
	Statement     string  `json:"statement,omitempty"` // for database spans
	DB            bool    `json:"db,omitempty"`
	Client        bool    `json:"client,omitempty"` // a call out of the service
	BaselineMs    float64 `json:"baseline_ms"`      // mean self-time per trace
	DegradedMs    float64 `json:"degraded_ms"`
	AddedMs       float64 `json:"added_ms"`
	Share         float64 `json:"share"` // of the added root latency; of the root latency without a baseline
	BaselineCount float64 `json:"baseline_count"`
	DegradedCount float64 `json:"degraded_count"` // mean occurrences per trace
	Root          bool    `json:"root,omitempty"` // the request's own server span
}

// Breakdown compares span self-times of the degraded traces with the
// baseline's. Baseline traces are narrowed to the request names seen in
// the degraded set when at least three remain, so a different mix of
// requests does not pass for a slowdown.
type Breakdown struct {
	BaselineTraces int         `json:"baseline_traces"`
	DegradedTraces int         `json:"degraded_traces"`
	BaselineRootMs float64     `json:"baseline_root_ms"` // mean root span duration
	DegradedRootMs float64     `json:"degraded_root_ms"`
	AddedMs        float64     `json:"added_ms"`
	Spans          []SpanDelta `json:"spans"` // largest added self-time first

	// Pool: per request, the time a pooled connection was held
	// (transactions, BEGIN to COMMIT, and statements outside them) and the
	// time spent waiting for one (db.pool.wait spans), in all the
	// baseline's traces and in the degraded ones. Zero without such spans.
	BaselineHoldMs float64 `json:"baseline_hold_ms,omitempty"`
	DegradedHoldMs float64 `json:"degraded_hold_ms,omitempty"`
	BaselineWaitMs float64 `json:"baseline_wait_ms,omitempty"`
	DegradedWaitMs float64 `json:"degraded_wait_ms,omitempty"`
	HoldTraces     int     `json:"hold_traces,omitempty"` // baseline traces the hold time is the mean of
	// PoolShare is the share of the baseline's typical traces that touched
	// the pool: the hold time is theirs, so it is multiplied by their own
	// rate (this share of the throughput), never by every request's.
	PoolShare float64 `json:"pool_share,omitempty"`
}

// Span names of a database pool's instrumentation (the demo shop's, and
// the same idea elsewhere): the wait for a connection, and a transaction
// from BEGIN to COMMIT or ROLLBACK.
const (
	poolWaitSpan = "db.pool.wait"
	txSpan       = "db.transaction"
)

// isPoolWait reports whether s is the wait for a pooled connection.
func (s Span) isPoolWait() bool { return s.Name == poolWaitSpan || s.Attrs["db.pool.max_open"] != "" }

// poolTimes are the connection hold and wait of one trace: transactions
// plus database statements outside a transaction, and pool waits.
func poolTimes(t tree) (hold, wait time.Duration, ok bool) {
	byID := map[string]Span{}
	for _, s := range t.trace.Spans {
		byID[s.ID] = s
	}
	for _, s := range t.trace.Spans {
		switch {
		case s.isPoolWait():
			wait += s.Duration()
			ok = true
		case s.Name == txSpan:
			hold += s.Duration()
			ok = true
		case s.IsDB() && byID[s.ParentID].Name != txSpan:
			hold += s.Duration()
		}
	}
	return hold, wait, ok
}

// meanPool is the mean hold and wait per trace over the traces with pool
// spans, and how many had them.
func meanPool(ts []tree) (hold, wait float64, n int) {
	for _, t := range ts {
		h, w, ok := poolTimes(t)
		if !ok {
			continue
		}
		hold += ms(h)
		wait += ms(w)
		n++
	}
	if n > 0 {
		hold, wait = hold/float64(n), wait/float64(n)
	}
	return hold, wait, n
}

type spanAcc struct {
	delta     SpanDelta
	baseTotal time.Duration
	degTotal  time.Duration
	baseN     int
	degN      int
}

func breakdown(base, deg []tree) Breakdown {
	names := map[string]bool{}
	for _, t := range deg {
		if r, ok := t.root(); ok {
			names[r.Name] = true
		}
	}
	var same []tree
	for _, t := range base {
		if r, ok := t.root(); ok && names[r.Name] {
			same = append(same, t)
		}
	}
	var b Breakdown
	b.BaselineHoldMs, b.BaselineWaitMs, b.HoldTraces = meanPool(base) // the whole mix of requests
	if len(base) > 0 {
		b.PoolShare = float64(b.HoldTraces) / float64(len(base))
	}
	b.DegradedHoldMs, b.DegradedWaitMs, _ = meanPool(deg)
	if len(same) >= 3 {
		base = same
	}
	b.BaselineTraces, b.DegradedTraces = len(base), len(deg)
	b.BaselineRootMs = meanRootMs(base)
	b.DegradedRootMs = meanRootMs(deg)
	if len(base) > 0 {
		b.AddedMs = b.DegradedRootMs - b.BaselineRootMs
	} else {
		b.AddedMs = b.DegradedRootMs
	}
	acc := map[string]*spanAcc{}
	add := func(ts []tree, degraded bool) {
		for _, t := range ts {
			rootIdx := -1
			if len(t.roots) > 0 {
				rootIdx = t.roots[0]
			}
			for i, s := range t.trace.Spans {
				a := acc[s.Name]
				if a == nil {
					a = &spanAcc{delta: SpanDelta{Name: s.Name, Statement: s.Statement(), DB: s.IsDB(), Client: s.Client}}
					acc[s.Name] = a
				}
				a.delta.Root = a.delta.Root || i == rootIdx
				if degraded {
					a.degTotal += t.selfTime(i)
					a.degN++
				} else {
					a.baseTotal += t.selfTime(i)
					a.baseN++
				}
			}
		}
	}
	add(base, false)
	add(deg, true)
	for _, a := range acc {
		d := a.delta
		if len(base) > 0 {
			d.BaselineMs = ms(a.baseTotal) / float64(len(base))
			d.BaselineCount = float64(a.baseN) / float64(len(base))
		}
		if len(deg) > 0 {
			d.DegradedMs = ms(a.degTotal) / float64(len(deg))
			d.DegradedCount = float64(a.degN) / float64(len(deg))
		}
		d.AddedMs = d.DegradedMs - d.BaselineMs
		if b.AddedMs > 0 {
			d.Share = d.AddedMs / b.AddedMs
		}
		b.Spans = append(b.Spans, d)
	}
	sort.Slice(b.Spans, func(i, j int) bool {
		if b.Spans[i].AddedMs != b.Spans[j].AddedMs {
			return b.Spans[i].AddedMs > b.Spans[j].AddedMs
		}
		return b.Spans[i].Name < b.Spans[j].Name
	})
	return b
}

func meanRootMs(ts []tree) float64 {
	var sum float64
	n := 0
	for _, t := range ts {
		if r, ok := t.root(); ok {
			sum += ms(r.Duration())
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
