package correlate

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// KindScaling is the finding that says why N instances carried less than
// N × the single-instance capacity, from what verification measured.
const KindScaling FindingKind = "scaling"

// ScalingCause is what held a fleet back, as a scaling finding names it.
type ScalingCause string

// The causes a scaling finding can name, in the order they are tried.
const (
	CauseGenerator    ScalingCause = "generator"       // the load generator could not offer the load
	CauseImbalance    ScalingCause = "imbalance"       // one instance got more than its share
	CauseSharedHost   ScalingCause = "shared_host"     // the instances shared the host's cores
	CauseDatabase     ScalingCause = "shared_database" // the database they share ran out of CPU
	CausePooler       ScalingCause = "shared_pooler"   // clients queued at the pooler they share
	CauseSlowInstance ScalingCause = "slow_instance"   // one instance answered slower than the others
	CauseUnexplained  ScalingCause = "unexplained"     // no reading explains the shortfall
)

// Rules of the scaling decision.
const (
	// A busiest instance's share counts as imbalance when it is this many
	// times the even share 1/N and at least imbalanceMinPoints above it.
	imbalanceFactor    = 1.2
	imbalanceMinPoints = 0.05
	// The host is saturated from this share of its cores busy.
	hostSaturated = 0.9
	// The database is saturated when its CPU reaches this share of the
	// host's cores (it runs on the host the plan's host component reads).
	databaseSaturated = 0.8
	// The pooler is a cause from this many clients waiting on average, or
	// from waits per request of at least poolerWaitMinMs and
	// poolerWaitShare of the instances' mean latency.
	poolerWaiting   = 1.0
	poolerWaitMinMs = 5.0
	poolerWaitShare = 0.2
	// One instance is slow when its mean latency is this many times the
	// others' median and at least slowMinMs above it.
	slowFactor = 2.0
	slowMinMs  = 5.0
)

// ScalingInput is what verification compared: the prediction, what the
// fleet carried, and its steps (with their wall-clock spans).
type ScalingInput struct {
	Instances    int
	SingleRPS    float64 // single-instance capacity, requests/s
	PredictedRPS float64 // Instances × SingleRPS
	MeasuredRPS  float64 // what the fleet carried
	AtLeast      bool    // the verification was cut short: MeasuredRPS is a lower bound
	Steps        []capacity.Step
	MaxVUs       int // load.max_vus, 0 when unknown
	Observe      plan.Observe
}

// ScalingInputOf is the study's verification as a ScalingInput; false
// when there is nothing to explain (not verified, or the fleet carried
// at least the prediction's lower tolerance).
func ScalingInputOf(s capacity.Study, p *plan.Plan) (ScalingInput, bool) {
	pr := s.Prediction
	if pr.MeasuredRPS == nil || !pr.SubLinear() || len(pr.Steps) == 0 {
		return ScalingInput{}, false
	}
	in := ScalingInput{
		Instances: pr.Instances, SingleRPS: s.Capacity.SingleInstanceRPS, PredictedRPS: pr.PredictedRPS,
		MeasuredRPS: *pr.MeasuredRPS, AtLeast: pr.AtLeast, Steps: pr.Steps,
	}
	if p != nil {
		in.MaxVUs, in.Observe = p.Load.MaxVUs, p.Observe
	}
	return in, true
}

// InstanceLoad is one instance's part of a verify step.
type InstanceLoad struct {
	Instance  string  // its Prometheus instance label
	RPS       float64 // requests/s it served
	LatencyMs float64 // its mean latency; 0 when not read
	CPU       float64 // cores it used; NaN when not read
}

// StepLoad is what Prometheus showed during one verify step: each
// instance and the components they share. A figure that could not be read
// is NaN.
type StepLoad struct {
	Step      int     // the step's index
	RPS       float64 // the step's measured throughput, requests/s
	Seconds   float64 // the span read
	Instances []InstanceLoad
	HostBusy  float64 // host cores busy
	HostCores float64 // host cores
	DBCPU     float64 // the database's CPU, cores
	PoolWait  float64 // clients waiting at the pooler, on average
	PoolWaitS float64 // seconds clients waited at the pooler per second
	PoolSize  float64 // the pooler's pool size
}

