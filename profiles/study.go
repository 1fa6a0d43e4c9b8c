package profiles

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
)

// Recorder profiles a study's steps: wrapped around the study's prober, it
// fetches a CPU profile covering each step's measured part (from the end
// of the warm-up to the end of the step), with the allocation, mutex and
// block profiles of the same span, and afterwards attaches the top
// functions of the degraded steps against the baseline to the findings
// they explain. A profile that cannot be fetched is a problem to report,
// never a failed study.
type Recorder struct {
	f Fetcher
	h RecorderHooks

	mu       sync.Mutex
	steps    []Recorded
	problems []string
	failed   map[Kind]bool // kinds besides CPU that failed once: not reported again
}

// RecorderHooks connect a Recorder to the study it profiles. The zero
// value is ready to use.
type RecorderHooks struct {
	// Label, when set, names the step a probe runs (it is called as the
	// probe starts). A probe labelled PhaseCooldown or PhaseStress is not
	// profiled: each ends when the service is back, long before the span
	// it asks for, and a profile would hold it the whole span. Nor is one
	// labelled PhaseVerify: it loads the N instances, not the one whose
	// profiles observe.pprof names, which sits idle meanwhile.
	Label func() (phase string, step int)
	// OnProfile, when set, gets each profile fetched that has samples, as
	// its step ends, from the study's goroutine.
	OnProfile func(Kept)
}

// Kept is a profile fetched during a step, with the step it covers.
type Kept struct {
	Phase string
	// Component is the service profiled: its pprof base URL's host:port.
	Component string
	Step      int
	Requests  int64 // requests the step's measured part answered
	*Fetched
}

// Recorded is one step's profiles.
type Recorded struct {
	Start    time.Time // the step's measured part, as its Summary says
	Requests int64
	Phase    string
	Step     int
	Fetched  *Fetched // the CPU profile
	// Others are the step's other profiles (allocs, mutex, block) that
	// could be fetched.
	Others map[Kind]*Fetched
}

// profile is the step's kind profile (nil when not fetched).
func (r Recorded) profile(k Kind) *Fetched {
	if k == CPU {
		return r.Fetched
	}
	return r.Others[k]
}

// stepKinds are the profiles fetched for every step besides CPU.
var stepKinds = []Kind{Allocs, Mutex, Block}

// NewRecorder profiles the service at the pprof base URL (nil when base is
// "": a nil Recorder does nothing).
func NewRecorder(base string, h RecorderHooks) (*Recorder, error) {
	if base == "" {
		return nil, nil
	}
	if err := ValidateBase(base); err != nil {
		return nil, err
	}
	return &Recorder{f: Fetcher{Base: base}, h: h, failed: map[Kind]bool{}}, nil
}

// Prober wraps p: each probe runs with its profiles over its measured part.
func (r *Recorder) Prober(p capacity.Prober) capacity.Prober {
	if r == nil {
		return p
	}
	return capacity.ProberFunc(func(ctx context.Context, pr capacity.Probe) (capacity.Summary, error) {
		span := pr.Duration() - pr.Warmup
		var phase string
		var step int
		if r.h.Label != nil {
			phase, step = r.h.Label()
		}
		if span < time.Second || phase == string(capacity.PhaseCooldown) || phase == string(capacity.PhaseStress) ||
			phase == string(capacity.PhaseVerify) {
			return p.Probe(ctx, pr)
		}
		kinds := append([]Kind{CPU}, stepKinds...)
		type result struct {
			f   *Fetched
			err error
		}
		done := make([]chan result, len(kinds))
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for i, k := range kinds {
			done[i] = make(chan result, 1)
			go func() {
				select {
				case <-pctx.Done():
					done[i] <- result{err: pctx.Err()}
					return
				case <-time.After(pr.Warmup):
				}
				f, err := r.f.Fetch(pctx, k, span)
				done[i] <- result{f, err}
			}()
		}
		s, err := p.Probe(ctx, pr)
		res := make([]result, len(kinds))
		for i := range kinds {
			res[i] = <-done[i] // a step stopped early leaves the profiles to run their span out
		}
		if ctx.Err() != nil {
			return s, err
		}
		rec := Recorded{Start: s.Start, Requests: s.Requests, Phase: phase, Step: step, Others: map[Kind]*Fetched{}}
		var kept []Kept
		r.mu.Lock()
		for i, k := range kinds {
			switch {
			case res[i].err != nil && k == CPU:
				r.problems = append(r.problems, fmt.Sprintf("CPU profile of the step at %s: %v", s.Start.Format(time.TimeOnly), res[i].err))
			case res[i].err != nil:
				if !r.failed[k] {
					r.failed[k] = true
					r.problems = append(r.problems, fmt.Sprintf("%s profile not available (not asked again): %v", k, res[i].err))
				}
			default:
				if k == CPU {
					rec.Fetched = res[i].f
				} else {
					rec.Others[k] = res[i].f
				}
				if hasSamples(res[i].f.Profile, k) {
					kept = append(kept, Kept{Phase: phase, Step: step, Component: r.component(), Requests: s.Requests, Fetched: res[i].f})
				}
			}
		}
		if !s.Start.IsZero() && (rec.Fetched != nil || len(rec.Others) > 0) {
			r.steps = append(r.steps, rec)
		}
		r.mu.Unlock()
		if r.h.OnProfile != nil {
			for _, k := range kept {
				r.h.OnProfile(k)
			}
		}
		return s, err
	})
}

