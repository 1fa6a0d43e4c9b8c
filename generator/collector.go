package generator

import (
	"time"
)

// sampleEvery is how often the collector samples in-flight requests.
const sampleEvery = 10 * time.Millisecond

// collector closes the per-second windows: it harvests the shards, hands
// each Second to OnSecond, keeps its compact record, merges it into the
// run's totals and checks the abort rules. It is the one owner of all the
// window state.
type collector struct {
	e       *engine
	win     []tally // per name, the open window
	total   tally   // all names, the open window
	overall []tally // per name, the whole run
	all     tally   // all names, the whole run
	seconds []SecondRecord
	abort   *abortRules
	aborted string

	winStart           time.Time
	inFlight           float64
	samples            int
	users              int // virtual users at the last sample (≤ 10 ms before a window closes)
	iterBase, dropBase int64
	stop               chan struct{}
	done               chan *Result
}

func newCollector(e *engine) *collector {
	n := len(e.names)
	c := &collector{
		e:       e,
		win:     make([]tally, n),
		overall: make([]tally, n),
		abort:   newAbortRules(e.plan.Abort),
		stop:    make(chan struct{}),
		done:    make(chan *Result, 1),
	}
	c.total.hist = NewHistogram()
	c.all.hist = NewHistogram()
	return c
}

// loop runs until finish is called; it then closes the last partial window
// and delivers the Result on c.done.
func (c *collector) loop() {
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	c.winStart = c.e.start
	for {
		select {
		case now := <-tick.C:
			for !now.Before(c.winStart.Add(time.Second)) {
				c.closeWindow(c.winStart.Add(time.Second))
			}
			c.sample()
		case <-c.stop:
			end := time.Now()
			c.sample()
			for !end.Before(c.winStart.Add(time.Second)) {
				c.closeWindow(c.winStart.Add(time.Second))
			}
			if end.After(c.winStart) {
				c.closeWindow(end)
			}
			c.done <- c.result(end)
			return
		}
	}
}

// finish stops the loop and returns the run's Result.
func (c *collector) finish() *Result {
	close(c.stop)
	return <-c.done
}

func (c *collector) sample() {
	var n int64
	for _, s := range c.e.shards {
		n += s.inFlight.Load()
	}
	c.inFlight += float64(n)
	c.samples++
	c.users = int(c.e.users.Load())
}

// closeWindow harvests the shards into the window [c.winStart, end).
func (c *collector) closeWindow(end time.Time) {
	e := c.e
	var iters int64
	for _, s := range e.shards {
		t := s.swap()
		for i := range t {
			if !t[i].empty() {
				c.win[i].merge(&t[i])
				t[i].reset()
			}
		}
		iters += s.iterations.Load()
	}
	dropped := e.dropped.Load()
	c.total.reset()
	for i := range c.win {
		c.total.merge(&c.win[i])
	}
	a, b := c.winStart.Sub(e.start).Seconds(), end.Sub(e.start).Seconds()
	sec := Second{
		Start:      c.winStart,
		Total:      c.total.window("", e.names),
		Offered:    e.prof.mean(a, b),
		Iterations: iters - c.iterBase,
		Dropped:    dropped - c.dropBase,
		VUs:        c.users,
	}
	if c.samples > 0 {
		sec.InFlight = c.inFlight / float64(c.samples)
	}
	for i := range c.win {
		if !c.win[i].empty() {
			sec.ByName = append(sec.ByName, c.win[i].window(e.names[i], e.names))
		}
	}
	if e.opts.OnSecond != nil {
		e.opts.OnSecond(sec)
	}
	c.seconds = append(c.seconds, record(sec))
	for i := range c.win {
		if !c.win[i].empty() {
			c.overall[i].merge(&c.win[i])
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
	for i := range c.win {
		c.win[i].reset()
	}
	c.winStart = end
	c.iterBase, c.dropBase = iters, dropped
	c.inFlight, c.samples = 0, 0
}

// result assembles the Result of the run that ended at end.
func (c *collector) result(end time.Time) *Result {
	e := c.e
	d := end.Sub(e.start)
	r := &Result{
		Start:   e.start,
		End:     end,
		Seconds: c.seconds,
		Aborted: c.aborted,
		Hist:    c.all.hist,
	}
	r.Summary = summarize("", &c.all, d)
	for _, s := range c.seconds {
		r.Summary.Iterations += s.Iterations
		r.Summary.DroppedIterations += s.Dropped
	}
	for i := range c.overall {
		if !c.overall[i].empty() {
			r.ByName = append(r.ByName, summarize(e.names[i], &c.overall[i], d))
		}
	}
	return r
}
