package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"

	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
)

// silence is how long the order stream may carry nothing (the server pings
// every pingEvery) before the agent counts it broken.
const silence = 3 * pingEvery

// orders reads the server's orders, reopening the stream when it breaks,
// until the agent has run its jobs (nil) or the server is gone.
func (a *client) orders(ctx context.Context) error {
	lastOK := time.Now()
	wait := 100 * time.Millisecond
	for {
		done, err := a.stream(ctx)
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if connect.CodeOf(err) == connect.CodeNotFound || connect.CodeOf(err) == connect.CodeUnauthenticated ||
			connect.CodeOf(err) == connect.CodePermissionDenied {
			return err
		}
		if err == nil {
			lastOK, wait = time.Now(), 100*time.Millisecond
		}
		if time.Since(lastOK) > a.cfg.GiveUp {
			return fmt.Errorf("order stream: %w: %v", ErrServerGone, err)
		}
		a.log.Warn("order stream broken: reconnecting", "agent", a.id, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// stream opens the order stream once and follows it; done is true when the
// agent has run its jobs. err is nil when the stream ended after it had
// delivered something (a reconnect is worth it at once).
func (a *client) stream(ctx context.Context) (done bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := a.rpc.Assignments(sctx, connect.NewRequest(&agentv1.AssignmentsRequest{AgentId: a.id}))
	if err != nil {
		return false, err
	}
	defer st.Close()
	alive := make(chan struct{}, 1)
	go func() { // a silent stream is a broken one
		t := time.NewTimer(silence)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-alive:
				t.Reset(silence)
			case <-t.C:
				cancel()
				return
			}
		}
	}()
	got := false
	for st.Receive() {
		got = true
		select {
		case alive <- struct{}{}:
		default:
		}
		if a.handle(ctx, st.Msg()) {
			return true, nil
		}
	}
	err = st.Err()
	if err == nil {
		err = errors.New("the server closed the order stream")
	}
	if got && connect.CodeOf(err) != connect.CodeNotFound {
		return false, nil
	}
	return false, err
}

// handle carries out one order; it returns true when the agent has run
// its jobs and its last share has ended.
func (a *client) handle(ctx context.Context, o *agentv1.Assignment) bool {
	switch x := o.GetOrder().(type) {
	case *agentv1.Assignment_Share:
		a.prepare(ctx, x.Share)
	case *agentv1.Assignment_Start:
		a.start(ctx, x.Start)
	case *agentv1.Assignment_Stop:
		a.stop(x.Stop)
	case *agentv1.Assignment_JobDone:
		a.mu.Lock()
		a.jobs++
		n := a.jobs
		a.mu.Unlock()
		a.log.Info("job ended", "job", x.JobDone.GetJobId(), "status", x.JobDone.GetStatus())
		if a.cfg.Jobs > 0 && n >= a.cfg.Jobs {
			a.stopShares()
			a.wg.Wait()
			return true
		}
	}
	return false
}

// heartbeat renews the lease every third of it until ctx ends; it returns
// ErrServerGone when the server stayed unreachable for GiveUp.
func (a *client) heartbeat(ctx context.Context) error {
	every := 1 * time.Second
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		err := a.retry(ctx, "heartbeat", func(ctx context.Context) error {
			res, err := a.rpc.Heartbeat(ctx, connect.NewRequest(&agentv1.HeartbeatRequest{AgentId: a.id}))
			if err == nil && res.Msg.GetLeaseMs() > 0 {
				if d := time.Duration(res.Msg.GetLeaseMs()) * time.Millisecond / 3; d != every && d > 0 {
					every = d
					t.Reset(every)
				}
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
}
