package profiles

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
)

// Recorder profiles a study's steps: wrapped around the study's prober, it
// fetches a CPU profile covering each step's measured part (from the end
// of the warm-up to the end of the step), and afterwards attaches the top
// functions of the degraded steps against the baseline to the CPU finding.
// A profile that cannot be fetched is a problem to report, never a failed
// study.
type Recorder struct {
	f Fetcher

	mu       sync.Mutex
	steps    []Recorded
	problems []string
}

// Recorded is one step's profile.
type Recorded struct {
	Start    time.Time // the step's measured part, as its Summary says
	Requests int64
	Fetched  *Fetched
}

// NewRecorder profiles the service at the pprof base URL (nil when base is
// "": a nil Recorder does nothing).
func NewRecorder(base string) (*Recorder, error) {
	if base == "" {
		return nil, nil
	}
	if err := ValidateBase(base); err != nil {
		return nil, err
	}
	return &Recorder{f: Fetcher{Base: base}}, nil
}

// Prober wraps p: each probe runs with a CPU profile over its measured part.
func (r *Recorder) Prober(p capacity.Prober) capacity.Prober {
	if r == nil {
		return p
	}
	return capacity.ProberFunc(func(ctx context.Context, pr capacity.Probe) (capacity.Summary, error) {
		span := pr.Duration() - pr.Warmup
		if span < time.Second {
			return p.Probe(ctx, pr)
		}
		type result struct {
			f   *Fetched
			err error
		}
		done := make(chan result, 1)
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-pctx.Done():
				done <- result{err: pctx.Err()}
				return
			case <-time.After(pr.Warmup):
			}
			f, err := r.f.Fetch(pctx, CPU, span)
			done <- result{f, err}
		}()
		s, err := p.Probe(ctx, pr)
		res := <-done // a step stopped early leaves the profile to run its span out
		if ctx.Err() != nil {
			return s, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if res.err != nil {
			r.problems = append(r.problems, fmt.Sprintf("CPU profile of the step at %s: %v", s.Start.Format(time.TimeOnly), res.err))
		} else if !s.Start.IsZero() {
			r.steps = append(r.steps, Recorded{Start: s.Start, Requests: s.Requests, Fetched: res.f})
		}
		return s, err
	})
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
	rec := r.Steps()
	if len(rec) == 0 || len(st.Steps) == 0 {
		return Diff{}, false, nil
	}
	byStart := map[time.Time]Recorded{}
	for _, x := range rec {
		byStart[x.Start] = x
	}
	baseRec, found := byStart[st.Steps[0].Start]
	if !found {
		return Diff{}, false, nil
	}
	var degraded []*profile.Profile
	var requests float64
	for _, s := range st.Steps[1:] {
		if x, found := byStart[s.Start]; found && s.Verdict != capacity.Acceptable {
			degraded = append(degraded, x.Fetched.Profile)
			requests += float64(x.Requests)
		}
	}
	if len(degraded) == 0 {
		return Diff{}, false, nil
	}
	merged, err := profile.Merge(degraded) // durations add up, so rates stay rates
	if err != nil {
		return Diff{}, false, fmt.Errorf("profiles: merging the degraded steps' CPU profiles: %w", err)
	}
	base, err := Summarize(baseRec.Fetched.Profile, CPU, float64(baseRec.Requests))
	if err != nil {
		return Diff{}, false, err
	}
	deg, err := Summarize(merged, CPU, requests)
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
	var lines []string
	for _, row := range d.Top(n) {
		lines = append(lines, "Profile: "+d.Sentence(row)+".")
	}
	for i := range findings {
		switch findings[i].Kind {
		case "cpu_usage", "cpu_throttling":
			findings[i].Evidence.Facts = append(findings[i].Evidence.Facts, lines...)
		}
	}
	return lines
}
