package capacity

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// NewProber returns a Prober that runs each probe as one generator run of
// p's journeys in the open model, the holds as constant-rate stages.
// warn receives the generator's one-time warnings; nil writes them to
// standard error.
func NewProber(p *plan.Plan, warn func(string)) Prober {
	return generatorProber{plan: p, warn: warn}
}

// ProberHooks are the callbacks of a Prober made by NewProberWith; nil
// ones are skipped.
type ProberHooks struct {
	// Warn receives the generator's one-time warnings; nil writes them to
	// standard error.
	Warn func(msg string)
	// OnSecond receives every closed second of every probe, warm-up and
	// seconds after an early stop included, in order, from one goroutine
	// at a time. As with generator.Options.OnSecond, it must not keep the
	// Second's histogram pointers past the call (generator.Record copies them).
	OnSecond func(generator.Second)
	// Engine sends each probe's load; nil is generator.Run on this
	// machine (a fleet of agents passes its own).
	Engine func(ctx context.Context, p *plan.Plan, opts generator.Options) (*generator.Result, error)
}

// NewProberWith is NewProber with hooks: the one a caller uses to see
// each second a study sends.
func NewProberWith(p *plan.Plan, h ProberHooks) Prober {
	return generatorProber{plan: p, warn: h.Warn, onSecond: h.OnSecond, engine: h.Engine}
}

// generatorProber adapts generator.Run to Prober.
type generatorProber struct {
	plan     *plan.Plan
	warn     func(string)
	onSecond func(generator.Second)
	engine   func(ctx context.Context, p *plan.Plan, opts generator.Options) (*generator.Result, error)
}

// jump is how long the step from one hold's rate to the next takes.
const jump = time.Millisecond

// Probe runs p with the generator and summarises its seconds after the
// warm-up. Seconds after Watch asked to stop are left out.
func (g generatorProber) Probe(ctx context.Context, p Probe) (Summary, error) {
	if len(p.Holds) == 0 {
		return Summary{}, errors.New("probe: no holds")
	}
	load := plan.Load{Model: "open", MaxVUs: g.plan.Load.MaxVUs, Start: p.Holds[0].Rate}
	for i, h := range p.Holds {
		d := h.Duration
		if i > 0 && d > jump {
			load.Stages = append(load.Stages, plan.Stage{Duration: jump, Target: h.Rate})
			d -= jump
		}
		load.Stages = append(load.Stages, plan.Stage{Duration: d, Target: h.Rate})
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	acc := newAccumulator(p.Warmup, p.Duration())
	run := g.engine
	if run == nil {
		run = generator.Run
	}
	res, err := run(runCtx, g.plan, generator.Options{
		BaseURL: p.URL,
		Load:    &load,
		Warn:    g.warn,
		OnSecond: func(s generator.Second) {
			if g.onSecond != nil {
				g.onSecond(s)
			}
			if acc.stopped {
				return
			}
			t := acc.add(s)
			if t.Elapsed <= acc.profile && p.Watch != nil && !p.Watch(t) {
				acc.stopped = true
				stop()
			}
		},
	})
	if err != nil {
		return Summary{}, err
	}
	sum := acc.summary()
	sum.Elapsed = res.End.Sub(res.Start)
	sum.Sent = res.Summary.Requests
	sum.Aborted = res.Aborted
	if ctx.Err() != nil {
		return sum, ctx.Err()
	}
	return sum, nil
}

// accumulator folds generator seconds into a Summary: those after the
// warm-up, and apart those of the warm-up, which stand in for the measured
// part when the step was stopped before its warm-up ended.
type accumulator struct {
	warmup, profile time.Duration
	start           time.Time
	warm, meas      part
	stopped         bool
}

// part is the totals of a run of windows.
type part struct {
	hist     *hdrhistogram.Histogram
	sum      Summary
	inFlight float64
	busy     float64
	loadSecs float64 // seconds inside the load profile
}

func newAccumulator(warmup, profile time.Duration) *accumulator {
	return &accumulator{warmup: warmup, profile: profile,
		warm: part{hist: generator.NewHistogram()}, meas: part{hist: generator.NewHistogram()}}
}

// add takes one window (a second; the last one 0.25–1.25 s) and returns it
// as a Tick; totals are weighted by the window's length. Seconds that start at or
// after the warm-up count, the drain after the profile included (its
// requests were started during the step).
func (a *accumulator) add(s generator.Second) Tick {
	if a.start.IsZero() {
		a.start = s.Start
	}
	offset := s.Start.Sub(a.start)
	length := s.Duration
	if length <= 0 { // a Second made by hand: one second long
		length = time.Second
	}
	t := Tick{
		Elapsed:  offset + length,
		Offered:  s.Offered,
		Achieved: float64(s.Iterations) / length.Seconds(),
		Requests: s.Total.Requests,
		Errors:   s.Total.Errors,
		Dropped:  s.Dropped,
		InFlight: s.InFlight,
		Busy:     s.Busy,
		Latency:  Latency(s.Total.Latency),
	}
	if offset < a.warmup {
		a.warm.add(s, length, true)
	} else {
		a.meas.add(s, length, offset < a.profile)
	}
	return t
}

func (p *part) add(s generator.Second, length time.Duration, inProfile bool) {
	secs := length.Seconds()
	if p.sum.Start.IsZero() {
		p.sum.Start = s.Start
	}
	p.sum.End = s.Start.Add(length)
	p.sum.Exemplars = slowest(p.sum.Exemplars, s.Total.Exemplars, maxExemplars)
	p.sum.Requests += s.Total.Requests
	p.sum.Errors += s.Total.Errors
	if s.Total.Hist != nil {
		p.hist.Merge(s.Total.Hist)
	}
	if inProfile {
		p.loadSecs += secs
		p.sum.Offered += s.Offered * secs
		p.sum.Iterations += s.Iterations
		p.sum.Dropped += s.Dropped
		p.inFlight += s.InFlight * secs
		p.busy += s.Busy * secs
	}
}

// summary divides the totals of the measured part by its seconds. A step
// stopped before its warm-up ended is summarised over its warm-up
// instead (WarmupOnly), so that what stopped it is still evidence.
func (a *accumulator) summary() Summary {
	p := a.meas
	warmOnly := a.stopped && p.loadSecs == 0 && a.warm.loadSecs > 0
	if warmOnly {
		p = a.warm
	}
	s := p.summary()
	s.Stopped = a.stopped
	s.WarmupOnly = warmOnly
	return s
}

func (p part) summary() Summary {
	s := p.sum
	n := p.loadSecs
	if n == 0 {
		return s
	}
	s.Seconds = n
	s.Offered /= n
	s.Achieved = float64(s.Iterations) / n
	s.Throughput = float64(s.Requests) / n
	s.Goodput = float64(s.Requests-s.Errors) / n
	s.InFlight = p.inFlight / n
	s.Busy = p.busy / n
	s.Hist = p.hist
	s.Latency = Latency(generator.LatencyOf(p.hist))
	return s
}

// maxExemplars is how many of a step's slowest requests it keeps.
const maxExemplars = 10

// slowest merges more into kept and keeps the n slowest, slowest first.
func slowest(kept, more []generator.Exemplar, n int) []generator.Exemplar {
	for _, e := range more {
		if e.TraceID == "" {
			continue
		}
		kept = append(kept, e)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].LatencyMs > kept[j].LatencyMs })
	if len(kept) > n {
		kept = kept[:n]
	}
	return kept
}