// Shared names the plan's shared components the readings come from.
type Shared struct {
	Host, Database, Pooler string
}

// ScalingReadings are the readings of all verify steps that could be
// read, in the order they ran, and what could not be read.
type ScalingReadings struct {
	Steps        []StepLoad
	Shared       Shared
	NotAvailable []string
}

// Scaling is why a fleet fell short: the cause, the statement that names
// it with its figures (as a study's note ends), and the finding.
type Scaling struct {
	Cause     ScalingCause
	Statement string // "the 3 instances shared 2 cores: host CPU 100% from 300 req/s; …"
	Finding   Finding
}

// DecideScaling names why the fleet fell short, with the figures, and
// what to do about it. It tries the causes in order: a generator limit
// (the verification then says nothing about the service), imbalance, a
// shared host, database or pooler saturated, one slow instance.
func DecideScaling(in ScalingInput, r ScalingReadings) Scaling {
	d := decision{in: in, r: r, n: max(in.Instances, 1)}
	d.worst = d.worstStep()
	cause, statement, rec := d.decide()
	ratio := 0.0
	if in.PredictedRPS > 0 {
		ratio = in.MeasuredRPS / in.PredictedRPS
	}
	bound := ""
	if in.AtLeast {
		bound = " at least"
	}
	head := fmt.Sprintf("%d instances carried%s %s req/s, %.0f%% of the %s predicted (%d × %s)",
		in.Instances, bound, fmtRPS(in.MeasuredRPS), 100*ratio, fmtRPS(in.PredictedRPS), in.Instances, fmtRPS(in.SingleRPS))
	f := Finding{Kind: KindScaling, Title: head + ": " + statement, Score: 0.9, Recommendation: rec}
	f.Evidence.Facts = append(d.facts(), r.NotAvailable...)
	if cause == CauseUnexplained {
		f.Score = 0.3
	}
	return Scaling{Cause: cause, Statement: statement, Finding: f}
}

// The statements of a scaling finding that names no cause.
const (
	unexplainedEven   = "no reading explains it: the load was spread evenly and no shared component was saturated"
	unexplainedUnread = "the instances and the shared components could not be read (see below)"
)

// ScalingReason is what a study's scaling finding says held the fleet
// back.
type ScalingReason struct {
	// Statement is the cause with its figures, as DecideScaling wrote it
	// after the finding's headline: "the 3 instances shared 2 cores: host
	// CPU 95% from 411 req/s; scaling is unverified on this machine".
	Statement string
	// Explained is false when the finding names no cause: nothing read
	// explained the shortfall, or nothing could be read.
	Explained bool
	Rank      int // the finding's rank
}

// ScalingReasonOf reads the cause out of the scaling finding among
// findings; false when there is none (verification did not fall short, or
// the study was not correlated).
func ScalingReasonOf(findings []Finding) (ScalingReason, bool) {
	for _, f := range findings {
		if f.Kind != KindScaling {
			continue
		}
		// The headline ("3 instances carried 411 req/s, 27% of the 1550
		// predicted (3 × 517)") has no colon; the statement follows the
		// first one.
		_, statement, found := strings.Cut(f.Title, ": ")
		if !found || statement == "" {
			return ScalingReason{Rank: f.Rank}, true
		}
		explained := statement != unexplainedEven && statement != unexplainedUnread
		return ScalingReason{Statement: statement, Explained: explained, Rank: f.Rank}, true
	}
	return ScalingReason{}, false
}

type decision struct {
	in    ScalingInput
	r     ScalingReadings
	n     int
	worst *StepLoad // the step the fleet fell short at; nil without readings
}

// worstStep is the reading of the lowest unacceptable verify step (where
// the fleet fell short), or of the highest step when none was
// unacceptable; nil without readings.
func (d decision) worstStep() *StepLoad {
	step := map[int]capacity.Step{}
	for _, st := range d.in.Steps {
		step[st.Index] = st
	}
	var lowestBad, highest *StepLoad
	for i := range d.r.Steps {
		s := &d.r.Steps[i]
		st := step[s.Step]
		if st.Verdict == capacity.Unacceptable && (lowestBad == nil || st.Rate < step[lowestBad.Step].Rate) {
			lowestBad = s
		}
		if highest == nil || st.Rate > step[highest.Step].Rate {
			highest = s
		}
	}
	if lowestBad != nil {
		return lowestBad
	}
	return highest
}

