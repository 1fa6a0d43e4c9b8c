package capacity

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// SpikeProfile is a spike's load: Baseline for Before, a jump to Peak in
// Ramp, Peak for Hold, back to Baseline in Ramp, Baseline for After.
type SpikeProfile struct {
	Baseline float64       `json:"baseline"`
	Peak     float64       `json:"peak"`
	Before   time.Duration `json:"before_ns"`
	Ramp     time.Duration `json:"ramp_ns"`
	Hold     time.Duration `json:"hold_ns"`
	After    time.Duration `json:"after_ns"`
}

// NewSpikeProfile is the plan's spike: section as a profile. The baseline
// defaults to the load's first target above zero (load.start, then the
// stages), else capacity.start_rate.
func NewSpikeProfile(p *plan.Plan) SpikeProfile {
	s := p.Spike
	base := s.Baseline
	if base <= 0 {
		base = p.Load.Start
	}
	for _, st := range p.Load.Stages {
		if base > 0 {
			break
		}
		base = st.Target
	}
	if base <= 0 {
		base = max(p.Capacity.StartRate, 1)
	}
	return SpikeProfile{Baseline: base, Peak: base * s.Factor, Before: s.Before, Ramp: s.Ramp, Hold: s.Hold, After: s.After}
}

// Load is the profile as a load for the generator (the plan's model).
func (sp SpikeProfile) Load(model plan.Model, maxVUs int) plan.Load {
	return plan.Load{Model: model, MaxVUs: maxVUs, Start: sp.Baseline, Stages: []plan.Stage{
		{Duration: sp.Before, Target: sp.Baseline},
		{Duration: sp.Ramp, Target: sp.Peak},
		{Duration: sp.Hold, Target: sp.Peak},
		{Duration: sp.Ramp, Target: sp.Baseline},
		{Duration: sp.After, Target: sp.Baseline},
	}}
}

// Spike is a spike's outcome.
type Spike struct {
	Profile     SpikeProfile `json:"profile"`
	BaselineP99 float64      `json:"baseline_p99_ms"`     // over the seconds before the jump
	WorstP99    float64      `json:"worst_second_p99_ms"` // the slowest second from the jump to the drop's end
	Requests    int64        `json:"requests"`            // from the jump to the drop's end
	Errors      int64        `json:"errors"`
	ErrorRate   float64      `json:"error_rate"`
	Throughput  float64      `json:"throughput_rps"` // requests/s during the hold
	Criterion   string       `json:"criterion"`      // what a good second is
	Recovered   bool         `json:"recovered"`
	// RecoveryS is the seconds from the end of the drop back to the
	// baseline to the first of RecoverySeconds good seconds in a row; 0
	// when it never left; nil when it did not recover.
	RecoveryS *int           `json:"recovery_s"`
	LastMiss  string         `json:"last_miss,omitempty"`
	Scaling   *ScaleReaction `json:"autoscaler,omitempty"`
	Verdict   string         `json:"verdict"` // "recovered" or "did not recover"
	Statement string         `json:"statement"`
}

