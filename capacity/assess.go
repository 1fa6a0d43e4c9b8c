package capacity

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// AssessInput says what Assess loads and what it checks the fleet against.
type AssessInput struct {
	URL  string  `json:"url"`  // the autoscaled fleet (capacity.assess_url)
	From float64 `json:"from"` // iterations/s to start at: the sustained load
	To   float64 `json:"to"`   // iterations/s to reach: the recommended maximum
	// Ramp is how long the climb from From to To takes; Hold how long From
	// is held before it and To after it. Defaults 2m and 30s.
	Ramp time.Duration `json:"ramp_ns"`
	Hold time.Duration `json:"hold_ns"`
	// ThresholdRPS is the autoscaling threshold per instance under test
	// (the recommendation's autoscale_rps); UnacceptableRPS the
	// per-instance rate at which the SLOs break (its basis_rps).
	ThresholdRPS    float64 `json:"autoscale_rps"`
	UnacceptableRPS float64 `json:"unacceptable_rps"`
	MaxInstances    int     `json:"max_instances"` // the recommended maximum
}

func (in AssessInput) withDefaults() AssessInput {
	if in.Ramp <= 0 {
		in.Ramp = 2 * time.Minute
	}
	if in.Hold <= 0 {
		in.Hold = 30 * time.Second
	}
	return in
}

// Crossing is one moment the load per serving instance went over the
// threshold, and when new capacity served.
type Crossing struct {
	AtS     float64  `json:"at_s"`            // seconds from the start of the assessment
	Offered float64  `json:"offered"`         // iterations/s offered then
	Serving float64  `json:"serving"`         // instances serving then
	LagS    *float64 `json:"lag_s,omitempty"` // seconds until more instances served; nil: none did
}

// Miss is one second that broke an SLO.
type Miss struct {
	AtS     float64 `json:"at_s"`
	Offered float64 `json:"offered"`
	Serving float64 `json:"serving"`
	Why     string  `json:"why"`
}

// Assessment is Assess's verdict.
type Assessment struct {
	Input        AssessInput    `json:"input"`
	Criterion    string         `json:"criterion"`
	Seconds      int            `json:"seconds"`          // seconds judged
	Held         bool           `json:"held"`             // every second within the SLOs
	Misses       []Miss         `json:"misses"`           // the seconds that were not (at most maxMisses kept)
	MissCount    int            `json:"miss_count"`       // all of them
	Crossings    []Crossing     `json:"crossings"`        // threshold crossings and their lags
	MaxLagS      float64        `json:"max_lag_s"`        // the longest lag measured
	MostServing  float64        `json:"most_serving"`     // most instances serving
	MaxInstances int            `json:"max_instances"`    // the recommended maximum
	GrowthRPS    float64        `json:"growth_rps_per_s"` // how fast the load climbed, iterations/s each second
	Scaling      *ScaleReaction `json:"autoscaler,omitempty"`
	// Corrected is the threshold the measured lag allows, when the
	// assessment failed or the lag leaves no room; nil otherwise.
	Corrected  *Correction `json:"corrected,omitempty"`
	Verdict    string      `json:"verdict"` // "passed" or "failed"
	Statement  string      `json:"statement"`
	Arithmetic []string    `json:"arithmetic"`
}

// Correction is a lowered autoscaling threshold with its reason.
type Correction struct {
	ThresholdRPS float64 `json:"autoscale_rps"`
	AutoscaleAt  float64 `json:"autoscale_at"` // of UnacceptableRPS
	Reason       string  `json:"reason"`
}

// maxMisses bounds the misses an assessment lists.
const maxMisses = 20

