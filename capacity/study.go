package capacity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Study is a whole capacity study: the explore steps, the single-instance
// capacity, Little's Law, the USL fit, the N-instance prediction and its
// verification, stress and recovery, and the recommendation.
type Study struct {
	Plan           string         `json:"plan"`
	URL            string         `json:"url"`
	Started        time.Time      `json:"started"`
	Finished       time.Time      `json:"finished"`
	Complete       bool           `json:"complete"` // every phase ran to its end
	Capacity       Bounds         `json:"capacity"`
	Steps          []Step         `json:"steps"` // single-instance search, baseline first
	LittlesLaw     LittlesLaw     `json:"littles_law"`
	USL            Scalability    `json:"usl"`
	Prediction     Prediction     `json:"prediction"`
	Stress         Recovery       `json:"stress"`
	Recommendation Recommendation `json:"recommendation"`
	LoadS          float64        `json:"load_s"`        // seconds under load, all phases
	Sent           int64          `json:"requests_sent"` // requests completed, all phases
	Notes          []string       `json:"notes,omitempty"`
}

// Bounds is the single-instance capacity in requests/s (and in the
// iterations/s the search offered).
type Bounds struct {
	SingleInstanceRPS    float64   `json:"single_instance_rps"`  // highest acceptable
	UnacceptableRPS      float64   `json:"unacceptable_rps"`     // lowest unacceptable; 0 = none found
	SingleInstanceRate   float64   `json:"single_instance_rate"` // iterations/s
	UnacceptableRate     float64   `json:"unacceptable_rate"`    // iterations/s
	RequestsPerIteration float64   `json:"requests_per_iteration"`
	AtLeast              bool      `json:"at_least,omitempty"`   // capacity is a lower bound
	LimitedBy            LimitedBy `json:"limited_by,omitempty"` // max_rate, generator, max_steps
	// RequiredRPS is capacity.required_rps; RequiredMet says whether the
	// single-instance capacity reaches it (nil when none is required).
	RequiredRPS float64 `json:"required_rps,omitempty"`
	RequiredMet *bool   `json:"required_met,omitempty"`
}

// Scalability is the USL fit as reported: its coefficients when the fit
// is good enough, or why it is refused.
type Scalability struct {
	USL
	Reported bool   `json:"reported"`
	Refused  string `json:"refused,omitempty"`
}

// Prediction is the N-instance extrapolation and, when a verify URL is
// set, the measured capacity there.
type Prediction struct {
	Instances    int      `json:"instances"`
	PredictedRPS float64  `json:"predicted_rps"`
	MeasuredRPS  *float64 `json:"measured_rps"` // nil when not verified
	Ratio        *float64 `json:"ratio"`        // measured / predicted
	AtLeast      bool     `json:"at_least,omitempty"`
	VerifyURL    string   `json:"verify_url,omitempty"`
	Steps        []Step   `json:"steps,omitempty"`
	Statement    string   `json:"statement"`
}

// Scaling off by more than this fraction is a finding to explain.
const scalingTolerance = 0.15

// Run carries out a whole study against the plan's target (or opts.URL):
// it finds the single-instance capacity, applies Little's Law and the
// USL, predicts and verifies N instances, stresses and watches recovery,
// and recommends autoscaling and instance counts. A cancelled study
// returns what it has with ctx's error.
func Run(ctx context.Context, p *plan.Plan, prober Prober, opts Options) (*Study, error) {
	if p == nil {
		return nil, errors.New("capacity: no plan")
	}
	o := opts.withDefaults(p)
	file := ""
	if p != nil {
		file = p.File
	}
	if err := o.validate(file); err != nil {
		return nil, err
	}
	s := &Study{Plan: p.Name, URL: o.URL, Started: time.Now()}
	defer func() { s.Finished = time.Now() }()

	ex, err := Find(ctx, p, prober, o)
	s.Steps, s.LoadS, s.Sent = ex.Steps, ex.LoadS, ex.Sent
	s.Notes = append(s.Notes, ex.Notes...)
	if err != nil {
		return s, err
	}
	capStep, _ := ex.At(ex.Capacity)
	rpi := requestsPerIteration(p, capStep)
	s.Capacity = Bounds{
		SingleInstanceRPS: ex.Capacity * rpi, UnacceptableRPS: ex.Unacceptable * rpi,
		SingleInstanceRate: ex.Capacity, UnacceptableRate: ex.Unacceptable,
		RequestsPerIteration: rpi, AtLeast: ex.AtLeast, LimitedBy: ex.LimitedBy,
	}
	s.checkRequired(p, o)
	if ex.Capacity == 0 {
		s.Notes = append(s.Notes, "no acceptable rate: Little's Law, USL, prediction, stress and recommendation need a capacity")
		return s, nil
	}
	s.LittlesLaw = LittleAt(capStep, ThinkPerRequest(p))
	s.USL = fitSteps(ex.Steps)

	if err := s.predict(ctx, p, prober, o); err != nil {
		return s, err
	}
	if o.SkipStress {
		s.Stress.Skipped = "skipped by option"
	} else if err := s.stress(ctx, p, prober, o, ex); err != nil {
		return s, err
	}
	s.recommend(ctx, p, o)
	s.Complete = true
	return s, nil
}

