package generator

import (
	"math"
	"sync/atomic"
	"time"
)

// controlEvery is how often the closed model adjusts its virtual users.
const controlEvery = 50 * time.Millisecond

// runClosed is the closed model: the profile's target is a number of
// virtual users, each looping over journeys (with think time). Users start
// as the target rises and stop at an iteration boundary when it falls.
func (e *engine) runClosed() {
	type slot struct {
		v       *vu
		running atomic.Bool
	}
	var slots []*slot
	exhausted := false
	tick := time.NewTicker(controlEvery)
	defer tick.Stop()
	for !e.stopped() { // a tick may win the select after the load ended: start no one then
		n := e.opts.Split.users(int(math.Round(e.prof.at(time.Since(e.start).Seconds()))))
		e.target.Store(int64(n))
		for i := 0; i < n; i++ {
			if i == len(slots) {
				if exhausted {
					break
				}
				v, ok := e.newVU(i)
				if !ok {
					exhausted = true
					r := newRNG()
					e.dataExhausted(&r)
					break
				}
				slots = append(slots, &slot{v: v})
			}
			if s := slots[i]; s.running.CompareAndSwap(false, true) {
				e.wg.Add(1)
				go s.v.serveClosed(&s.running)
			}
		}
		select {
		case <-tick.C:
		case <-e.loadCtx.Done():
			return
		}
	}
}

// serveClosed loops over iterations while the user is within the target,
// each started when the pacer allows (abort.max_rate). running is cleared
// last, so the controller may then start it again.
func (v *vu) serveClosed(running *atomic.Bool) {
	e := v.e
	if !v.within() { // started as the load ended: it never ran, so it does not count
		e.wg.Done()
		running.Store(false)
		return
	}
	e.users.Add(1)
	defer func() {
		if !e.stopped() { // users stopped by the end of the run still count for its last second
			e.users.Add(-1)
		}
		e.wg.Done()
		running.Store(false)
	}()
	var turn *time.Timer
	if e.pace != nil {
		turn = time.NewTimer(time.Hour)
		turn.Stop()
		defer turn.Stop()
	}
	for v.within() {
		if turn != nil && (!e.pace.wait(e.loadCtx, turn) || !v.within()) {
			return
		}
		v.iterate(time.Time{})
	}
}

// within reports whether the user should run another iteration: the load
// goes on and the target still counts this user.
func (v *vu) within() bool { return !v.e.stopped() && int64(v.id) < v.e.target.Load() }
