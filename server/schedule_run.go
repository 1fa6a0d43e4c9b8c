package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// cronParser reads the five standard fields, an optional leading seconds
// field ("*/5 * * * * *") and descriptors ("@hourly", "@every 10s").
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron parses a schedule's cron expression; errors are errInvalid. Its
// runs may not come closer than minGap ("@every 1ns" is refused).
func parseCron(expr string, minGap time.Duration) (cron.Schedule, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, fmt.Errorf("%w: cron is required (e.g. \"0 2 * * *\", \"@every 10m\")", errInvalid)
	}
	cs, err := cronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("%w: cron %q: %v", errInvalid, expr, err)
	}
	// The closest two runs come: a seconds field or a short @every shows
	// within the first runs after any instant.
	prev := cs.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := 0; i < 64 && !prev.IsZero(); i++ {
		next := cs.Next(prev)
		if gap := next.Sub(prev); !next.IsZero() && gap < minGap {
			return nil, fmt.Errorf("%w: cron %q runs %s apart; this server allows one run per %s at most", errInvalid, expr, gap, minGap)
		}
		prev = next
	}
	return cs, nil
}

// scheduler starts the readiness reviews of due schedules. Its state is
// this struct: one loop, one goroutine per review under way.
//
// Every server on a store runs one; a due run is claimed in the store
// (ClaimScheduleRun), so exactly one of them starts it. A schedule that came
// due while no server was up runs once when one starts (not once per missed
// time), and its next run is computed from then.
type scheduler struct {
	d     deps
	allow plan.HostList // webhook destinations
	link  string        // base of the links in webhooks
	wake  chan struct{}
	wg    sync.WaitGroup

	client  *http.Client
	retries int           // webhook attempts in all
	backoff time.Duration // first wait between attempts; doubles each time
	maxWait time.Duration // longest wait between attempts

	mu      sync.Mutex
	running map[int64]bool // schedules whose review is under way here
	warned  map[int64]bool // schedules without a next run, logged once
}

func newScheduler(d deps, cfg Config) (*scheduler, error) {
	allow, err := webhookList(cfg)
	if err != nil {
		return nil, err
	}
	return &scheduler{
		d: d, allow: allow, link: strings.TrimSuffix(cfg.PublicURL, "/"),
		wake: make(chan struct{}, 1),
		client: &http.Client{
			Timeout: 10 * time.Second,
			// A redirect could lead outside the allow-list: it is an answer, not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		retries: 5, backoff: time.Second, maxWait: 30 * time.Second,
		running: map[int64]bool{}, warned: map[int64]bool{},
	}, nil
}

// poke makes the loop look at the schedules now.
func (sc *scheduler) poke() {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

// start runs the loop until ctx ends; the channel closes once the loop and
// every review it started have returned.
func (sc *scheduler) start(ctx context.Context, addr net.Addr) <-chan struct{} {
	if sc.link == "" && addr != nil {
		sc.link = "http://" + addr.String()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc.loop(ctx)
		sc.wg.Wait()
	}()
	return done
}

func (sc *scheduler) loop(ctx context.Context) {
	t := time.NewTicker(sc.d.poll)
	defer t.Stop()
	for {
		sc.due(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-sc.wake:
		case <-t.C:
		}
	}
}

// due starts a review of every enabled schedule due at now that this
// server wins the claim of.
func (sc *scheduler) due(ctx context.Context, now time.Time) {
	scs, err := sc.d.st.ListSchedules(ctx)
	if err != nil {
		if ctx.Err() == nil {
			sc.d.log.Error("list schedules", "err", err)
		}
		return
	}
	for _, s := range scs {
		if !s.Enabled {
			continue
		}
		cs, err := cronParser.Parse(s.Cron)
		if err != nil {
			sc.d.log.Warn("schedule with a bad cron expression skipped", "schedule", s.ID, "cron", s.Cron, "err", err)
			continue
		}
		if s.NextRun == nil {
			// The API always sets it; a row written otherwise is not
			// rewritten here, where a stale copy could undo a concurrent PUT.
			sc.mu.Lock()
			if !sc.warned[s.ID] {
				sc.warned[s.ID] = true
				sc.d.log.Warn("schedule without a next run skipped: update it through the API", "schedule", s.ID)
			}
			sc.mu.Unlock()
			continue
		}
		if s.NextRun.After(now) {
			continue
		}
		won, err := sc.d.st.ClaimScheduleRun(ctx, s.ID, *s.NextRun, now, cs.Next(now))
		if err != nil {
			if ctx.Err() == nil {
				sc.d.log.Error("claim a schedule's run", "schedule", s.ID, "err", err)
			}
			continue
		}
		if !won {
			continue // another server took it, or it changed meanwhile
		}
		if late := now.Sub(*s.NextRun); late > time.Minute {
			sc.d.log.Warn("schedule came due while no server ran it: running it once now", "schedule", s.ID,
				"due", s.NextRun.Format(time.RFC3339), "late", late.Round(time.Second).String())
		}
		sc.mu.Lock()
		busy := sc.running[s.ID]
		if !busy {
			sc.running[s.ID] = true
		}
		sc.mu.Unlock()
		if busy {
			sc.d.log.Warn("schedule skipped: its previous review is still under way", "schedule", s.ID)
			continue
		}
		sc.wg.Add(1)
		go func(s store.Schedule) {
			defer sc.wg.Done()
			defer func() {
				sc.mu.Lock()
				delete(sc.running, s.ID)
				sc.mu.Unlock()
			}()
			sc.review(ctx, s)
		}(s)
	}
}
