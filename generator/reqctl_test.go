package generator

import (
	"context"
	"testing"
	"time"
)

// cancelledWithin polls until ctx is done or d has passed.
func cancelledWithin(ctx context.Context, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return ctx.Err() != nil
}

func TestAShortTimeoutAfterALongOneFiresAtItsOwnDeadline(t *testing.T) {
	base := time.Now()
	c := newReqCtl(t.Context(), base)
	defer c.release()
	c.begin(time.Since(base), time.Hour) // sets the timer an hour out
	if c.end() {
		t.Fatal("an hour-long timeout fired at once")
	}
	c.begin(time.Since(base), 20*time.Millisecond)
	if !cancelledWithin(c.ctx, 10*time.Second) {
		t.Fatal("a 20 ms timeout set after an hour-long one did not fire within 10 s")
	}
	if !c.end() {
		t.Error("end does not report the timeout that cancelled the context")
	}
}

func TestATimeoutFiresOnlyForARequestStillRunning(t *testing.T) {
	base := time.Now()
	c := newReqCtl(t.Context(), base)
	defer c.release()
	c.begin(time.Since(base), 5*time.Millisecond)
	if c.end() {
		t.Fatal("a 5 ms timeout fired at once")
	}
	// The timer is still set; once it has fired it finds no request and stops.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		armed := c.armed
		c.mu.Unlock()
		if armed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the timer never fired and stopped")
		}
		time.Sleep(time.Millisecond)
	}
	if c.ctx.Err() != nil {
		t.Fatal("the context was cancelled after its request had ended")
	}
	// A later request with a long timeout runs on the same context.
	c.begin(time.Since(base), time.Hour)
	if c.end() || c.ctx.Err() != nil {
		t.Error("a fresh request on the stopped timer timed out")
	}
}

func TestAUserBusyWithRequestsKeepsItsTimerSetOnce(t *testing.T) {
	// Back-to-back requests far shorter than their timeout leave the timer
	// where the first one set it: no request moves it.
	base := time.Now()
	c := newReqCtl(t.Context(), base)
	defer c.release()
	c.begin(time.Since(base), time.Hour)
	c.end()
	c.mu.Lock()
	first := c.armed
	c.mu.Unlock()
	for range 100 {
		c.begin(time.Since(base), time.Hour)
		if c.end() {
			t.Fatal("an hour-long timeout fired")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed != first {
		t.Errorf("timer moved from %v to %v by requests that ended in time", first, c.armed)
	}
}