// requestsPerIteration is how many requests one iteration of p's journeys
// makes on average (weights and chances included); without journeys, the
// ratio measured at st.
func requestsPerIteration(p *plan.Plan, st Step) float64 {
	var reqs, weights float64
	for _, j := range p.Journeys {
		w := float64(max(j.Weight, 1))
		weights += w
		for _, step := range j.Steps {
			if step.Method == "" {
				continue
			}
			chance := step.Chance
			if chance <= 0 {
				chance = 1
			}
			reqs += w * chance
		}
	}
	if reqs > 0 {
		return reqs / weights
	}
	if st.Achieved <= 0 || st.Throughput <= 0 {
		return 1
	}
	return st.Throughput / st.Achieved
}

// checkRequired compares the capacity with capacity.required_rps and the
// plan's throughput objectives.
func (s *Study) checkRequired(p *plan.Plan, o Options) {
	if o.RequiredRPS > 0 {
		met := s.Capacity.SingleInstanceRPS >= o.RequiredRPS
		s.Capacity.RequiredRPS, s.Capacity.RequiredMet = o.RequiredRPS, &met
		if !met {
			s.Notes = append(s.Notes, fmt.Sprintf("capacity.required_rps %s not reached: single-instance capacity %s req/s", num(o.RequiredRPS), num(s.Capacity.SingleInstanceRPS)))
		}
	}
	for _, obj := range objectivesOf(p) {
		if obj.kind == throughputObjective {
			verdict := "meets"
			if !obj.holds(s.Capacity.SingleInstanceRPS) {
				verdict = "does not meet"
			}
			s.Notes = append(s.Notes, fmt.Sprintf("single-instance capacity %s req/s %s %s", num(s.Capacity.SingleInstanceRPS), verdict, obj.name))
		}
	}
}

// fitSteps fits the USL to the (concurrency, goodput) of the steps the SUT
// decided (not generator-limited ones).
func fitSteps(steps []Step) Scalability {
	var pts []Point
	for _, st := range steps {
		if st.Verdict == GeneratorLimited || st.Seconds < 1 {
			continue
		}
		n := st.InFlight
		if n <= 0 {
			n = st.LittlesL
		}
		pts = append(pts, Point{N: n, X: st.Goodput})
	}
	u, err := FitUSL(pts)
	if err != nil {
		return Scalability{USL: USL{Points: u.Points}, Refused: err.Error()}
	}
	return Scalability{USL: u, Reported: true}
}