func (d decision) decide() (ScalingCause, string, string) {
	if t, rec, idx, ok := d.generator(); ok {
		// A generator that fell behind on a saturated host it shares with
		// the instances is the host's doing.
		for i := range d.r.Steps {
			if d.r.Steps[i].Step != idx {
				continue
			}
			if ht, hrec, ok := d.host([]*StepLoad{&d.r.Steps[i]}); ok {
				return CauseSharedHost, ht + " (the generator, on the same host, fell behind too)", hrec
			}
		}
		return CauseGenerator, t, rec
	}
	if t, rec, ok := d.imbalance(); ok {
		return CauseImbalance, t, rec
	}
	cands := d.candidates()
	if t, rec, ok := d.host(cands); ok {
		return CauseSharedHost, t, rec
	}
	if t, rec, ok := d.database(cands); ok {
		return CauseDatabase, t, rec
	}
	if t, rec, ok := d.pooler(cands); ok {
		return CausePooler, t, rec
	}
	if t, rec, ok := d.slowInstance(); ok {
		return CauseSlowInstance, t, rec
	}
	t := unexplainedEven
	if d.worst == nil || !readAnything(d.r) {
		t = unexplainedUnread
	}
	return CauseUnexplained, t, "Look for what the instances share that Headroom does not read: the balancer's own latency and connection limits, the network, a cache or a downstream service; add them to observe.components and verify again."
}

// generator: a verify step the generator could not offer; its index.
func (d decision) generator() (string, string, int, bool) {
	for _, st := range d.in.Steps {
		if st.Verdict != capacity.GeneratorLimited {
			continue
		}
		fact := fmt.Sprintf("step %d at %s it/s: the generator started %s it/s of %s offered, dropped %s it/s", st.Index, fmtRPS(st.Rate), fmtRPS(st.Achieved), fmtRPS(st.Offered), fmtRPS(st.Dropped))
		if d.in.MaxVUs > 0 {
			fact += fmt.Sprintf(", %.0f of load.max_vus %d busy", st.Busy, d.in.MaxVUs)
		}
		rec := "The shortfall says nothing about the service: run the verification from a generator that can offer the load (another machine, more agents"
		if d.in.MaxVUs > 0 && st.Busy >= 0.9*float64(d.in.MaxVUs) {
			rec += ", or a higher load.max_vus: the virtual users were all busy"
		}
		rec += ") and verify again; scaling is unverified until then."
		return "the generator could not offer the load (" + fact + "); scaling is unverified", rec, st.Index, true
	}
	return "", "", 0, false
}

// shares are each instance's share of the requests, busiest first, over
// the acceptable steps read (an instance that is saturated completes
// fewer requests than it is sent, so its share would look smaller), or
// over all steps read when none was acceptable. The second result says
// which.
func (d decision) shares() ([]InstanceLoad, []float64, string) {
	ok := map[int]bool{}
	for _, st := range d.in.Steps {
		ok[st.Index] = st.Verdict == capacity.Acceptable
	}
	over := "the acceptable verify steps"
	steps := make([]StepLoad, 0, len(d.r.Steps))
	for _, s := range d.r.Steps {
		if ok[s.Step] && len(s.Instances) > 0 {
			steps = append(steps, s)
		}
	}
	if len(steps) == 0 {
		steps, over = d.r.Steps, "the verify steps (none was acceptable)"
	}
	total := map[string]float64{}
	for _, s := range steps {
		for _, il := range s.Instances {
			total[il.Instance] += il.RPS * s.Seconds
		}
	}
	sum := 0.0
	var out []InstanceLoad
	for name, v := range total {
		sum += v
		out = append(out, InstanceLoad{Instance: name, RPS: v})
	}
	if sum <= 0 {
		return nil, nil, over
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].RPS != out[j].RPS {
			return out[i].RPS > out[j].RPS
		}
		return out[i].Instance < out[j].Instance
	})
	shares := make([]float64, len(out))
	for i := range out {
		shares[i] = out[i].RPS / sum
	}
	return out, shares, over
}