// component is the host:port of the profiled service's pprof base URL.
func (r *Recorder) component() string {
	if u, err := url.Parse(r.f.Base); err == nil {
		return u.Host
	}
	return ""
}

// hasSamples reports whether p holds any value of kind's sample type.
func hasSamples(p *profile.Profile, k Kind) bool {
	idx, err := valueIndex(p, k)
	if err != nil {
		return false
	}
	for _, smp := range p.Sample {
		if idx < len(smp.Value) && smp.Value[idx] != 0 {
			return true
		}
	}
	return false
}

// Steps returns the profiles recorded, in the order run.
func (r *Recorder) Steps() []Recorded {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Recorded(nil), r.steps...)
}

// Problems says which profiles could not be fetched.
func (r *Recorder) Problems() []string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.problems...)
}

// StudyDiff compares the degraded steps' CPU (the steps whose verdict is
// not acceptable, merged) with the baseline step's (the study's first
// step). ok is false when either is missing.
func (r *Recorder) StudyDiff(st capacity.Study) (d Diff, ok bool, err error) {
	return r.KindDiff(st, CPU)
}

// KindDiff compares the degraded steps' kind profiles (the steps whose
// verdict is not acceptable, merged) with the baseline step's (the
// study's first step). ok is false when either is missing or the degraded
// steps' profiles have no samples.
func (r *Recorder) KindDiff(st capacity.Study, kind Kind) (d Diff, ok bool, err error) {
	rec := r.Steps()
	if len(rec) == 0 || len(st.Steps) == 0 {
		return Diff{}, false, nil
	}
	byStart := map[time.Time]Recorded{}
	for _, x := range rec {
		byStart[x.Start] = x
	}
	baseRec, found := byStart[st.Steps[0].Start]
	if !found || baseRec.profile(kind) == nil {
		return Diff{}, false, nil
	}
	var degraded []*profile.Profile
	var requests float64
	for _, s := range st.Steps[1:] {
		if x, found := byStart[s.Start]; found && s.Verdict != capacity.Acceptable && x.profile(kind) != nil {
			degraded = append(degraded, x.profile(kind).Profile)
			requests += float64(x.Requests)
		}
	}
	if len(degraded) == 0 {
		return Diff{}, false, nil
	}
	merged, err := profile.Merge(degraded) // durations add up, so rates stay rates
	if err != nil {
		return Diff{}, false, fmt.Errorf("profiles: merging the degraded steps' %s profiles: %w", kind, err)
	}
	if !hasSamples(merged, kind) {
		return Diff{}, false, nil
	}
	base, err := Summarize(baseRec.profile(kind).Profile, kind, float64(baseRec.Requests))
	if err != nil {
		return Diff{}, false, err
	}
	deg, err := Summarize(merged, kind, requests)
	if err != nil {
		return Diff{}, false, err
	}
	d, err = Compare(base, deg)
	return d, err == nil, err
}

// Attach adds the top n functions of the CPU diff to the findings that
// blame the CPU (cpu_usage, cpu_throttling), as facts. It returns the
// sentences, for a study with no CPU finding to show them elsewhere.
func Attach(findings []correlate.Finding, d Diff, n int) []string {
	return AttachTo(findings, d, n, FindingKinds(CPU)...)
}

// KindLockWait is the finding the mutex and block profiles give when the
// degraded steps wait on the service's own locks (see LockFinding).
const KindLockWait correlate.FindingKind = "lock_contention"

// FindingKinds are the kinds of finding a kind of profile explains: CPU
// the CPU's (cpu_usage, cpu_throttling), allocations the garbage
// collector's and memory's (gc_pause, memory), mutex and block profiles
// the lock waits'.
func FindingKinds(k Kind) []correlate.FindingKind {
	switch k {
	case CPU:
		return []correlate.FindingKind{correlate.KindCPU, correlate.KindThrottling}
	case Allocs, Heap:
		return []correlate.FindingKind{correlate.KindGC, correlate.KindMemory}
	case Mutex, Block:
		return []correlate.FindingKind{KindLockWait}
	}
	return nil
}

// label starts a kind's sentences in a finding's facts.
func (k Kind) label() string {
	switch k {
	case CPU:
		return "Profile"
	case Allocs:
		return "Allocation profile"
	case Heap:
		return "Heap profile"
	case Mutex:
		return "Mutex profile"
	case Block:
		return "Block profile"
	}
	return "Profile"
}

// AttachTo adds the top n functions of d to the findings of the given
// kinds, as facts, and returns the sentences.
func AttachTo(findings []correlate.Finding, d Diff, n int, kinds ...correlate.FindingKind) []string {
	var lines []string
	for _, row := range d.Top(n) {
		lines = append(lines, d.Kind.label()+": "+d.Sentence(row)+".")
	}
	for i := range findings {
		if slices.Contains(kinds, findings[i].Kind) {
			findings[i].Evidence.Facts = append(findings[i].Evidence.Facts, lines...)
		}
	}
	return lines
}