// predict extrapolates to N instances and verifies at the verify URL.
func (s *Study) predict(ctx context.Context, p *plan.Plan, prober Prober, o Options) error {
	pr := &s.Prediction
	pr.Instances = o.Instances
	pr.PredictedRPS = float64(o.Instances) * s.Capacity.SingleInstanceRPS
	pr.Statement = fmt.Sprintf("%d × %s req/s = %s req/s predicted", o.Instances, num(s.Capacity.SingleInstanceRPS), num(pr.PredictedRPS))
	if o.VerifyURL == "" {
		pr.Statement += "; not verified (no capacity.verify_url)"
		return nil
	}
	vo := o
	vo.URL, vo.Phase = o.VerifyURL, PhaseVerify
	vo.From = 0.5 * float64(o.Instances) * s.Capacity.SingleInstanceRate
	vex, err := Find(ctx, p, prober, vo)
	pr.VerifyURL, pr.Steps = o.VerifyURL, vex.Steps
	s.LoadS += vex.LoadS
	s.Sent += vex.Sent
	if err != nil {
		return fmt.Errorf("verify at %s: %w", o.VerifyURL, err)
	}
	capStep, _ := vex.At(vex.Capacity)
	measured := vex.Capacity * requestsPerIteration(p, capStep)
	ratio := 0.0
	if pr.PredictedRPS > 0 {
		ratio = measured / pr.PredictedRPS
	}
	pr.MeasuredRPS, pr.Ratio, pr.AtLeast = &measured, &ratio, vex.AtLeast
	bound := ""
	if vex.AtLeast {
		bound = fmt.Sprintf(" (a lower bound: limited by %s)", vex.LimitedBy)
	}
	pr.Statement = fmt.Sprintf("%d × %s req/s = %s req/s predicted; measured %s req/s%s at %s: ratio %.2f",
		o.Instances, num(s.Capacity.SingleInstanceRPS), num(pr.PredictedRPS), num(measured), bound, o.VerifyURL, ratio)
	switch {
	case ratio < 1-scalingTolerance && !vex.AtLeast:
		s.Notes = append(s.Notes, fmt.Sprintf("scaling finding: %d instances carry %.0f%% of %d × single-instance capacity — sub-linear; look for what the instances share (database, cache, balancer, network) or a generator limit", o.Instances, ratio*100, o.Instances))
	case ratio < 1-scalingTolerance:
		s.Notes = append(s.Notes, fmt.Sprintf("scaling unverified: the verification stopped at %s before reaching the prediction (ratio %.2f)", vex.LimitedBy, ratio))
	case ratio > 1+scalingTolerance:
		s.Notes = append(s.Notes, fmt.Sprintf("scaling finding: %d instances carry %.0f%% of %d × single-instance capacity — super-linear; the single instance was likely held back by something the fleet splits (per-process pools, GC, a cache that now fits), or the single-instance measurement was pessimistic", o.Instances, ratio*100, o.Instances))
	}
	for _, n := range vex.Notes {
		s.Notes = append(s.Notes, "verify: "+n)
	}
	return nil
}

// stress pushes past the unacceptable point and watches recovery.
func (s *Study) stress(ctx context.Context, p *plan.Plan, prober Prober, o Options, ex Exploration) error {
	top := ex.Unacceptable
	if top == 0 {
		top = ex.Capacity
	}
	rate := o.StressFactor * top
	if o.MaxRate > 0 && rate > o.MaxRate {
		rate = o.MaxRate
		s.Notes = append(s.Notes, fmt.Sprintf("stress rate capped at abort.max_rate %s/s", num(o.MaxRate)))
	}
	surge := Surge{
		URL: o.URL, Rate: rate, Hold: o.StressHold.Round(time.Second),
		RecoveryRate: 0.5 * ex.Capacity, Window: o.RecoveryWindow,
	}
	for _, st := range ex.Steps { // the relative rule's reference: the first acceptable step
		if st.Verdict == Acceptable {
			surge.Baseline = st.Latency
			break
		}
	}
	if surge.Hold < time.Second {
		surge.Hold = time.Second
	}
	if surge.Window < RecoverySeconds*time.Second {
		surge.Window = RecoverySeconds * time.Second
	}
	if o.Progress != nil {
		o.Progress(Event{Phase: PhaseStress, Step: len(s.Steps) + len(s.Prediction.Steps) + 1, Rate: rate, Low: ex.Capacity, High: ex.Unacceptable})
	}
	r, err := Stress(ctx, p, prober, surge)
	s.Stress = r
	s.LoadS += r.ElapsedS
	s.Sent += r.Sent
	if err == nil && o.Progress != nil {
		o.Progress(Event{Phase: PhaseStress, Step: len(s.Steps) + len(s.Prediction.Steps) + 1, Rate: rate, Low: ex.Capacity, High: ex.Unacceptable, Verdict: Unacceptable, Reasons: []string{r.Statement}})
	}
	return err
}

// recommend sets the autoscaling threshold and instance counts.
func (s *Study) recommend(ctx context.Context, p *plan.Plan, o Options) {
	basis := s.Capacity.UnacceptableRPS
	if basis == 0 {
		basis = s.Capacity.SingleInstanceRPS
		s.Notes = append(s.Notes, "no unacceptable point was found: the autoscaling threshold is a fraction of the capacity's lower bound")
	}
	r, err := Recommend(basis, o.AutoscaleAt, p.Business)
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
