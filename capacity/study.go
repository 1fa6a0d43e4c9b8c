package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// Bounds is the single-instance capacity in requests/s, as the steps
// measured it (and in the iterations/s the search offered).
type Bounds struct {
	SingleInstanceRPS    float64   `json:"single_instance_rps"`  // highest acceptable step's measured throughput
	UnacceptableRPS      float64   `json:"unacceptable_rps"`     // lowest unacceptable step's measured throughput; 0 = none found
	SingleInstanceRate   float64   `json:"single_instance_rate"` // iterations/s
	UnacceptableRate     float64   `json:"unacceptable_rate"`    // iterations/s
	RequestsPerIteration float64   `json:"requests_per_iteration"`
	AtLeast              bool      `json:"at_least,omitempty"`   // capacity is a lower bound
	LimitedBy            LimitedBy `json:"limited_by,omitempty"` // max_rate, generator, max_steps
	// RequiredRPS is capacity.required_rps; RequiredMet says whether the
	// single-instance capacity reaches it (nil when none is required).
	RequiredRPS float64 `json:"required_rps,omitempty"`
	RequiredMet *bool   `json:"required_met,omitempty"`

	// Where SingleInstanceRPS and UnacceptableRPS come from: Measured, or
	// Converted (iterations/s × requests per iteration) when their step
	// measured no throughput (stopped within its warm-up).
	SingleInstanceSource Source `json:"single_instance_source,omitempty"`
	UnacceptableSource   Source `json:"unacceptable_source,omitempty"`
	// CappedAtUnacceptable says the unacceptable step completed fewer
	// requests/s than the capacity step (throughput fell under overload),
	// so SingleInstanceRPS is the unacceptable point's: a capacity is never
	// above the unacceptable point.
	CappedAtUnacceptable bool `json:"capped_at_unacceptable,omitempty"`
}

// Source says where a figure in requests/s comes from.
type Source string

// The sources of a figure.
const (
	// Measured: the throughput a step measured (requests completed per
	// measured second).
	Measured Source = "measured"
	// Converted: a step's offered iterations/s × the plan's requests per
	// iteration, used when the step measured nothing, or (the unacceptable
	// point) when it completed no more requests/s than the capacity step.
	Converted Source = "converted"
)

// rpsOf is the measured throughput of st, or when it measured none its
// rate converted at rpi requests per iteration.
func rpsOf(st Step, rpi float64) (float64, Source) {
	if st.Seconds >= 1 && st.Throughput > 0 {
		return st.Throughput, Measured
	}
	return st.Rate * rpi, Converted
}

// Scalability is the USL fit as reported: its coefficients when the fit
// is good enough, or why it is refused. Only steady steps are points
// (see Steadiness); Excluded says which were left out and why.
type Scalability struct {
	USL
	Reported bool   `json:"reported"`
	Refused  string `json:"refused,omitempty"`

	Excluded []string `json:"excluded,omitempty"` // "step 7 at 640/s: stopped early"
	// MaxMeasuredN is the highest concurrency among the points: a peak
	// beyond it is Extrapolated.
	MaxMeasuredN float64 `json:"max_measured_concurrency,omitempty"`
	Extrapolated bool    `json:"extrapolated,omitempty"` // the peak (or ceiling) lies beyond the measured range
	// AboveUnacceptable says the peak (or ceiling) is above the measured
	// unacceptable point: the SLOs break before it, so it is no capacity.
	AboveUnacceptable bool     `json:"above_unacceptable,omitempty"`
	Caveats           []string `json:"caveats,omitempty"`
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

	// MeasuredSource says where MeasuredRPS comes from.
	MeasuredSource Source `json:"measured_source,omitempty"`
	// UnacceptableRPS is the fleet's lowest unacceptable step's throughput
	// (0 = none found), from UnacceptableSource.
	UnacceptableRPS    float64 `json:"unacceptable_rps,omitempty"`
	UnacceptableSource Source  `json:"unacceptable_source,omitempty"`
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
		SingleInstanceRate: ex.Capacity, UnacceptableRate: ex.Unacceptable,
		RequestsPerIteration: rpi, AtLeast: ex.AtLeast, LimitedBy: ex.LimitedBy,
	}
	if ex.Capacity > 0 {
		s.Capacity.SingleInstanceRPS, s.Capacity.SingleInstanceSource = rpsOf(capStep, rpi)
	}
	if ex.Unacceptable > 0 {
		st, _ := ex.At(ex.Unacceptable)
		s.Capacity.UnacceptableRPS, s.Capacity.UnacceptableSource = rpsOf(st, rpi)
		if measured := s.Capacity.UnacceptableRPS; s.Capacity.UnacceptableSource == Measured && measured <= s.Capacity.SingleInstanceRPS && ex.Unacceptable > ex.Capacity {
			// The step broke at a higher offered load but completed fewer
			// requests: throughput fell under overload, or it stopped
			// before its journeys reached their steady rate. Its point is
			// the load it was offered, not the requests it got through.
			s.Capacity.UnacceptableRPS, s.Capacity.UnacceptableSource = st.Rate*rpi, Converted
			s.Notes = append(s.Notes, fmt.Sprintf("the unacceptable step completed %s req/s, no more than the capacity step's %s (throughput fell under overload, or the step stopped before its journeys reached their steady rate): the unacceptable point is the load it was offered, %s it/s × %s requests per iteration = %s req/s",
				num(measured), num(s.Capacity.SingleInstanceRPS), num(st.Rate), num(rpi), num(s.Capacity.UnacceptableRPS)))
		}
		if s.Capacity.UnacceptableRPS < s.Capacity.SingleInstanceRPS {
			s.Notes = append(s.Notes, fmt.Sprintf("the unacceptable step completed fewer requests/s (%s) than the capacity step (%s): throughput fell under overload; the capacity is stated as %s req/s, never above the unacceptable point",
				num(s.Capacity.UnacceptableRPS), num(s.Capacity.SingleInstanceRPS), num(s.Capacity.UnacceptableRPS)))
			s.Capacity.SingleInstanceRPS, s.Capacity.CappedAtUnacceptable = s.Capacity.UnacceptableRPS, true
		}
	}
	s.checkRequired(p, o)
	if ex.Capacity == 0 {
		s.Notes = append(s.Notes, "no acceptable rate: Little's Law, USL, prediction, stress and recommendation need a capacity")
		return s, nil
	}
	s.LittlesLaw = LittleAt(capStep, ThinkPerRequest(p))
	s.USL = fitSteps(ex.Steps, s.Capacity.UnacceptableRPS)

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
		if obj.Kind == plan.Throughput {
			verdict := "meets"
			if !obj.Holds(s.Capacity.SingleInstanceRPS) {
				verdict = "does not meet"
			}
			s.Notes = append(s.Notes, fmt.Sprintf("single-instance capacity %s req/s %s %s", num(s.Capacity.SingleInstanceRPS), verdict, label(obj)))
		}
	}
}

