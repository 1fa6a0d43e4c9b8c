package correlate

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// SavedScaling is why a saved study's fleet fell short, explained again
// (ExplainSavedScaling).
type SavedScaling struct {
	Finding Finding
	// Recorded says the finding is the one the study recorded when it ran,
	// kept because nothing could be read again; Note says why.
	Recorded bool
	Note     string
}

// ExplainSavedScaling explains again why a saved study's N instances fell
// short of the prediction, from what the study file holds (the
// prediction, the verify steps with their wall-clock spans and the
// generator's figures) and what m still holds for those spans (each
// instance of o's service components, the shared host, database and
// pooler), as the study did when it ran. What is missing is said in the
// finding's facts: verify steps without a span to read, no service
// component, no Prometheus. When nothing could be read again and the
// study recorded a scaling finding that names a cause, that finding is
// kept and Note says so. False when the study's verification did not
// fall short (or did not run).
func ExplainSavedScaling(ctx context.Context, s capacity.Study, o plan.Observe, maxVUs int, m Metrics, recorded []Finding) (SavedScaling, bool) {
	in, ok := ScalingInputOf(s, nil)
	if !ok {
		return SavedScaling{}, false
	}
	in.Observe, in.MaxVUs = o, maxVUs
	r := ReadScaling(ctx, m, o, in.Steps)
	if spans := spannedSteps(in.Steps); spans == 0 {
		r.NotAvailable = append([]string{fmt.Sprintf("scaling: not available: the study file's %d verify steps carry no wall-clock span (end, elapsed_s) to read Prometheus over", len(in.Steps))}, r.NotAvailable...)
	}
	sc := DecideScaling(in, r)
	if !readAnything(r) {
		if prev, ok := ScalingReasonOf(recorded); ok && prev.Explained {
			for _, f := range recorded {
				if f.Kind == KindScaling {
					why := "nothing was read"
					if len(r.NotAvailable) > 0 {
						why = strings.Join(r.NotAvailable, "; ")
					}
					return SavedScaling{Finding: f, Recorded: true,
						Note: "scaling: the verify steps could not be read again (" + why + "); the scaling finding is the one the study recorded when it ran"}, true
				}
			}
		}
	}
	return SavedScaling{Finding: sc.Finding}, true
}

// spannedSteps counts the verify steps with a span ReadScaling can read.
func spannedSteps(steps []capacity.Step) int {
	n := 0
	for _, st := range steps {
		if _, ok := scalingWindow(st); ok {
			n++
		}
	}
	return n
}

// readAnything reports whether any verify step read an instance or a
// shared component.
func readAnything(r ScalingReadings) bool {
	for _, s := range r.Steps {
		if len(s.Instances) > 0 {
			return true
		}
		for _, v := range []float64{s.HostBusy, s.HostCores, s.DBCPU, s.PoolWait, s.PoolWaitS, s.PoolSize} {
			if !math.IsNaN(v) {
				return true
			}
		}
	}
	return false
}
