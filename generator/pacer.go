package generator

import (
	"context"
	"sync/atomic"
	"time"
)

// pacer keeps the closed model under abort.max_rate: all virtual users
// together start at most rate iterations a second. It hands out start times
// one interval apart in the order users ask for them, so every user gets
// its turn, and it keeps no credit for idle time, so a pause is never
// followed by a burst.
type pacer struct {
	rate     float64
	interval int64 // ns between two starts
	base     time.Time
	next     atomic.Int64 // ns after base: the earliest free start
	delayed  atomic.Int64 // starts that had to wait for their turn
}

// newPacer paces starts to rate a second, counting time from base.
func newPacer(rate float64, base time.Time) *pacer {
	return &pacer{rate: rate, interval: int64(float64(time.Second) / rate), base: base}
}

// wait blocks until the caller's turn to start an iteration, on the
// caller's own (stopped or fired) timer t, and returns true; it returns
// false when ctx ends first.
func (p *pacer) wait(ctx context.Context, t *time.Timer) bool {
	now := int64(time.Since(p.base))
	at := p.claim(now)
	if at <= now {
		return true
	}
	p.delayed.Add(1)
	t.Reset(time.Duration(at - now))
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// claim takes the earliest free start at or after now (ns after base) and
// returns it; the next caller's turn is one interval later.
func (p *pacer) claim(now int64) int64 {
	for {
		next := p.next.Load()
		at := max(next, now)
		if p.next.CompareAndSwap(next, at+p.interval) {
			return at
		}
	}
}
