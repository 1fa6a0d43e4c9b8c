package capacity

import (
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Options tune a search or a study. A zero field takes the plan's
// capacity (or abort) setting, and when the plan leaves it unset the
// default in its comment.
type Options struct {
	URL          string        // where load goes; "" = target.base_url
	BaselineRate float64       // capacity.start_rate; default 10/s
	From         float64       // first rate after the baseline; default 2 × BaselineRate
	Growth       float64       // factor between rates until one is unacceptable; default 2
	StepDuration time.Duration // capacity.step_duration; default 30s
	Warmup       float64       // capacity.warmup, fraction of a step; default 0.2
	Precision    float64       // capacity.precision, bracket width / low end; default 0.05
	Cooldown     time.Duration // capacity.cooldown; default 10s; negative disables
	MaxRate      float64       // abort.max_rate; 0 = no cap
	MaxSteps     int           // steps per search at most; default 40
	MaxVUs       int           // load.max_vus, to tell a slow SUT from a slow generator
	Phase        Phase         // names a search's steps (e.g. PhaseVerify); default explore/search

	// Study only.
	VerifyURL      string        // capacity.verify_url; "" skips verification
	Instances      int           // capacity.instances; default 3
	StressFactor   float64       // capacity.stress_factor; default 1.5
	StressHold     time.Duration // how long the stress rate is held; default StepDuration
	RecoveryWindow time.Duration // how long recovery is watched; default 60s
	SkipStress     bool          // leave out stress and recovery
	AutoscaleAt    float64       // capacity.autoscale_at; default 0.65
	RequiredRPS    float64       // capacity.required_rps; 0 = none
	CPU            CPUGauge      // CPU at a rate, from Prometheus; nil = not reported

	// Progress, when set, is told about each step as it starts and ends.
	Progress func(Event)
}

// Event is progress of a search.
type Event struct {
	Phase   Phase    `json:"phase"`
	Step    int      `json:"step"`              // 1-based index of the step
	Rate    float64  `json:"rate"`              // iterations/s
	Low     float64  `json:"low"`               // highest acceptable rate so far
	High    float64  `json:"high"`              // lowest unacceptable rate so far; 0 = none yet
	Verdict Verdict  `json:"verdict,omitempty"` // "" when the step starts
	Reasons []string `json:"reasons,omitempty"`
	// Result is the finished step as the study records it, on the event
	// that ends a search step; nil otherwise (starts, cool-downs, stress).
	Result *Step `json:"-"`
}

// Defaults for settings the plan leaves unset.
const (
	DefaultStartRate    = 10.0
	DefaultStepDuration = 30 * time.Second
	DefaultWarmup       = 0.2
	DefaultPrecision    = 0.05
	DefaultCooldown     = 10 * time.Second
	DefaultInstances    = 3
	DefaultStressFactor = 1.5
	DefaultAutoscaleAt  = 0.65
	defaultGrowth       = 2.0
	defaultMaxSteps     = 40
	defaultRecovery     = 60 * time.Second
)

// withDefaults fills zero fields from p and then from the defaults.
func (o Options) withDefaults(p *plan.Plan) Options {
	c := plan.Capacity{}
	if p != nil {
		c = p.Capacity
		o.URL = pick(o.URL, p.Target.BaseURL)
		o.MaxRate = pickF(o.MaxRate, p.Abort.MaxRate)
		o.MaxVUs = pickI(o.MaxVUs, p.Load.MaxVUs)
		o.VerifyURL = pick(o.VerifyURL, c.VerifyURL)
		o.RequiredRPS = pickF(o.RequiredRPS, c.RequiredRPS)
	}
	o.BaselineRate = pickF(o.BaselineRate, c.StartRate, DefaultStartRate)
	o.From = pickF(o.From, 2*o.BaselineRate)
	o.Growth = pickF(o.Growth, defaultGrowth)
	o.StepDuration = pickD(o.StepDuration, c.StepDuration, DefaultStepDuration)
	o.Warmup = pickF(o.Warmup, c.Warmup, DefaultWarmup)
	o.Precision = pickF(o.Precision, c.Precision, DefaultPrecision)
	o.Cooldown = pickD(o.Cooldown, c.Cooldown, DefaultCooldown)
	o.MaxSteps = pickI(o.MaxSteps, defaultMaxSteps)
	o.Instances = pickI(o.Instances, c.Instances, DefaultInstances)
	o.StressFactor = pickF(o.StressFactor, c.StressFactor, DefaultStressFactor)
	o.StressHold = pickD(o.StressHold, o.StepDuration)
	o.RecoveryWindow = pickD(o.RecoveryWindow, defaultRecovery)
	o.AutoscaleAt = pickF(o.AutoscaleAt, c.AutoscaleAt, DefaultAutoscaleAt)
	return o
}

// validate reports the first setting a search cannot work with, as a
// *plan.Error naming the setting (file is the plan's path).
func (o Options) validate(file string) error {
	bad := func(field, format string, args ...any) error {
		return &plan.Error{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case o.BaselineRate <= 0:
		return bad("capacity.start_rate", "%g is not a positive rate", o.BaselineRate)
	case o.From <= 0:
		return bad("capacity", "first rate %g is not positive", o.From)
	case o.Growth <= 1:
		return bad("capacity", "growth factor %g must be above 1", o.Growth)
	case o.StepDuration < time.Second:
		return bad("capacity.step_duration", "%s is shorter than 1s", o.StepDuration)
	case o.Warmup < 0 || o.Warmup >= 1:
		return bad("capacity.warmup", "%g is not a fraction in [0, 1)", o.Warmup)
	case o.Precision <= 0 || o.Precision >= 1:
		return bad("capacity.precision", "%g is not a fraction in (0, 1)", o.Precision)
	case o.MaxRate < 0:
		return bad("abort.max_rate", "%g is negative", o.MaxRate)
	case o.Instances < 1:
		return bad("capacity.instances", "%d is below 1", o.Instances)
	case o.StressFactor < 1:
		return bad("capacity.stress_factor", "%g is below 1", o.StressFactor)
	case o.AutoscaleAt <= 0 || o.AutoscaleAt > 1:
		return bad("capacity.autoscale_at", "%g is not a fraction in (0, 1]", o.AutoscaleAt)
	}
	return nil
}

func pick(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func pickF(vs ...float64) float64 {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

func pickI(vs ...int) int {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}

func pickD(vs ...time.Duration) time.Duration {
	for _, v := range vs {
		if v != 0 {
			return v
		}
	}
	return 0
}
