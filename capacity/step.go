package capacity

import (
	"time"

	"github.com/headroom-sre/headroom/generator"
)

// Phase is a part of a study, as steps and progress events name it.
type Phase string

// Phases of a study.
const (
	PhaseBaseline Phase = "baseline"
	PhaseExplore  Phase = "explore" // doubling
	PhaseSearch   Phase = "search"  // binary search inside the bracket
	PhaseCooldown Phase = "cooldown"
	PhaseVerify   Phase = "verify"
	PhaseStress   Phase = "stress"
)

// LimitedBy says what stopped a search short of an unacceptable rate,
// making its capacity a lower bound.
type LimitedBy string

// What can limit a search.
const (
	LimitedByMaxRate   LimitedBy = "max_rate"  // acceptable at abort.max_rate
	LimitedByGenerator LimitedBy = "generator" // the generator could not offer more
	LimitedByMaxSteps  LimitedBy = "max_steps" // the step budget ran out
)

// Step is one rate level of a search, summarised over its measured part
// (warm-up excluded).
type Step struct {
	Index      int                  `json:"index"` // 1-based, in the order run
	Phase      Phase                `json:"phase"`
	URL        string               `json:"url,omitempty"`
	Rate       float64              `json:"rate"`       // iterations/s asked for
	Offered    float64              `json:"offered"`    // iterations/s the generator scheduled
	Achieved   float64              `json:"achieved"`   // iterations/s it started
	Throughput float64              `json:"throughput"` // requests/s completed (X)
	Goodput    float64              `json:"goodput"`    // requests/s completed without error
	Latency    Latency              `json:"latency_ms"`
	ErrorRate  float64              `json:"error_rate"`
	Dropped    float64              `json:"dropped_rate"`
	InFlight   float64              `json:"in_flight"`          // mean concurrency the generator saw
	Busy       float64              `json:"busy_vus,omitempty"` // mean virtual users inside an iteration, think time included
	LittlesL   float64              `json:"littles_l"`          // X × W: the concurrency Little's Law expects
	Seconds    float64              `json:"measured_s"`         // length of the measured part
	Elapsed    float64              `json:"elapsed_s"`          // whole step, warm-up included
	Start      time.Time            `json:"start"`              // wall-clock span of the measured part
	End        time.Time            `json:"end"`
	Exemplars  []generator.Exemplar `json:"exemplars,omitempty"` // the slowest requests, with their trace IDs
	Stopped    bool                 `json:"stopped_early,omitempty"`
	// WarmupOnly: the step was stopped within its warm-up, and its figures
	// are the warm-up's (the seconds that stopped it included).
	WarmupOnly bool     `json:"warmup_only,omitempty"`
	Verdict    Verdict  `json:"verdict"`
	Reasons    []string `json:"reasons,omitempty"`

	// Steadiness says whether the step held one level of concurrency, as a
	// USL point must; nil in documents written before it was recorded.
	Steadiness *Steadiness `json:"steadiness,omitempty"`
}

// newStep records a summary under its verdict.
func newStep(phase Phase, url string, rate float64, s Summary, v Verdict, reasons []string) Step {
	return Step{
		Phase:      phase,
		URL:        url,
		Rate:       rate,
		Offered:    s.Offered,
		Achieved:   s.Achieved,
		Throughput: s.Throughput,
		Goodput:    s.Goodput,
		Latency:    s.Latency,
		ErrorRate:  s.ErrorRate(),
		Dropped:    s.DroppedRate(),
		InFlight:   s.InFlight,
		Busy:       s.Busy,
		LittlesL:   s.Throughput * s.Latency.Mean / 1000,
		Seconds:    s.Seconds,
		Elapsed:    s.Elapsed.Seconds(),
		Start:      s.Start,
		End:        s.End,
		Exemplars:  s.Exemplars,
		Stopped:    s.Stopped,
		WarmupOnly: s.WarmupOnly,
		Verdict:    v,
		Reasons:    reasons,
	}
}
