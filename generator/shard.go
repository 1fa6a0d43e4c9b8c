package generator

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry: microseconds, 1 µs – 1 h, 3 significant digits.
const (
	histLowest  = 1
	histHighest = int64(time.Hour / time.Microsecond)
	histDigits  = 3
)

// maxExemplars is how many of the slowest requests a window keeps.
const maxExemplars = 5

// NewHistogram returns an empty latency histogram with the engine's geometry
// (µs, 1 µs – 1 h, 3 significant digits), so callers can merge windows.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// outcome is what one request (or failed iteration start) left behind.
type outcome struct {
	us     int64 // latency in µs; < 0 when no request was sent
	bytes  int64
	status int
	class  class
	trace  [16]byte
	at     int64 // unix nanoseconds the latency is measured from
}

// exemplar is one slow request kept for a window.
type exemplar struct {
	name   int // request name index
	trace  [16]byte
	us     int64
	status int
	class  class
	at     int64
}

// exemplars keeps the slowest maxExemplars requests offered to it.
type exemplars struct {
	n   int
	min int // index of the fastest kept entry once full
	e   [maxExemplars]exemplar
}

func (x *exemplars) offer(e exemplar) {
	if x.n < maxExemplars {
		x.e[x.n] = e
		x.n++
		if x.n == maxExemplars {
			x.findMin()
		}
		return
	}
	if e.us <= x.e[x.min].us {
		return
	}
	x.e[x.min] = e
	x.findMin()
}

func (x *exemplars) findMin() {
	x.min = 0
	for i := 1; i < x.n; i++ {
		if x.e[i].us < x.e[x.min].us {
			x.min = i
		}
	}
}

// tally accumulates one request name's outcomes for one window.
type tally struct {
	hist     *hdrhistogram.Histogram // nil until the first latency
	requests int64
	errors   int64
	bytes    int64
	classes  [numClasses]int64
	ex       exemplars
}

func (t *tally) add(name int, o *outcome) {
	t.requests++
	t.bytes += o.bytes
	if o.class != classNone {
		t.errors++
		t.classes[o.class]++
	}
	if o.us < 0 {
		return
	}
	if t.hist == nil {
		t.hist = NewHistogram()
	}
	_ = t.hist.RecordValue(clampMicros(o.us))
	if t.ex.n < maxExemplars || o.us > t.ex.e[t.ex.min].us {
		t.ex.offer(exemplar{name: name, trace: o.trace, us: o.us, status: o.status, class: o.class, at: o.at})
	}
}

// merge adds o into t.
func (t *tally) merge(o *tally) {
	t.requests += o.requests
	t.errors += o.errors
	t.bytes += o.bytes
	for i := range o.classes {
		t.classes[i] += o.classes[i]
	}
	if o.hist != nil && o.hist.TotalCount() > 0 {
		if t.hist == nil {
			t.hist = NewHistogram()
		}
		t.hist.Merge(o.hist)
	}
	for i := 0; i < o.ex.n; i++ {
		t.ex.offer(o.ex.e[i])
	}
}

// reset empties t, keeping its histogram for reuse.
func (t *tally) reset() {
	if t.hist != nil && t.hist.TotalCount() > 0 {
		t.hist.Reset()
	}
	h := t.hist
	*t = tally{hist: h}
}

// empty reports whether nothing was recorded.
func (t *tally) empty() bool { return t.requests == 0 }

func clampMicros(us int64) int64 {
	switch {
	case us < histLowest:
		return histLowest
	case us > histHighest:
		return histHighest
	}
	return us
}

// shard is the recording point of a group of virtual users. Its lock is
// taken once per request by the users of this shard only, and once per
// second by the collector, which swaps the live tallies for the spare ones.
type shard struct {
	mu    sync.Mutex
	cur   []tally // per request name, live
	spare []tally // per request name, being harvested by the collector

	inFlight   atomic.Int64
	busy       atomic.Int64 // virtual users inside an iteration, think time included
	iterations atomic.Int64
	_          [64]byte // keep shards on separate cache lines
}

func newShard(names int) *shard {
	return &shard{cur: make([]tally, names), spare: make([]tally, names)}
}

// record adds one outcome under request name index name.
func (s *shard) record(name int, o *outcome) {
	s.mu.Lock()
	s.cur[name].add(name, o)
	s.mu.Unlock()
}

// swap closes the live window: it returns the tallies recorded since the
// previous swap. The caller must reset them before the next swap.
func (s *shard) swap() []tally {
	s.mu.Lock()
	s.cur, s.spare = s.spare, s.cur
	s.mu.Unlock()
	return s.spare
}
