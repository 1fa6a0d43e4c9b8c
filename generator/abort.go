package generator

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/plan"
)

// abortRules watch the last `for` seconds of a run for the plan's
// blast-radius limits (abort.error_rate, abort.p99).
type abortRules struct {
	errorRate *float64
	p99       time.Duration
	window    time.Duration
	slots     []abortSlot // ring, one per second of the window
	pos, seen int
	merged    *hdrhistogram.Histogram
}

type abortSlot struct {
	requests, errors int64
	hist             *hdrhistogram.Histogram
}

// newAbortRules returns nil when the plan sets no rule that needs watching.
func newAbortRules(a plan.Abort) *abortRules {
	if a.ErrorRate == nil && a.P99 <= 0 {
		return nil
	}
	w := a.For
	if w <= 0 {
		w = 10 * time.Second
	}
	n := int(math.Ceil(w.Seconds()))
	r := &abortRules{errorRate: a.ErrorRate, p99: a.P99, window: w, slots: make([]abortSlot, n)}
	if a.P99 > 0 {
		r.merged = NewHistogram()
		for i := range r.slots {
			r.slots[i].hist = NewHistogram()
		}
	}
	return r
}

// observe adds one closed second (all requests) and returns why the run
// must stop, or "".
func (r *abortRules) observe(total *tally) string {
	s := &r.slots[r.pos]
	s.requests, s.errors = total.requests, total.errors
	if s.hist != nil {
		s.hist.Reset()
		if total.hist != nil {
			s.hist.Merge(total.hist)
		}
	}
	r.pos = (r.pos + 1) % len(r.slots)
	r.seen++
	if r.seen < len(r.slots) {
		return ""
	}
	var reqs, errs int64
	for _, s := range r.slots {
		reqs += s.requests
		errs += s.errors
	}
	if r.errorRate != nil && reqs > 0 {
		if rate := float64(errs) / float64(reqs); rate >= *r.errorRate {
			return fmt.Sprintf("error rate %.1f%% ≥ %s%% for %v", rate*100,
				strconv.FormatFloat(*r.errorRate*100, 'f', -1, 64), r.window)
		}
	}
	if r.p99 > 0 {
		r.merged.Reset()
		for _, s := range r.slots {
			r.merged.Merge(s.hist)
		}
		if r.merged.TotalCount() > 0 {
			p := time.Duration(r.merged.ValueAtQuantile(99)) * time.Microsecond
			if p >= r.p99 {
				return fmt.Sprintf("p99 %v ≥ %v for %v", p.Round(time.Millisecond), r.p99, r.window)
			}
		}
	}
	return ""
}

// AbortWatch applies a plan's abort rules (abort.error_rate, abort.p99
// held for abort.for) to seconds measured elsewhere: a fleet's merged
// seconds, judged as one generator's would be.
type AbortWatch struct{ r *abortRules }

// NewAbortWatch returns a watch of a's rules; nil when a sets none.
func NewAbortWatch(a plan.Abort) *AbortWatch {
	r := newAbortRules(a)
	if r == nil {
		return nil
	}
	return &AbortWatch{r: r}
}

// Observe adds one closed second (all requests) and returns why the run
// must stop, or "". A nil watch never stops a run.
func (w *AbortWatch) Observe(s Second) string {
	if w == nil {
		return ""
	}
	return w.r.observe(&tally{requests: s.Total.Requests, errors: s.Total.Errors, hist: s.Total.Hist})
}