func (d decision) imbalance() (string, string, bool) {
	loads, shares, _ := d.shares()
	if len(loads) == 0 {
		return "", "", false
	}
	even := 1 / float64(max(d.n, len(loads)))
	top := shares[0]
	if top < imbalanceFactor*even || top-even < imbalanceMinPoints {
		return "", "", false
	}
	name := loads[0].Instance
	title := fmt.Sprintf("instance %s received %.0f%% of the requests (an even split is %.0f%%): the balancer is not spreading them evenly", name, 100*top, 100*even)
	rec := fmt.Sprintf("Make the balancer spread requests evenly (round-robin or least-connections; check its weights and any session affinity). With %.0f%% of the requests on %s, the fleet saturates when that instance reaches the single-instance capacity: at about %s ÷ %.2f = %s req/s.",
		100*top, name, fmtRPS(d.in.SingleRPS), top, fmtRPS(d.in.SingleRPS/top))
	if d.in.SingleRPS > 0 {
		rec += fmt.Sprintf(" Evenly spread, %d instances are predicted to carry %s req/s; verify again after the fix.", d.in.Instances, fmtRPS(d.in.PredictedRPS))
	}
	return title, rec, true
}

// hostUtil is the host's busy share at s; false when not read.
func hostUtil(s StepLoad) (float64, bool) {
	if math.IsNaN(s.HostBusy) || math.IsNaN(s.HostCores) || s.HostCores <= 0 {
		return 0, false
	}
	return s.HostBusy / s.HostCores, true
}

