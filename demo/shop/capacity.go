package shop

import (
	"context"
	"errors"
)

// queueLimit bounds how many requests wait for a slot under the capacity
// knob; the next one is refused with 503 at once.
const queueLimit = 1024

// errQueueFull is returned by acquire when the wait queue is full.
var errQueueFull = errors.New("capacity queue full")

// limiter admits at most cap(slots) requests at once; up to cap(queue)
// more wait for a slot.
type limiter struct {
	slots chan struct{}
	queue chan struct{}
}

func newLimiter(k int) *limiter {
	return &limiter{slots: make(chan struct{}, k), queue: make(chan struct{}, queueLimit)}
}

// acquire waits for a slot (or ctx), reporting the time spent queued through
// onQueue(+1) and onQueue(-1). The caller must call release after a nil error.
func (l *limiter) acquire(ctx context.Context, onQueue func(delta float64)) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case l.queue <- struct{}{}:
	default:
		return errQueueFull
	}
	onQueue(1)
	defer func() {
		<-l.queue
		onQueue(-1)
	}()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limiter) release() { <-l.slots }
