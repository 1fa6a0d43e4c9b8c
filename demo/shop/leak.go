package shop

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// maxLeaked bounds what the leak knob keeps in all: past it the shop stops
// keeping more (and says so in shop_leaked_bytes levelling off), so a typo
// cannot take the machine down.
const maxLeaked = 2 << 30

// maxLeak bounds the leak knob per request.
const maxLeak = 16 << 20

// leaker keeps n bytes per request forever, as a leak does: the memory is
// written (so it is resident, not only reserved) and stays reachable.
type leaker struct {
	mu     sync.Mutex
	chunks [][]byte
	total  int64
}

// keep allocates n bytes, touches every page and keeps them; it returns how
// many bytes it kept (0 once maxLeaked is reached).
func (l *leaker) keep(n int) int {
	if n <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total+int64(n) > maxLeaked {
		return 0
	}
	b := make([]byte, n)
	for i := 0; i < n; i += 512 {
		b[i] = byte(i>>9) | 1
	}
	l.chunks = append(l.chunks, b)
	l.total += int64(n)
	return n
}

// kept is the number of bytes kept so far.
func (l *leaker) kept() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// serviceTime waits d (or until ctx ends) in a span "service time": work
// that takes time but no CPU, such as a slow dependency.
func serviceTime(ctx context.Context, tracer trace.Tracer, d time.Duration) {
	_, span := tracer.Start(ctx, "service time")
	defer span.End()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