// JudgeSpike judges a run of the profile that started at start: errors
// and p99 during the spike, how long until every SLO was back after it
// (as Stress does: RecoverySeconds good seconds in a row), and, with
// replicas, the autoscaler's reaction.
func JudgeSpike(ctx context.Context, p *plan.Plan, sp SpikeProfile, start time.Time, secs []generator.SecondRecord, replicas Replicas) Spike {
	out := Spike{Profile: sp}
	jumpAt := start.Add(sp.Before)
	dropEnd := jumpAt.Add(2*sp.Ramp + sp.Hold)
	holdFrom, holdTo := jumpAt.Add(sp.Ramp), jumpAt.Add(sp.Ramp+sp.Hold)
	j := newJudge(objectivesOf(p), 0)
	var baseReqs, baseErrs, holdReqs int64
	var baseP99s []float64
	holdSecs := 0
	for _, s := range secs {
		switch {
		case s.Start.Before(jumpAt):
			// the first seconds of the baseline may still be warming up: skip them
			if s.Start.Sub(start) >= sp.Before/5 {
				baseReqs += s.Requests
				baseErrs += s.Errors
				if s.Requests > 0 {
					baseP99s = append(baseP99s, s.Latency.P99)
				}
			}
		case s.Start.Before(dropEnd):
			out.Requests += s.Requests
			out.Errors += s.Errors
			out.WorstP99 = math.Max(out.WorstP99, s.Latency.P99)
			if !s.Start.Before(holdFrom) && s.Start.Before(holdTo) {
				holdReqs += s.Requests
				holdSecs++
			}
		}
	}
	out.BaselineP99 = medianOf(baseP99s)
	if out.BaselineP99 > 0 {
		j.baseline = &reference{P99: out.BaselineP99, ErrorRate: ratio(baseErrs, baseReqs)}
	}
	out.Criterion = j.criterion()
	out.ErrorRate = ratio(out.Errors, out.Requests)
	if holdSecs > 0 {
		out.Throughput = float64(holdReqs) / float64(holdSecs)
	}
	streak, streakStart := 0, 0
	for _, s := range secs {
		if s.Start.Before(dropEnd) {
			continue
		}
		after := int(s.Start.Sub(dropEnd) / time.Second)
		if ok, why := j.withinSLOs(tickOf(s)); !ok {
			streak, out.LastMiss = 0, fmt.Sprintf("%ds after the drop: %s", after, why)
			continue
		}
		if streak == 0 {
			streakStart = after
		}
		streak++
		if streak >= RecoverySeconds {
			out.Recovered = true
			out.RecoveryS = &streakStart
			break
		}
	}
	if replicas != nil {
		samples, err := replicas.Replicas(ctx, start, dropEnd.Add(sp.After))
		r := reaction(samples, jumpAt)
		if err != nil {
			r.Note = "autoscaler not available: " + err.Error()
		}
		out.Scaling = &r
	}
	out.Verdict = "did not recover"
	if out.Recovered {
		out.Verdict = "recovered"
	}
	out.Statement = spikeStatement(out)
	return out
}

func spikeStatement(s Spike) string {
	sp := s.Profile
	head := fmt.Sprintf("from %.4g to %.4g it/s in %s, held %s: worst second p99 %.1fms (baseline %.1fms), %d errors of %d requests (%.2f%%)",
		sp.Baseline, sp.Peak, sp.Ramp, sp.Hold, s.WorstP99, s.BaselineP99, s.Errors, s.Requests, s.ErrorRate*100)
	var tail string
	if s.Recovered {
		tail = fmt.Sprintf("; %s %ds after the drop, held %d seconds", s.Criterion, *s.RecoveryS, RecoverySeconds)
	} else {
		tail = fmt.Sprintf("; did not recover within %s after the drop (%s for %d seconds)", sp.After, s.Criterion, RecoverySeconds)
		if s.LastMiss != "" {
			tail += "; last second not back: " + s.LastMiss
		}
	}
	if r := s.Scaling; r != nil {
		switch {
		case r.Note != "" && len(r.Samples) == 0:
			tail += "; " + r.Note
		case r.DecidedS == nil:
			tail += fmt.Sprintf("; the autoscaler did not react (%.0f serving)", r.Before)
		default:
			tail += fmt.Sprintf("; the autoscaler decided after %.0fs", *r.DecidedS)
			if r.ServingS != nil {
				tail += fmt.Sprintf(", new capacity served after %.0fs", *r.ServingS)
			}
			tail += fmt.Sprintf(" (%.0f → %.0f serving)", r.Before, r.Most)
		}
	}
	return head + tail
}

// tickOf is a recorded second as a Tick.
func tickOf(s generator.SecondRecord) Tick {
	l := s.Latency
	return Tick{Offered: s.Offered, Requests: s.Requests, Errors: s.Errors, Dropped: s.Dropped, InFlight: s.InFlight,
		Latency: Latency{P50: l.P50, P90: l.P90, P95: l.P95, P99: l.P99, Max: l.Max, Mean: l.Mean}}
}

// medianOf is the median of vs (0 for none).
func medianOf(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	c := append([]float64(nil), vs...)
	sort.Float64s(c)
	if n := len(c); n%2 == 1 {
		return c[n/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
