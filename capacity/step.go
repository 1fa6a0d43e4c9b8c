package capacity

import (
	"time"

	"github.com/headroom-sre/headroom/generator"
)

// Phases of a study, as steps and progress events name them.
const (
	PhaseBaseline = "baseline"
	PhaseExplore  = "explore" // doubling
	PhaseSearch   = "search"  // binary search inside the bracket
	PhaseCooldown = "cooldown"
	PhaseVerify   = "verify"
	PhaseStress   = "stress"
)

// Step is one rate level of a search, summarised over its measured part
// (warm-up excluded).
type Step struct {
	Index      int                  `json:"index"` // 1-based, in the order run
	Phase      string               `json:"phase"`
	URL        string               `json:"url,omitempty"`
	Rate       float64              `json:"rate"`       // iterations/s asked for
	Offered    float64              `json:"offered"`    // iterations/s the generator scheduled
	Achieved   float64              `json:"achieved"`   // iterations/s it started
	Throughput float64              `json:"throughput"` // requests/s completed (X)
	Goodput    float64              `json:"goodput"`    // requests/s completed without error
	Latency    Latency              `json:"latency_ms"`
	ErrorRate  float64              `json:"error_rate"`
	Dropped    float64              `json:"dropped_rate"`
	InFlight   float64              `json:"in_flight"`  // mean concurrency the generator saw
	LittlesL   float64              `json:"littles_l"`  // X × W: the concurrency Little's Law expects
	Seconds    float64              `json:"measured_s"` // length of the measured part
	Elapsed    float64              `json:"elapsed_s"`  // whole step, warm-up included
	Start      time.Time            `json:"start"`      // wall-clock span of the measured part
	End        time.Time            `json:"end"`
	Exemplars  []generator.Exemplar `json:"exemplars,omitempty"` // the slowest requests, with their trace IDs
	Stopped    bool                 `json:"stopped_early,omitempty"`
	Verdict    Verdict              `json:"verdict"`
	Reasons    []string             `json:"reasons,omitempty"`
}

// newStep records a summary under its verdict.
func newStep(phase, url string, rate float64, s Summary, v Verdict, reasons []string) Step {
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
		LittlesL:   s.Throughput * s.Latency.Mean / 1000,
		Seconds:    s.Seconds,
		Elapsed:    s.Elapsed.Seconds(),
		Start:      s.Start,
		End:        s.End,
		Exemplars:  s.Exemplars,
		Stopped:    s.Stopped,
		Verdict:    v,
		Reasons:    reasons,
	}
}
