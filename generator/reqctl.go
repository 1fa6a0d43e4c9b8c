package generator

import (
	"context"
	"sync"
	"time"
)

// reqCtl is the context of a user's requests with a reusable timeout: its
// timer cancels the context when a request runs over its timeout, after
// which the user takes a fresh reqCtl.
//
// A request does not reset the timer. The timer stays set for the deadline
// of an earlier request while that is no later than the current one's; when
// it fires it finds the current deadline and sets itself again for it, or,
// with no request running, stops. So a user busy with short requests moves
// the timer about once per timeout, not twice per request, and a request
// is still cut off at its own deadline.
type reqCtl struct {
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	base   time.Time // deadlines are durations since base

	mu       sync.Mutex
	due      time.Duration // the running request's deadline; 0: none
	armed    time.Duration // when the timer fires; 0: it is stopped
	timedOut bool
}

func newReqCtl(parent context.Context, base time.Time) *reqCtl {
	c := &reqCtl{base: base}
	c.ctx, c.cancel = context.WithCancel(parent)
	c.timer = time.AfterFunc(time.Hour, c.fire)
	c.timer.Stop()
	return c
}

// begin starts a request at now (since base) that may take timeout.
func (c *reqCtl) begin(now, timeout time.Duration) {
	c.mu.Lock()
	c.due = max(now+timeout, 1)
	if c.armed == 0 || c.armed > c.due {
		c.armed = c.due
		c.timer.Reset(timeout)
	}
	c.mu.Unlock()
}

// end ends the request and reports whether it ran over its timeout (the
// context is then cancelled, or about to be).
func (c *reqCtl) end() (timedOut bool) {
	c.mu.Lock()
	c.due = 0
	timedOut = c.timedOut
	c.mu.Unlock()
	return timedOut
}

// fire is the timer's: it cancels the context when the running request is
// past its deadline, and otherwise sets the timer for that deadline.
func (c *reqCtl) fire() {
	c.mu.Lock()
	if c.due == 0 || c.timedOut {
		c.armed = 0
		c.mu.Unlock()
		return
	}
	if left := c.due - time.Since(c.base); left > 0 {
		c.armed = c.due
		c.timer.Reset(left)
		c.mu.Unlock()
		return
	}
	c.timedOut, c.armed = true, 0
	c.mu.Unlock()
	c.cancel()
}

// release stops the timer and cancels the context.
func (c *reqCtl) release() {
	c.timer.Stop()
	c.cancel()
}
