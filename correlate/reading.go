package correlate

import (
	"time"

	"github.com/headroom-sre/headroom/capacity"
)

// Reading is one signal measured over the baseline and degraded windows.
type Reading struct {
	Signal      string          `json:"signal"`
	Title       string          `json:"title"`
	Unit        string          `json:"unit,omitempty"`
	Resource    string          `json:"resource,omitempty"`
	Available   bool            `json:"available"`
	Reason      string          `json:"reason,omitempty"` // why it is not available
	Query       string          `json:"query,omitempty"`  // the PromQL that answered
	Baseline    float64         `json:"baseline"`         // mean over the baseline window
	Degraded    float64         `json:"degraded"`         // mean over the degraded window
	Peak        float64         `json:"peak"`             // highest value in the degraded window
	HasBaseline bool            `json:"has_baseline"`
	LeadSeconds *float64        `json:"lead_seconds,omitempty"` // how long its move came before the latency knee (negative: after; 0: with it, as far as the data resolves)
	MovedAt     *time.Time      `json:"moved_at,omitempty"`     // when it crossed halfway from baseline to degraded and stayed
	ResolutionS float64         `json:"resolution_s,omitempty"` // seconds between its samples (the scrape interval)
	Pearson     *float64        `json:"pearson,omitempty"`      // correlation with p99 across steps (or seconds)
	Context     map[string]Pair `json:"context,omitempty"`      // related values, by Aux name
	// Fit is the signal against throughput across the steps: its cost per
	// request (the slope of a least-squares line) with R²; nil for a run
	// or fewer than three steps that measured throughput.
	Fit *Fit `json:"fit,omitempty"`
	// Flags say where a sample was physically impossible (a rate read from
	// counters above the cores it may use) and what was done about it.
	Flags []string `json:"flags,omitempty"`
	// Samples are the signal's samples from the first step's start to the
	// last's end (a run: its whole span), on the latency's time axis.
	Samples []Sample `json:"samples,omitempty"`
	// Steps are the signal's mean level over each step's measured part:
	// the signal against load. Empty for a run.
	Steps []StepLevel `json:"steps,omitempty"`
}

// StepLevel is a signal's mean over one step's measured part.
type StepLevel struct {
	Phase         capacity.Phase `json:"phase"`
	Index         int            `json:"index"`
	OfferedRPS    float64        `json:"offered_rps"`
	ThroughputRPS float64        `json:"throughput_rps"`
	Level         float64        `json:"level"`
	Acceptable    bool           `json:"acceptable"`
}

// Fit is a least-squares line of a signal's step levels against the
// steps' throughput: Level ≈ Intercept + PerRequest × throughput.
type Fit struct {
	PerRequest float64 `json:"per_request"` // the signal's unit per (request/s): cores → CPU seconds a request
	Intercept  float64 `json:"intercept"`   // the level at no load
	R2         float64 `json:"r2"`
	Steps      int     `json:"steps"` // steps fitted
}

// Pair is a value over the baseline and the degraded window.
type Pair struct {
	Baseline float64 `json:"baseline"` // mean of the baseline's samples (a setting such as a limit: their median, the value in force)
	Degraded float64 `json:"degraded"` // mean of the degraded steps' samples (a setting: their median)
	Peak     float64 `json:"peak"`     // highest sample in the degraded window
	Query    string  `json:"query"`
	Fit      *Fit    `json:"fit,omitempty"` // against throughput across the steps
}
