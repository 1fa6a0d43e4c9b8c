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
// the CPU findings, the allocation profile's to the GC and memory ones;
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
}