// candidates are the readings of the steps at or above the fleet's
// capacity (the highest acceptable verify rate), lowest rate first: where
// a shared component that limits the fleet is full. All steps when none
// was acceptable.
func (d decision) candidates() []*StepLoad {
	rate := map[int]float64{}
	top := 0.0
	for _, st := range d.in.Steps {
		rate[st.Index] = st.Rate
		if st.Verdict == capacity.Acceptable && st.Rate > top {
			top = st.Rate
		}
	}
	var out []*StepLoad
	for i := range d.r.Steps {
		if rate[d.r.Steps[i].Step] >= top {
			out = append(out, &d.r.Steps[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return rate[out[i].Step] < rate[out[j].Step] })
	return out
}

// host: the host's cores full at the fleet's capacity or above, from the
// lowest such step.
func (d decision) host(cands []*StepLoad) (string, string, bool) {
	var at *StepLoad
	u := 0.0
	for _, s := range cands {
		if v, ok := hostUtil(*s); ok && v >= hostSaturated {
			at, u = s, v
			break
		}
	}
	if at == nil {
		return "", "", false
	}
	cores := at.HostCores
	title := fmt.Sprintf("the %d instances shared %s: host CPU %s from %s req/s; scaling is unverified on this machine",
		d.in.Instances, coresText(cores), pctCapped(u), fmtRPS(at.RPS))
	rec := fmt.Sprintf("The fleet measured the host, not %d × an instance: all of its %s were busy", d.in.Instances, coresText(cores))
	if cores == 1 {
		rec = fmt.Sprintf("The fleet measured the host, not %d × an instance: its one core was busy", d.in.Instances)
	}
	// Who used them, when every instance was read and the counters agree
	// with the host's (over a short step a rate's extrapolation can
	// overshoot).
	used, db := sumCPU(at.Instances), at.DBCPU
	if math.IsNaN(db) {
		db = 0
	}
	if !math.IsNaN(used) && len(at.Instances) >= d.n && used+db <= 1.05*at.HostBusy {
		rec += fmt.Sprintf(" (the instances used %.2f cores", used)
		if db > 0 {
			rec += fmt.Sprintf(", the database %.2f", db)
		}
		rec += "; the generator and the rest of the host the remainder)"
	}
	rec += fmt.Sprintf(". Verify on hosts that do not share cores: each instance on cores of its own, the generator elsewhere. Until then the %d-instance prediction (%s req/s) is unverified, and sizing from the per-instance rate measured here is pessimistic.",
		d.in.Instances, fmtRPS(d.in.PredictedRPS))
	return title, rec, true
}

// database: its CPU a large share of the host's cores at the fleet's
// capacity or above.
func (d decision) database(cands []*StepLoad) (string, string, bool) {
	for _, at := range cands {
		if math.IsNaN(at.DBCPU) || math.IsNaN(at.HostCores) || at.HostCores <= 0 {
			continue
		}
		u := at.DBCPU / at.HostCores
		if u < databaseSaturated {
			continue
		}
		name := cmpOr(d.r.Shared.Database, "database")
		title := fmt.Sprintf("the %d instances shared %s: its CPU %.2f cores (%.0f%% of the host's %s) at %s req/s",
			d.in.Instances, name, at.DBCPU, 100*u, coresText(at.HostCores), fmtRPS(at.RPS))
		rec := fmt.Sprintf("The database is the fleet's ceiling, not the instances: more instances will not carry more than about %s req/s. Cut its CPU per request (the slow statements, indexes) or give it more cores or read replicas, then verify again.",
			fmtRPS(d.in.MeasuredRPS))
		return title, rec, true
	}
	return "", "", false
}

// pooler: clients queued at the pooler at the fleet's capacity or above:
// one or more waiting on average, or waits that add a noticeable part of
// a request's latency.
func (d decision) pooler(cands []*StepLoad) (string, string, bool) {
	for _, at := range cands {
		w, ws := at.PoolWait, at.PoolWaitS
		perRequestMs := math.NaN()
		if !math.IsNaN(ws) && at.RPS > 0 {
			perRequestMs = 1000 * ws / at.RPS
		}
		waiting := !math.IsNaN(w) && w >= poolerWaiting
		waited := !math.IsNaN(perRequestMs) && perRequestMs >= math.Max(poolerWaitMinMs, poolerWaitShare*meanLatency(at.Instances))
		if !waiting && !waited {
			continue
		}
		name := cmpOr(d.r.Shared.Pooler, "pooler")
		var what []string
		if !math.IsNaN(w) {
			what = append(what, fmt.Sprintf("%.1f clients waited for a server connection on average", w))
		}
		if !math.IsNaN(perRequestMs) {
			what = append(what, fmt.Sprintf("%.1f ms waited per request", perRequestMs))
		}
		pool := ""
		if !math.IsNaN(at.PoolSize) && at.PoolSize > 0 {
			pool = fmt.Sprintf(" (pool size %.0f)", at.PoolSize)
		}
		title := fmt.Sprintf("the %d instances shared %s: %s at %s req/s%s", d.in.Instances, name, strings.Join(what, ", "), fmtRPS(at.RPS), pool)
		rec := fmt.Sprintf("The %d instances queue for one pool: raise the pooler's pool size (for %d instances rather than one), or its database's connection limit with it, then verify again.", d.in.Instances, d.in.Instances)
		return title, rec, true
	}
	return "", "", false
}

// meanLatency is the instances' mean latency weighted by their rates; 0
// when none was read.
func meanLatency(ils []InstanceLoad) float64 {
	sum, n := 0.0, 0.0
	for _, il := range ils {
		if il.LatencyMs > 0 && il.RPS > 0 {
			sum += il.LatencyMs * il.RPS
			n += il.RPS
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

func (d decision) slowInstance() (string, string, bool) {
	if d.worst == nil || len(d.worst.Instances) < 2 {
		return "", "", false
	}
	ils := append([]InstanceLoad(nil), d.worst.Instances...)
	sort.Slice(ils, func(i, j int) bool { return ils[i].LatencyMs > ils[j].LatencyMs })
	slow := ils[0]
	var others []float64
	for _, il := range ils[1:] {
		if il.LatencyMs > 0 {
			others = append(others, il.LatencyMs)
		}
	}
	if slow.LatencyMs <= 0 || len(others) == 0 {
		return "", "", false
	}
	med := medianOfValues(others)
	if slow.LatencyMs < slowFactor*med || slow.LatencyMs-med < slowMinMs {
		return "", "", false
	}
	title := fmt.Sprintf("instance %s was slow: mean latency %.1f ms against %.1f ms for the others at %s req/s", slow.Instance, slow.LatencyMs, med, fmtRPS(d.worst.RPS))
	rec := fmt.Sprintf("One instance holds the fleet back: take %s out of rotation and look at what differs (its host, CPU limit, a noisy neighbour, configuration, a cold cache); the others answered in %.1f ms. A balancer that prefers fast instances (least-connections, outlier ejection) limits the damage.", slow.Instance, med)
	return title, rec, true
}
