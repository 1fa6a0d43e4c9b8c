package generator

import (
	"fmt"
	"time"
)

// sampleEvery is how often the collector samples in-flight requests.
const sampleEvery = 10 * time.Millisecond

// minWindow is the shortest last window a run ends with: a final partial
// window shorter than this is merged into the one before it, so a run never
// ends on a sliver of a few milliseconds with almost no requests in it.
// Every other window lasts one second.
const minWindow = 250 * time.Millisecond

// collector closes the per-second windows: it harvests the shards, hands
// each Second to OnSecond, keeps its compact record, merges it into the
// run's totals and checks the abort rules. It is the one owner of all the
// window state.
//
// A closed window is held back for minWindow before it is delivered: if the
// run ends meanwhile, the short remainder joins it instead of becoming a
// window of its own.
type collector struct {
	e       *engine
	open    *span // the window being recorded
	held    *span // the last closed window, not yet delivered
	spare   *span // nil while held is set
	total   tally // all names, the window being delivered
	overall []tally
	all     tally
	seconds []SecondRecord
	abort   *abortRules
	aborted string
	capped  bool // the closed model ran at abort.max_rate

	users              int // virtual users at the last sample
	iterBase, dropBase int64
	delayBase          int64
	stop               chan struct{}
	done               chan *Result
}

func newCollector(e *engine) *collector {
	n := len(e.names)
	c := &collector{
		e:       e,
		open:    newSpan(n),
		spare:   newSpan(n),
		overall: make([]tally, n),
		abort:   newAbortRules(e.plan.Abort),
		stop:    make(chan struct{}),
		done:    make(chan *Result, 1),
	}
	c.open.reuse(e.start)
	c.total.hist = NewHistogram()
	c.all.hist = NewHistogram()
	return c
}

// loop runs until finish is called; it then closes the last partial window
// and delivers the Result on c.done.
func (c *collector) loop() {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			c.tick(now)
		case <-c.stop:
			c.done <- c.end(time.Now())
			return
		}
	}
}

// finish stops the loop and returns the run's Result.
func (c *collector) finish() *Result {
	close(c.stop)
	return <-c.done
}

// tick delivers the held window once minWindow has passed since it closed,
// closes every whole second up to now and samples the in-flight requests.
func (c *collector) tick(now time.Time) {
	if c.held != nil && now.Sub(c.held.end) >= minWindow {
		c.deliverHeld()
	}
	for !now.Before(c.open.start.Add(time.Second)) {
		c.close(c.open.start.Add(time.Second))
	}
	c.sample()
}

// end closes the run at end: the whole seconds left, then the partial
// window, merged into the held one when shorter than minWindow; it returns
// the run's Result.
func (c *collector) end(end time.Time) *Result {
	c.sample()
	for !end.Before(c.open.start.Add(time.Second)) {
		c.close(c.open.start.Add(time.Second))
	}
	if end.After(c.open.start) {
		if c.held != nil && end.Sub(c.open.start) < minWindow {
			c.harvest(c.open, end)
			c.held.absorb(c.open)
		} else {
			c.close(end)
		}
	}
	if c.held != nil {
		c.deliverHeld()
	}
	return c.result(end)
}

func (c *collector) sample() {
	var n, busy int64
	for _, s := range c.e.shards {
		n += s.inFlight.Load()
		busy += s.busy.Load()
	}
	c.open.inFlight += float64(n)
	c.open.busy += float64(busy)
	c.open.samples++
	c.users = int(c.e.users.Load())
}

// close ends the open window at end and holds it; the window held before
// it, if any, is delivered first.
func (c *collector) close(end time.Time) {
	c.harvest(c.open, end)
	if c.held != nil {
		c.deliverHeld()
	}
	c.held, c.open, c.spare = c.open, c.spare, nil
	c.open.reuse(end)
}

