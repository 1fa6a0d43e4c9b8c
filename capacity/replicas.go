package capacity

import (
	"context"
	"time"
)

// ReplicaSample is the autoscaler's state at one instant: the replicas it
// wants and those serving.
type ReplicaSample struct {
	At      time.Time `json:"t"`
	Desired float64   `json:"desired"`
	Serving float64   `json:"serving"`
}

// Replicas reads an autoscaler's replica counts over a span (from
// Prometheus, in the pipeline). A nil Replicas means there is no
// autoscaler to watch.
type Replicas interface {
	Replicas(ctx context.Context, from, to time.Time) ([]ReplicaSample, error)
}

// ScaleReaction is what an autoscaler did around a jump of load.
type ScaleReaction struct {
	Before      float64         `json:"before"`              // serving replicas when the jump began
	Most        float64         `json:"most"`                // most serving during the span
	MostDesired float64         `json:"most_desired"`        // most wanted during the span
	DecidedS    *float64        `json:"decided_s,omitempty"` // seconds from the jump to the first rise of desired replicas
	ServingS    *float64        `json:"serving_s,omitempty"` // seconds from the jump to the first rise of serving replicas
	Samples     []ReplicaSample `json:"samples,omitempty"`   // what was read, for charts
	Note        string          `json:"note,omitempty"`      // why it could not be read
}

// reaction reads samples around a jump at `at`.
func reaction(samples []ReplicaSample, at time.Time) ScaleReaction {
	r := ScaleReaction{Samples: samples}
	if len(samples) == 0 {
		r.Note = "no replica samples"
		return r
	}
	before := samples[0]
	for _, s := range samples {
		if s.At.After(at) {
			break
		}
		before = s
	}
	r.Before = before.Serving
	for _, s := range samples {
		r.Most = max(r.Most, s.Serving)
		r.MostDesired = max(r.MostDesired, s.Desired)
		if !s.At.After(at) {
			continue
		}
		d := s.At.Sub(at).Seconds()
		if r.DecidedS == nil && s.Desired > before.Desired {
			r.DecidedS = &d
		}
		if r.ServingS == nil && s.Serving > before.Serving {
			r.ServingS = &d
		}
	}
	return r
}
