package generator

import "time"

// runOpen is the open model: iterations are due at the times the rate's
// integral says, whatever the service does. A due iteration goes to a free
// virtual user; the pool grows up to load.max_vus; with no user free the
// iteration is dropped (counted), never delayed.
func (e *engine) runOpen() {
	work := make(chan time.Time) // unbuffered: a send succeeds only to an idle user
	sch := newSchedule(e.prof, e.opts.Split)
	r := newRNG()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	spawned, exhausted := 0, false
	defer e.dropLate(sch)
	for {
		off, ok := sch.next()
		if !ok {
			return
		}
		due := e.start.Add(off)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-e.loadCtx.Done():
				// off came due before the profile's end (the schedule holds
				// nothing later), so it is dropped like the rest dropLate
				// counts; after an abort or a cancel nothing is counted.
				if e.reqCtx.Err() == nil {
					e.dropped.Add(1)
				}
				return
			}
		} else if e.stopped() {
			if e.reqCtx.Err() == nil {
				e.dropped.Add(1) // due before the end, never handed out
			}
			return
		}
		select {
		case work <- due:
			continue
		default:
		}
		switch {
		case exhausted:
			e.dataExhausted(&r)
		case spawned < e.load.MaxVUs:
			v, ok := e.newVU(spawned)
			if !ok {
				exhausted = true
				e.dataExhausted(&r)
				continue
			}
			spawned++
			e.users.Store(int64(spawned))
			e.wg.Add(1)
			go v.serveOpen(due, work)
		default: // no user free: drop it, and whatever else is already due
			e.dropped.Add(1 + sch.skipTo(time.Since(e.start)))
		}
	}
}

// dropLate counts the iterations that came due before the profile ended
// but were never handed out (the generator itself fell behind) as dropped,
// so iterations + dropped always equals the profile's integral. After an
// abort or a cancel nothing more is counted.
func (e *engine) dropLate(sch *schedule) {
	if e.reqCtx.Err() != nil {
		return
	}
	for {
		if _, ok := sch.next(); !ok {
			return
		}
		e.dropped.Add(1)
	}
}

// serveOpen runs the first iteration, then every iteration handed over on
// work, until the load stops.
func (v *vu) serveOpen(first time.Time, work <-chan time.Time) {
	defer v.e.wg.Done()
	defer v.release()
	v.iterate(first)
	for {
		select {
		case due := <-work:
			v.iterate(due)
		case <-v.e.loadCtx.Done():
			return
		}
	}
}

// dataExhausted counts an iteration that could not start because no data
// row was left for a new virtual user: an error of class data_exhausted,
// under the first request name of a journey picked by weight.
func (e *engine) dataExhausted(r *rng) {
	j := e.pick(r)
	e.shards[0].record(j.first, &outcome{us: -1, class: classDataExhausted, at: time.Now().UnixNano()})
}