// Assess climbs from the sustained load to the recommended maximum
// against an autoscaled fleet and checks that it keeps its SLOs every
// second while it scales: the lag from each threshold crossing to new
// capacity serving, the most instances used, and — when the lag leaves no
// room — a lower threshold, with its arithmetic. replicas reads the
// fleet's replica counts (nil: none are known, and no lag is measured).
func Assess(ctx context.Context, p *plan.Plan, in AssessInput, replicas Replicas, opts generator.Options) (Assessment, error) {
	in = in.withDefaults()
	a := Assessment{Input: in, MaxInstances: in.MaxInstances, Misses: []Miss{}, Crossings: []Crossing{}}
	if in.From <= 0 || in.To < in.From || in.ThresholdRPS <= 0 || in.UnacceptableRPS <= 0 {
		return a, fmt.Errorf("assess: from %g to %g it/s at a threshold of %g of %g req/s per instance: rates must be positive and rise",
			in.From, in.To, in.ThresholdRPS, in.UnacceptableRPS)
	}
	load := plan.Load{Model: plan.ModelOpen, MaxVUs: p.Load.MaxVUs, Start: in.From, Stages: []plan.Stage{
		{Duration: in.Hold, Target: in.From}, {Duration: in.Ramp, Target: in.To}, {Duration: in.Hold, Target: in.To},
	}}
	opts.BaseURL, opts.Load = in.URL, &load
	res, err := generator.Run(ctx, p, opts)
	if err != nil {
		return a, err
	}
	a.GrowthRPS = (in.To - in.From) / in.Ramp.Seconds()
	var samples []ReplicaSample
	if replicas != nil {
		var rerr error
		samples, rerr = replicas.Replicas(context.WithoutCancel(ctx), res.Start.Add(-5*time.Second), res.End)
		r := reaction(samples, res.Start.Add(in.Hold))
		if rerr != nil {
			r.Note = "replicas not available: " + rerr.Error()
		}
		a.Scaling = &r
	}
	a.judge(p, res, samples)
	return a, nil
}

// judge fills the verdict from the seconds and the replica samples.
func (a *Assessment) judge(p *plan.Plan, res *generator.Result, samples []ReplicaSample) {
	in := a.Input
	j := newJudge(objectivesOf(p), 0)
	a.Criterion = j.criterion()
	servingAt := func(t time.Time) float64 {
		n := 0.0
		for _, s := range samples {
			if s.At.After(t) {
				break
			}
			n = s.Serving
		}
		return n
	}
	above := false
	for _, s := range res.Seconds {
		at := s.Start.Sub(res.Start).Seconds()
		n := servingAt(s.Start)
		a.MostServing = math.Max(a.MostServing, n)
		a.Seconds++
		if ok, why := j.withinSLOs(tickOf(s)); !ok {
			a.MissCount++
			if len(a.Misses) < maxMisses {
				a.Misses = append(a.Misses, Miss{AtS: at, Offered: s.Offered, Serving: n, Why: why})
			}
		}
		if n <= 0 {
			continue
		}
		over := s.Offered/n > in.ThresholdRPS
		if over && !above {
			c := Crossing{AtS: at, Offered: s.Offered, Serving: n}
			for _, r := range samples {
				if r.At.After(s.Start) && r.Serving > n {
					lag := r.At.Sub(s.Start).Seconds()
					c.LagS = &lag
					a.MaxLagS = math.Max(a.MaxLagS, lag)
					break
				}
			}
			a.Crossings = append(a.Crossings, c)
		}
		above = over
	}
	a.Held = a.MissCount == 0 && a.Seconds > 0
	a.Verdict = "passed"
	if !a.Held {
		a.Verdict = "failed"
	}
	a.correct()
	a.Statement = a.statement()
}

