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

// recommend sets the autoscaling threshold and instance counts. Their
// basis is the single-instance unacceptable point, or, when verification
// measured sub-linear scaling, the per-instance rate the fleet measured.
func (s *Study) recommend(ctx context.Context, p *plan.Plan, o Options) {
	b := basis{rps: s.Capacity.UnacceptableRPS, name: "unacceptable point", kind: BasisUnacceptable}
	if b.rps == 0 {
		b = basis{rps: s.Capacity.SingleInstanceRPS, name: "capacity lower bound", kind: BasisCapacity}
		s.Notes = append(s.Notes, "no unacceptable point was found: the autoscaling threshold is a fraction of the capacity's lower bound")
	}
	if fb, ok := s.fleetBasis(); ok && fb.rps < b.rps {
		s.Notes = append(s.Notes, fmt.Sprintf("the instance counts use the per-instance rate measured at %d instances (%s req/s), not the single-instance %s req/s: verification measured %.0f%% of linear scaling, and at more instances the per-instance rate may be lower still",
			s.Prediction.Instances, num(fb.rps), num(b.rps), *s.Prediction.Ratio*100))
		b = fb
	}
	r, err := recommend(b, o.AutoscaleAt, p.Business)
	if err != nil {
		s.Notes = append(s.Notes, "recommendation: "+err.Error())
		return
	}
	if g, ok := o.CPU.(StepCPUGauge); ok {
		if cpu, err := g.CPUFromSteps(ctx, s.Steps, r.AutoscaleRPS); err != nil {
			s.Notes = append(s.Notes, "CPU at the autoscaling threshold: "+err.Error())
		} else {
			r.CPU, r.CPUCores = &cpu.Fraction, cpu.Cores
			if cpu.Note != "" {
				s.Notes = append(s.Notes, "CPU at the autoscaling threshold: "+cpu.Note)
			}
		}
	} else if o.CPU != nil {
		if cpu, err := o.CPU.CPUAt(ctx, r.AutoscaleRPS); err != nil {
			s.Notes = append(s.Notes, "CPU at the autoscaling threshold: "+err.Error())
		} else {
			r.CPU = &cpu
		}
	}
	s.Recommendation = r
}

// fleetBasis is the per-instance rate the verification measured, when it
// measured sub-linear scaling (and was not itself cut short): the fleet's
// unacceptable point ÷ N, or without one its capacity ÷ N.
func (s *Study) fleetBasis() (basis, bool) {
	pr := s.Prediction
	if pr.Ratio == nil || pr.MeasuredRPS == nil || pr.AtLeast || pr.Instances <= 0 || *pr.Ratio >= 1-scalingTolerance {
		return basis{}, false
	}
	fleet, what, src := pr.UnacceptableRPS, "unacceptable point", pr.UnacceptableSource
	if fleet == 0 {
		fleet, what, src = *pr.MeasuredRPS, "capacity", pr.MeasuredSource
	}
	if fleet <= 0 {
		return basis{}, false
	}
	n := float64(pr.Instances)
	b := basis{rps: fleet / n, kind: BasisFleet, name: fmt.Sprintf("per-instance rate at %d instances", pr.Instances)}
	b.derivation = fmt.Sprintf("per-instance rate at %d instances = the fleet's %s (%s) ÷ instances = %s ÷ %d = %s req/s (verification measured %.0f%% of linear scaling)",
		pr.Instances, what, src, num(fleet), pr.Instances, num(b.rps), *pr.Ratio*100)
	return b, true
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

	// Basis says what BasisRPS is: the single-instance unacceptable point,
	// the capacity's lower bound, or the per-instance rate a fleet measured.
	Basis BasisKind `json:"basis,omitempty"`
}

// BasisKind names what an autoscaling threshold is a fraction of.
type BasisKind string

// The bases of a recommendation.
const (
	BasisUnacceptable BasisKind = "unacceptable_point" // single instance, measured
	BasisCapacity     BasisKind = "capacity"           // single instance, no unacceptable point found
	BasisFleet        BasisKind = "fleet_per_instance" // verification's figure ÷ its instances (sub-linear scaling)
)

// basis is the rate a recommendation is a fraction of, and how it was found.
type basis struct {
	rps        float64
	kind       BasisKind
	name       string // in the arithmetic: "unacceptable point"
	derivation string // an arithmetic line before the threshold's; "" when none
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
	return recommend(basis{rps: basisRPS, kind: BasisUnacceptable, name: "unacceptable point"}, autoscaleAt, b)
}

// recommend is Recommend on a basis that says what it is.
func recommend(bs basis, autoscaleAt float64, b plan.Business) (Recommendation, error) {
	basisRPS := bs.rps
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

	r := Recommendation{AutoscaleAt: autoscaleAt, BasisRPS: basisRPS, Basis: bs.kind}
	r.AutoscaleRPS = autoscaleAt * basisRPS
	r.SustainedRPS = b.ActiveUsers * b.RequestsPerUserPerMinute / 60
	r.PeakRPS = r.SustainedRPS * peakFactor * launch
	need := ceil(r.SustainedRPS / r.AutoscaleRPS)
	r.MinInstances = max(ha, need)
	burst := ceil(2 * r.PeakRPS / r.AutoscaleRPS)
	r.MaxInstances = max(2*r.MinInstances, burst)
	r.Arithmetic = []string{
		fmt.Sprintf("autoscale threshold = autoscale_at × %s = %s × %s req/s = %s req/s per instance",
			bs.name, num(autoscaleAt), num(basisRPS), num(r.AutoscaleRPS)),
		fmt.Sprintf("sustained = active_users × requests_per_user_per_minute ÷ 60 = %s × %s ÷ 60 = %s req/s",
			num(b.ActiveUsers), num(b.RequestsPerUserPerMinute), num(r.SustainedRPS)),
		fmt.Sprintf("peak = sustained × peak_factor × launch_multiplier = %s × %s × %s = %s req/s",
			num(r.SustainedRPS), num(peakFactor), num(launch), num(r.PeakRPS)),
		fmt.Sprintf("min instances = max(ha_min_instances, ⌈sustained ÷ threshold⌉) = max(%d, ⌈%s ÷ %s⌉) = max(%d, %d) = %d",
			ha, num(r.SustainedRPS), num(r.AutoscaleRPS), ha, need, r.MinInstances),
		fmt.Sprintf("max instances = max(2 × min, ⌈2 × peak ÷ threshold⌉) = max(2 × %d, ⌈2 × %s ÷ %s⌉) = max(%d, %d) = %d",
			r.MinInstances, num(r.PeakRPS), num(r.AutoscaleRPS), 2*r.MinInstances, burst, r.MaxInstances),
	}
	if bs.derivation != "" {
		r.Arithmetic = append([]string{bs.derivation}, r.Arithmetic...)
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