// fitSteps fits the USL to the (concurrency, goodput) of the steady steps
// (not stopped early, not generator-limited, in-flight without a trend),
// and labels a peak beyond the measured concurrencies as extrapolated and
// one above unacceptableRPS (when found) as no capacity.
func fitSteps(steps []Step, unacceptableRPS float64) Scalability {
	var sc Scalability
	var pts []Point
	for _, st := range steps {
		if why := unsteady(st); why != "" {
			sc.Excluded = append(sc.Excluded, fmt.Sprintf("step %d at %s/s: %s", st.Index, num(st.Rate), why))
			continue
		}
		n := st.InFlight
		if n <= 0 {
			n = st.LittlesL
		}
		pts = append(pts, Point{N: n, X: st.Goodput})
		sc.MaxMeasuredN = math.Max(sc.MaxMeasuredN, n)
	}
	u, err := FitUSL(pts)
	if err != nil {
		sc.USL, sc.Refused = USL{Points: u.Points}, err.Error()
		return sc
	}
	sc.USL, sc.Reported = u, true
	top, what := u.PeakX, "peak"
	switch {
	case u.PeakN > 0 && u.PeakN > sc.MaxMeasuredN:
		sc.Extrapolated = true
		sc.Caveats = append(sc.Caveats, fmt.Sprintf("the peak at concurrency %.1f lies beyond the highest measured %.1f: extrapolated, not measured", u.PeakN, sc.MaxMeasuredN))
	case u.PeakN == 0 && u.Ceiling > 0:
		top, what = u.Ceiling, "ceiling"
		sc.Extrapolated = true
		sc.Caveats = append(sc.Caveats, "the ceiling is the model's limit at unbounded concurrency: extrapolated, not measured")
	}
	if unacceptableRPS > 0 && top > unacceptableRPS {
		sc.AboveUnacceptable = true
		sc.Caveats = append(sc.Caveats, fmt.Sprintf("the %s %s req/s is above the measured unacceptable point %s req/s: the SLOs break before it, so it is not a capacity",
			what, num(top), num(unacceptableRPS)))
	}
	return sc
}

// unsteady says why st is no USL point; "" when it is one.
func unsteady(st Step) string {
	switch {
	case st.Steadiness != nil && !st.Steadiness.Steady:
		return st.Steadiness.Why
	case st.Stopped:
		return "stopped early"
	case st.Verdict == GeneratorLimited:
		return "generator-limited"
	case st.Seconds < 1:
		return "nothing measured"
	}
	return ""
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
	rpi := requestsPerIteration(p, capStep)
	measured, src := rpsOf(capStep, rpi)
	if vex.Capacity == 0 {
		measured, src = 0, Measured
	}
	pr.MeasuredSource = src
	if vex.Unacceptable > 0 {
		st, _ := vex.At(vex.Unacceptable)
		pr.UnacceptableRPS, pr.UnacceptableSource = rpsOf(st, rpi)
	}
	ratio := 0.0
	if pr.PredictedRPS > 0 {
		ratio = measured / pr.PredictedRPS
	}
	pr.MeasuredRPS, pr.Ratio, pr.AtLeast = &measured, &ratio, vex.AtLeast
	bound := ""
	if vex.AtLeast {
		bound = fmt.Sprintf(" (a lower bound: limited by %s)", vex.LimitedBy)
	}
	how := "measured"
	if src == Converted {
		how = fmt.Sprintf("converted: %s it/s × %s requests per iteration; the step measured nothing", num(capStep.Rate), num(rpi))
	}
	pr.Statement = fmt.Sprintf("%d × %s req/s = %s req/s predicted; %s req/s (%s)%s at %s: ratio %.2f",
		o.Instances, num(s.Capacity.SingleInstanceRPS), num(pr.PredictedRPS), num(measured), how, bound, o.VerifyURL, ratio)
	switch {
	case ratio < 1-scalingTolerance && !vex.AtLeast:
		s.Notes = append(s.Notes, subLinearNote(o.Instances, ratio))
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
			surge.Baseline, surge.BaselineErrorRate = st.Latency, st.ErrorRate
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
