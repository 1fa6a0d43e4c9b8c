package pipeline

import (
	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/profiles"
)

// studyProfiles is the recorder of the study's profiles (nil when the plan
// names no observe.pprof or the study does not correlate): each step's
// profiles are labelled with the step t says is running and passed to
// h.OnProfile.
func studyProfiles(q *plan.Plan, s Settings, t *tracker, h Hooks) (*profiles.Recorder, error) {
	if s.NoCorrelate {
		return nil, nil
	}
	return profiles.NewRecorder(q.Observe.Pprof, profiles.RecorderHooks{Label: t.current, OnProfile: h.OnProfile})
}

// attachProfiles adds each profile's top functions (the degraded steps
// against the baseline) to the findings it explains: the CPU profile's to
// the CPU findings, the allocation profile's to the GC and memory ones,
// and the mutex profile makes a finding of its own when requests queued
// on a Go lock;
// a profile that could not be fetched or compared is a warning.
func attachProfiles(rec *profiles.Recorder, study *capacity.Study, r *StudyResult, h Hooks) {
	if rec == nil {
		return
	}
	for _, p := range rec.Problems() {
		h.warn(p)
	}
	for _, k := range []profiles.Kind{profiles.CPU, profiles.Allocs} {
		d, ok, err := rec.KindDiff(*study, k)
		if err != nil {
			h.warn(err.Error())
		}
		if ok {
			profiles.AttachTo(r.Findings, d, 3, profiles.FindingKinds(k)...)
		}
	}
	f, ok, err := rec.LockFinding(*study)
	if err != nil {
		h.warn(err.Error())
	}
	if ok {
		r.Findings = profiles.AddFinding(r.Findings, f)
	}
}

// ProfileFile is a profile kept as a file beside the study's document
// (headroom capacity writes them next to its --out), with its top
// functions against the baseline step's profile of the same kind.
type ProfileFile struct {
	File      string           `json:"file"` // relative to the document's folder; a .pb.gz for go tool pprof
	Kind      string           `json:"kind"` // cpu, alloc, mutex, block (as the server's profiles API names them)
	Phase     string           `json:"phase"`
	Step      int              `json:"step"`
	Component string           `json:"component"` // the pprof base URL's host:port
	Seconds   float64          `json:"seconds"`
	Requests  int64            `json:"requests"`
	Bytes     int              `json:"bytes"`
	Unit      string           `json:"unit,omitempty"`
	Top       []profiles.Entry `json:"top"`
	Problem   string           `json:"problem,omitempty"`
}

// profileTopN is how many functions each kept profile lists.
const profileTopN = 5

// ProfileFiles sums up the kept profiles, named files[i] each, in order.
func ProfileFiles(kept []profiles.Kept, files []string) []ProfileFile {
	out := make([]ProfileFile, 0, len(kept))
	for i, l := range profiles.List(kept, profileTopN) {
		f := ProfileFile{File: files[i], Kind: l.Kind.Name(), Phase: l.Phase, Step: l.Step, Component: l.Component,
			Requests: l.Requests, Unit: l.Unit, Top: []profiles.Entry{}, Problem: l.Problem}
		if l.Fetched != nil {
			f.Seconds, f.Bytes = l.Span.Seconds(), len(l.Raw)
		}
		for _, r := range l.Top {
			f.Top = append(f.Top, l.Diff.Entry(r, l.Unit))
		}
		out = append(out, f)
	}
	return out
}