// harvest moves what the shards recorded since the last harvest into sp,
// which then ends at end.
func (c *collector) harvest(sp *span, end time.Time) {
	e := c.e
	var iters int64
	for _, s := range e.shards {
		t := s.swap()
		for i := range t {
			if !t[i].empty() {
				sp.names[i].merge(&t[i])
				t[i].reset()
			}
		}
		iters += s.iterations.Load()
	}
	for i := range sp.names {
		if n := e.cutoffs[i].Swap(0); n > 0 {
			sp.names[i].classes[classCancelled] += n
		}
	}
	dropped := e.dropped.Load()
	sp.end = end
	sp.iterations += iters - c.iterBase
	sp.dropped += dropped - c.dropBase
	sp.users = c.users
	c.iterBase, c.dropBase = iters, dropped
}

// deliverHeld delivers the held window and keeps its span for reuse.
func (c *collector) deliverHeld() {
	c.deliver(c.held)
	c.held, c.spare = nil, c.held
}

// deliver turns sp into a Second: OnSecond, its record, the run's totals
// and the abort rules.
func (c *collector) deliver(sp *span) {
	e := c.e
	c.total.reset()
	for i := range sp.names {
		c.total.merge(&sp.names[i])
	}
	a, b := sp.start.Sub(e.start).Seconds(), sp.end.Sub(e.start).Seconds()
	sec := Second{
		Start:      sp.start,
		Duration:   sp.duration(),
		Total:      c.total.window("", e.names),
		Offered:    e.prof.mean(a, b) / float64(e.opts.Split.of()),
		Iterations: sp.iterations,
		Dropped:    sp.dropped,
		VUs:        sp.users,
	}
	if sp.samples > 0 {
		sec.InFlight = sp.inFlight / float64(sp.samples)
		sec.Busy = sp.busy / float64(sp.samples)
	}
	for i := range sp.names {
		if recorded(&sp.names[i]) {
			sec.ByName = append(sec.ByName, sp.names[i].window(e.names[i], e.names))
		}
	}
	if e.opts.OnSecond != nil {
		e.opts.OnSecond(sec)
	}
	c.seconds = append(c.seconds, record(sec))
	for i := range sp.names {
		if recorded(&sp.names[i]) {
			c.overall[i].merge(&sp.names[i])
		}
	}
	c.all.merge(&c.total)
	c.all.ex = exemplars{} // the run's totals keep no exemplars
	if c.abort != nil && c.aborted == "" {
		if why := c.abort.observe(&c.total); why != "" {
			c.aborted = why
			e.stopRequests()
		}
	}
	c.checkPace(sec)
}

// checkPace notes, and warns once, when the closed model's users ran at
// abort.max_rate: the pacer held some of them back and the window started
// iterations at (nearly) the cap.
func (c *collector) checkPace(sec Second) {
	p := c.e.pace
	if p == nil || c.capped {
		return
	}
	delayed := p.delayed.Load()
	held := delayed > c.delayBase
	c.delayBase = delayed
	if held && sec.IterationRate() >= 0.95*p.rate {
		c.capped = true
		msg := fmt.Sprintf("the virtual users would start more iterations than abort.max_rate %g/s; their starts are paced to at most %g/s", p.rate, p.rate)
		if sp := c.e.opts.Split; sp.of() > 1 {
			msg = fmt.Sprintf("this agent's virtual users would start more iterations than their share of abort.max_rate (%.4g/s of %g/s: %d of the fleet's %.0f users); their starts are paced to at most %.4g/s",
				p.rate, c.e.plan.Abort.MaxRate, c.e.maxUsers(), c.e.prof.peak(), p.rate)
		}
		c.e.warn("max_rate", msg)
	}
}

// result assembles the Result of the run that ended at end.
func (c *collector) result(end time.Time) *Result {
	e := c.e
	d := end.Sub(e.start)
	r := &Result{
		Start:    e.start,
		End:      end,
		Seconds:  c.seconds,
		Aborted:  c.aborted,
		CappedAt: e.cappedAt,
		Hist:     c.all.hist,
	}
	if c.capped {
		r.CappedAt = e.pace.rate
	}
	r.Summary = summarize("", &c.all, d)
	for _, s := range c.seconds {
		r.Summary.Iterations += s.Iterations
		r.Summary.DroppedIterations += s.Dropped
	}
	for i := range c.overall {
		if recorded(&c.overall[i]) {
			r.ByName = append(r.ByName, summarize(e.names[i], &c.overall[i], d))
		}
	}
	return r
}
