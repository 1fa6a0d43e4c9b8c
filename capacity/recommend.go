package capacity

import (
	"context"
	"fmt"
	"math"

	"github.com/headroom-sre/headroom/plan"
)

// CPUGauge reports the CPU utilisation (a fraction) an instance shows at a
// request rate; correlate will answer it from Prometheus. The study leaves
// CPU out when it has none.
type CPUGauge interface {
	CPUAt(ctx context.Context, rps float64) (float64, error)
}

// StepCPUGauge is a CPUGauge that measures the study's own steps. The
// study prefers it: it hands over its single-instance steps and records
// how many cores the fraction is of.
type StepCPUGauge interface {
	CPUFromSteps(ctx context.Context, steps []Step, rps float64) (CPUReading, error)
}

// CPUReading is the CPU utilisation an instance shows at a request rate.
type CPUReading struct {
	Fraction float64 // of Cores, or of one core when Cores is 0
	Cores    float64 // the instance's cores (GOMAXPROCS); 0 = not known
	Note     string  // how it was found, e.g. extrapolated past the steps; "" when plain
}

// Recommendation is the autoscaling threshold and instance counts.
type Recommendation struct {
	AutoscaleRPS float64  `json:"autoscale_rps"`              // per instance
	AutoscaleAt  float64  `json:"autoscale_at"`               // fraction of the unacceptable point
	BasisRPS     float64  `json:"basis_rps"`                  // the unacceptable point (or the capacity bound) it is a fraction of
	CPU          *float64 `json:"cpu_at_autoscale,omitempty"` // utilisation at AutoscaleRPS, when Prometheus is configured
	CPUCores     float64  `json:"cpu_cores,omitempty"`        // cores CPU is a fraction of; 0 = one core (count not known)
	SustainedRPS float64  `json:"sustained_rps"`
	PeakRPS      float64  `json:"peak_rps"`
	MinInstances int      `json:"min_instances"`
	MaxInstances int      `json:"max_instances"`
	Arithmetic   []string `json:"arithmetic"` // each figure with its formula and numbers
}

// Business defaults.
const (
	DefaultLaunchMultiplier = 2.0
	DefaultHAMinInstances   = 3
)

// Recommend derives the autoscaling threshold (autoscaleAt × basisRPS per
// instance) and, from the business inputs, the sustained and peak load and
// the minimum and maximum instance counts:
//
//	sustained = active_users × requests_per_user_per_minute ÷ 60
//	peak      = sustained × peak_factor × launch_multiplier
//	min       = max(ha_min_instances, ⌈sustained ÷ threshold⌉)
//	max       = max(2 × min, ⌈2 × peak ÷ threshold⌉)
//
// Unset business fields take peak_factor 1, launch_multiplier 2 and
// ha_min_instances 3.
func Recommend(basisRPS, autoscaleAt float64, b plan.Business) (Recommendation, error) {
	if basisRPS <= 0 || math.IsInf(basisRPS, 0) || math.IsNaN(basisRPS) {
		return Recommendation{}, fmt.Errorf("recommend: no capacity measured (basis %g req/s)", basisRPS)
	}
	if autoscaleAt <= 0 || autoscaleAt > 1 {
		return Recommendation{}, fmt.Errorf("capacity.autoscale_at: %g is not a fraction in (0, 1]", autoscaleAt)
	}
	if b.ActiveUsers < 0 || b.RequestsPerUserPerMinute < 0 || b.PeakFactor < 0 || b.LaunchMultiplier < 0 || b.HAMinInstances < 0 {
		return Recommendation{}, fmt.Errorf("business: values must not be negative")
	}
	peakFactor := pickF(b.PeakFactor, 1)
	launch := pickF(b.LaunchMultiplier, DefaultLaunchMultiplier)
	ha := pickI(b.HAMinInstances, DefaultHAMinInstances)

	r := Recommendation{AutoscaleAt: autoscaleAt, BasisRPS: basisRPS}
	r.AutoscaleRPS = autoscaleAt * basisRPS
	r.SustainedRPS = b.ActiveUsers * b.RequestsPerUserPerMinute / 60
	r.PeakRPS = r.SustainedRPS * peakFactor * launch
	need := ceil(r.SustainedRPS / r.AutoscaleRPS)
	r.MinInstances = max(ha, need)
	burst := ceil(2 * r.PeakRPS / r.AutoscaleRPS)
	r.MaxInstances = max(2*r.MinInstances, burst)
	r.Arithmetic = []string{
		fmt.Sprintf("autoscale threshold = autoscale_at × unacceptable point = %s × %s req/s = %s req/s per instance",
			num(autoscaleAt), num(basisRPS), num(r.AutoscaleRPS)),
		fmt.Sprintf("sustained = active_users × requests_per_user_per_minute ÷ 60 = %s × %s ÷ 60 = %s req/s",
			num(b.ActiveUsers), num(b.RequestsPerUserPerMinute), num(r.SustainedRPS)),
		fmt.Sprintf("peak = sustained × peak_factor × launch_multiplier = %s × %s × %s = %s req/s",
			num(r.SustainedRPS), num(peakFactor), num(launch), num(r.PeakRPS)),
		fmt.Sprintf("min instances = max(ha_min_instances, ⌈sustained ÷ threshold⌉) = max(%d, ⌈%s ÷ %s⌉) = max(%d, %d) = %d",
			ha, num(r.SustainedRPS), num(r.AutoscaleRPS), ha, need, r.MinInstances),
		fmt.Sprintf("max instances = max(2 × min, ⌈2 × peak ÷ threshold⌉) = max(2 × %d, ⌈2 × %s ÷ %s⌉) = max(%d, %d) = %d",
			r.MinInstances, num(r.PeakRPS), num(r.AutoscaleRPS), 2*r.MinInstances, burst, r.MaxInstances),
	}
	return r, nil
}

// ceil rounds up, ignoring float noise just above a whole number.
func ceil(x float64) int {
	return int(math.Ceil(x - 1e-9))
}

// num prints a figure with up to two decimals and no trailing zeros.
func num(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return trimDot(s)
}

func trimDot(s string) string {
	if s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}
