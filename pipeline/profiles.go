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

// attachProfiles adds the CPU profile's top functions (the degraded steps
// against the baseline) to the CPU findings; a profile that could not be
// fetched or compared is a warning.
func attachProfiles(rec *profiles.Recorder, study *capacity.Study, r *StudyResult, h Hooks) {
	if rec == nil {
		return
	}
	for _, p := range rec.Problems() {
		h.warn(p)
	}
	d, ok, err := rec.StudyDiff(*study)
	if err != nil {
		h.warn(err.Error())
	}
	if ok {
		profiles.Attach(r.Findings, d, 3)
	}
}
