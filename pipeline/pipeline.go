package pipeline

import (
	"context"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/profiles"
	"github.com/headroom-sre/headroom/soak"
)

// Kind is the kind of a document or job: a run or a study.
type Kind string

// The kinds.
const (
	KindRun   Kind = "run"
	KindStudy Kind = "study"
)

// Outcome is how a finished run or study ended; a job's status.
type Outcome string

// The outcomes.
const (
	// Passed: a run met every objective; a study completed (and reached
	// capacity.required_rps when the plan requires one).
	Passed Outcome = "passed"
	// Failed: a run broke an objective; a study could not finish or did
	// not reach capacity.required_rps.
	Failed Outcome = "failed"
	// Aborted: the plan's abort rules stopped a run.
	Aborted Outcome = "aborted"
	// Cancelled: the caller's context ended it; the result is partial.
	Cancelled Outcome = "cancelled"
)

// Settings are what a caller chooses beyond the plan: plain values, as a
// job row stores them. Zero values keep the plan's own settings.
type Settings struct {
	BaseURL      string        `json:"base_url,omitempty"`      // load goes here instead of target.base_url (study: the single instance)
	VerifyURL    string        `json:"verify_url,omitempty"`    // study: N instances behind a balancer (overrides capacity.verify_url)
	Instances    int           `json:"instances,omitempty"`     // study: extrapolate to this many instances (overrides capacity.instances)
	StepDuration time.Duration `json:"step_duration,omitempty"` // study: length of each step (overrides capacity.step_duration), at least 1s
	MaxRate      float64       `json:"max_rate,omitempty"`      // a cap in iterations/s on top of abort.max_rate: the lower one holds
	NoCorrelate  bool          `json:"no_correlate,omitempty"`  // read nothing from the plan's Prometheus and trace store
	// Agents is how many `headroom agent` processes send the load (the
	// caller's Hooks.Engine runs it on them); 0 sends it from here.
	Agents int `json:"agents,omitempty"`
}

// Engine sends one load and measures it: generator.Run, or a fleet of
// agents that answers the same way (merged seconds to opts.OnSecond, the
// fleet's Result).
type Engine func(ctx context.Context, p *plan.Plan, opts generator.Options) (*generator.Result, error)

// Hooks are callbacks told about a run or study as it goes; nil ones are
// skipped. Each is called from one goroutine at a time, in order; a hook
// that blocks holds up the load, so it should hand off and return.
type Hooks struct {
	OnWindow func(Window)         // every closed second (of a run, and of every step of a study)
	OnEvent  func(capacity.Event) // a study's step starts and ends, cool-downs, stress
	OnStep   func(capacity.Step)  // each finished step of a study (search, verify)
	OnPhase  func(phase string)   // PhaseRun, the study's phases, PhaseCorrelate, as each begins
	Warn     func(msg string)     // one-time warnings of the generator
	// OnProfile gets each pprof profile a study fetched (observe.pprof),
	// with the step it covers, as the step ends.
	OnProfile func(profiles.Kept)

	// Engine sends the load; nil is generator.Run on this machine. A
	// server running a job on agents passes its fleet's.
	Engine Engine

	// OnMeasured gets a run's result as soon as its load has ended and its
	// objectives are checked (Outcome, SLO and the windows are final),
	// before the findings are read, so a caller can print the numbers
	// while correlation, which may take seconds, runs. Findings and
	// Correlation are filled in after it returns: read them from what Run
	// returns, and do not keep r for another goroutine.
	OnMeasured func(r *RunResult)
	// OnStudyMeasured is OnMeasured for a study: the study's steps,
	// capacity and Outcome are final, its findings still to come.
	OnStudyMeasured func(r *StudyResult)

	// LookupEnv reads the variable observe.database.dsn_env names: the
	// DSN correlation explains slow statements with, handed to correlate
	// and never stored. nil uses os.LookupEnv. Which variable a plan may
	// name is the plan rules' decision when it is parsed (a server's
	// --plan-env).
	LookupEnv func(name string) (string, bool)
}

// Phases the pipeline itself names; a study's steps use capacity's
// (capacity.PhaseExplore, …).
const (
	PhaseRun       = "run"
	PhaseCorrelate = "correlate"
)

// Window is one closed second with the phase and step it belongs to.
type Window struct {
	Phase string `json:"phase"`
	// Step is the capacity.Step.Index of the step the second belongs to
	// (with Phase, it finds the step); a cool-down's is the step it
	// follows, stress's the index after the last step; 0 for a run.
	Step int `json:"step,omitempty"`
	generator.SecondRecord
}

// SLOResult is one objective checked against a run.
type SLOResult struct {
	Name      string  `json:"name"`
	Threshold string  `json:"threshold"`
	Value     float64 `json:"value"` // in Unit; 0 with a Note when nothing was measured
	Unit      string  `json:"unit"`  // ms, ratio, req/s, requests
	Pass      bool    `json:"pass"`
	Note      string  `json:"note,omitempty"`
}

// RunResult is run.json: a run's measurements, its objectives checked and
// its findings.
type RunResult struct {
	Kind    Kind    `json:"kind"` // KindRun
	Plan    string  `json:"plan"`
	Outcome Outcome `json:"outcome"`
	*generator.Result
	SLO         []SLOResult         `json:"slo"`
	Findings    []correlate.Finding `json:"findings"`
	Correlation *correlate.Report   `json:"correlation,omitempty"`
	Soak        *soak.Result        `json:"soak,omitempty"`  // the trends of a soak (a plan with soak:)
	Spike       *capacity.Spike     `json:"spike,omitempty"` // a spike's errors, p99 and recovery (a plan with spike:)
}

// StudyResult is study.json: a capacity study, every second it sent, and
// its findings.
type StudyResult struct {
	Kind    Kind    `json:"kind"` // KindStudy
	Outcome Outcome `json:"outcome"`
	*capacity.Study
	Windows     []Window             `json:"windows"` // every second of every step, in order
	Findings    []correlate.Finding  `json:"findings"`
	Correlation *correlate.Report    `json:"correlation,omitempty"`
	Assess      *capacity.Assessment `json:"assess,omitempty"`   // the recommendation checked against an autoscaled fleet (capacity.assess_url)
	Profiles    []ProfileFile        `json:"profiles,omitempty"` // the pprof profiles kept as files beside the document (headroom capacity)
}

// Artifact is a decoded run.json or study.json: Run or Study is set, as
// Kind says.
type Artifact struct {
	Kind  Kind
	Run   *RunResult
	Study *StudyResult
}