// correct works out the threshold the measured lag allows: while new
// capacity starts (the lag L), the load per instance keeps climbing by
// growth × L ÷ n on the n instances serving, so a threshold T keeps the
// SLOs only if T + growth × L ÷ n stays below the unacceptable point U.
// The highest safe threshold is U − growth × L ÷ n, taken at the first
// crossing's n (the fewest instances, the steepest climb per instance).
func (a *Assessment) correct() {
	in := a.Input
	var first *Crossing
	for i := range a.Crossings {
		if a.Crossings[i].LagS != nil {
			first = &a.Crossings[i]
			break
		}
	}
	a.Arithmetic = append(a.Arithmetic, fmt.Sprintf("load climbed %s → %s it/s over %s: %.2f it/s each second",
		num(in.From), num(in.To), in.Ramp, a.GrowthRPS))
	if first == nil {
		if !a.Held {
			safe := in.ThresholdRPS * 0.8
			a.Corrected = &Correction{ThresholdRPS: safe, AutoscaleAt: safe / in.UnacceptableRPS,
				Reason: fmt.Sprintf("SLOs broke and no lag could be measured (no new instance served): lowered by a fifth, %s × 0.8 = %s req/s", num(in.ThresholdRPS), num(safe))}
		}
		return
	}
	lag := *first.LagS
	climb := a.GrowthRPS * lag / first.Serving
	safe := in.UnacceptableRPS - climb
	a.Arithmetic = append(a.Arithmetic,
		fmt.Sprintf("threshold crossed at %.0fs (%s it/s on %.0f serving); new capacity served %.0fs later", first.AtS, num(first.Offered), first.Serving, lag),
		fmt.Sprintf("climb per instance while waiting = growth × lag ÷ serving = %.2f × %.0f ÷ %.0f = %s req/s", a.GrowthRPS, lag, first.Serving, num(climb)),
		fmt.Sprintf("highest safe threshold = unacceptable point − climb = %s − %s = %s req/s per instance (%.0f%% of %s); in use: %s (%.0f%%)",
			num(in.UnacceptableRPS), num(climb), num(safe), 100*safe/in.UnacceptableRPS, num(in.UnacceptableRPS),
			num(in.ThresholdRPS), 100*in.ThresholdRPS/in.UnacceptableRPS))
	if in.ThresholdRPS <= safe && a.Held {
		return
	}
	if safe >= in.ThresholdRPS { // the SLOs broke for another reason: still lower it
		safe = in.ThresholdRPS * 0.8
	}
	if safe <= 0 {
		a.Corrected = &Correction{Reason: fmt.Sprintf("no threshold is early enough: the load climbs %s req/s per instance while new capacity starts, more than the unacceptable point; raise the minimum instances", num(climb))}
		return
	}
	a.Corrected = &Correction{ThresholdRPS: safe, AutoscaleAt: safe / in.UnacceptableRPS,
		Reason: fmt.Sprintf("scale at %s req/s per instance (autoscale_at %.0f%%) instead of %s: new capacity takes %.0fs to serve, in which the load per instance climbs %s req/s",
			num(safe), 100*safe/in.UnacceptableRPS, num(in.ThresholdRPS), lag, num(climb))}
}

func (a *Assessment) statement() string {
	in := a.Input
	out := fmt.Sprintf("from %s to %s it/s against the fleet scaling at %s req/s per instance: ", num(in.From), num(in.To), num(in.ThresholdRPS))
	if a.Held {
		out += fmt.Sprintf("SLOs held every second (%d)", a.Seconds)
	} else {
		out += fmt.Sprintf("SLOs broke in %d of %d seconds", a.MissCount, a.Seconds)
		if len(a.Misses) > 0 {
			m := a.Misses[0]
			out += fmt.Sprintf(", first at %.0fs (%s it/s on %.0f serving: %s)", m.AtS, num(m.Offered), m.Serving, m.Why)
		}
	}
	if a.MaxLagS > 0 {
		out += fmt.Sprintf("; threshold crossing to new capacity serving: %.0fs at most", a.MaxLagS)
	}
	out += fmt.Sprintf("; most instances serving %.0f of the recommended %d", a.MostServing, a.MaxInstances)
	if c := a.Corrected; c != nil {
		out += "; " + c.Reason
	}
	return out
}
