package pipeline

import (
	"context"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/soak"
)

// PhaseSoak is the phase in which a soak's trends are judged, after its load.
const PhaseSoak = "soak"

// PhaseSpike is the phase in which a spike's recovery is judged, after its load.
const PhaseSpike = "spike"

// soaking is a soak in progress: the load it holds and Headroom's own
// memory sampled while it runs. nil when the plan has no soak: section.
type soaking struct {
	load     plan.Load
	from, to time.Duration // the hold, from the run's start
	target   float64
	self     *soak.SelfSampler
}

// startSoak returns the soak's load and starts sampling Headroom's own
// memory, or nil without a soak.
func startSoak(p *plan.Plan) *soaking {
	if p.Soak.Duration <= 0 {
		return nil
	}
	l, from, to, target := p.SoakLoad()
	every := max(time.Second, p.Soak.Duration/600)
	return &soaking{load: l, from: from, to: to, target: target, self: soak.SampleSelf(every)}
}

// finish stops the sampling and judges the hold (less its warm-up).
// With noMetrics (Settings.NoCorrelate) it reads nothing from Prometheus.
func (s *soaking) finish(ctx context.Context, p *plan.Plan, res *generator.Result, noMetrics bool) *soak.Result {
	mem, heap := s.self.Stop()
	// A cancelled soak is still worth judging up to where it got.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CorrelateTimeout)
	defer cancel()
	from := res.Start.Add(s.from + time.Duration(p.Soak.Warmup*float64(s.to-s.from)))
	to := res.Start.Add(s.to)
	if res.End.Before(to) {
		to = res.End
	}
	prom := p.Observe.Prometheus
	if noMetrics {
		prom = ""
	}
	out := soak.Analyze(ctx, soak.Input{
		Prometheus:  prom,
		Selector:    p.Observe.Selector,
		Overrides:   p.Observe.Signals,
		From:        from,
		To:          to,
		Target:      s.target,
		Seconds:     res.Seconds,
		Self:        mem,
		SelfHeap:    heap,
		SelfKept:    keptPerHour(res),
		MemoryLimit: p.Soak.MemoryLimit,
	})
	return &out
}

// keptPerHour estimates how fast the run's result grows in memory: the
// per-second windows (their encoded histograms and about 256 bytes of
// fields per record and per name) over the run's length, bytes per hour.
func keptPerHour(res *generator.Result) float64 {
	hours := res.End.Sub(res.Start).Hours()
	if hours <= 0 {
		return 0
	}
	var b float64
	for _, s := range res.Seconds {
		b += float64(len(s.HDR) + 256*(1+len(s.ByName)))
		for _, n := range s.ByName {
			b += float64(len(n.HDR))
		}
	}
	return b / hours
}
