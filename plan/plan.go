package plan

import (
	"time"
)

// Plan is one parsed and validated plan file (format version 1). Field
// names follow the YAML keys of the reference plan; the zero value of an
// optional field means "not set" unless its comment says otherwise.
type Plan struct {
	Version     int
	Name        string
	Description string

	Target     Target
	SLO        SLO
	Thresholds []Threshold
	Load       Load
	Data       map[string]DataSource // data.<name>: one row per virtual user
	Journeys   []Journey
	Abort      Abort
	Observe    Observe
	Capacity   Capacity
	Business   Business
	Soak       Soak  // soak: makes `headroom run` a soak; zero: none
	Spike      Spike // spike: a sudden jump of load; zero: none

	// File is the path the plan was read from ("" when parsed from bytes);
	// relative data files are resolved against its directory.
	File string
	// Sandbox bounds the data files a shared server reads for this plan
	// (set by ParseWith under Rules.Shared); nil reads them as given.
	Sandbox *Files
}

// Target is the system under test.
type Target struct {
	BaseURL     string            // target.base_url
	Environment string            // target.environment, free text
	Allow       []string          // target.allow; defaults to the base URL's host
	Timeout     time.Duration     // target.timeout; default 10s
	Headers     map[string]string // target.headers, sent with every request
	Env         []string          // target.env: environment variables templates may read
	MaxConns    int               // target.max_conns: connections per host; 0 = unlimited
	Insecure    bool              // target.insecure_tls: skip TLS verification
	CAPEM       string            // target.ca_pem: PEM CA certificates trusted besides the system's roots
}

// SLO holds the service level objectives; a zero duration means unset.
type SLO struct {
	P50, P95, P99, Max time.Duration
	ErrorRate          *float64 // fraction, 0.01 for 1%; nil when unset
	MinThroughput      float64  // requests per second; 0 when unset
}

// Threshold is one k6-style threshold, e.g. http_req_duration: "p(99)<400ms".
type Threshold struct {
	Metric string  // http_req_duration, http_req_failed, http_reqs
	Stat   string  // "p(99)", "avg", "max", "med", "rate", "count"
	Op     string  // "<", "<=", ">", ">="
	Value  float64 // milliseconds for durations, a fraction for rates, per second for http_reqs rate
	Text   string  // as written
	Line   int

	// AbortOnFail stops the run as soon as the threshold fails, after
	// DelayAbortEval from the start (k6's object form:
	// { threshold: "p(99)<1s", abortOnFail: true, delayAbortEval: 10s }).
	AbortOnFail    bool
	DelayAbortEval time.Duration
}

// Load is the load profile.
type Load struct {
	Model  Model   // ModelOpen (iterations/s) or ModelClosed (virtual users)
	MaxVUs int     // open model: concurrent iterations at most; default 1000
	Start  float64 // load.start: target at time zero (default 0)
	Stages []Stage
}

// Model is how load is generated, as load.model names it.
type Model string

// The load models.
const (
	ModelOpen   Model = "open"   // iterations are scheduled at a rate, whatever the service's answers
	ModelClosed Model = "closed" // virtual users each run one iteration after another
)

// Stage ramps linearly from the previous target to Target over Duration.
type Stage struct {
	Duration time.Duration
	Target   float64
}

// DataSource is a data file; each virtual user takes its own row.
type DataSource struct {
	CSV string // path, relative to the plan file
}

// Journey is a weighted sequence of steps one user performs.
type Journey struct {
	Name   string
	Weight int // default 1
	Steps  []Step
}

// Step is one request, or (when Method is "") a pause of Think.
type Step struct {
	Name    string
	Method  string // GET, POST, ... ("" for a think-only step)
	Path    string // template; relative to target.base_url, or absolute
	Headers map[string]string
	Query   map[string]string
	JSON    any               // body as a YAML value (maps, lists, strings, numbers); templates in strings
	Form    map[string]string // form body
	Body    string            // raw body template
	Timeout time.Duration     // 0: target.timeout
	Think   Range             // pause after this step (or alone)
	Chance  float64           // probability the step runs; default 1
	Extract []Extraction      // in file order
	Expect  Expect
	Line    int
}

// Extraction copies a gjson-style path of the JSON response into vars.<Var>.
type Extraction struct {
	Var  string
	Path string
}

// Expect are the checks of a step; a step with none expects a status < 400.
type Expect struct {
	Status   []int             // any of these
	JSON     map[string]string // path → "exists" or the expected value as text
	Contains string            // the body contains this text
}

// Range is a duration picked uniformly between Min and Max.
type Range struct {
	Min, Max time.Duration
}

// Abort are the blast-radius limits.
type Abort struct {
	ErrorRate *float64      // fraction; nil when unset
	For       time.Duration // how long a condition must hold; default 10s
	MaxRate   float64       // never offer more than this per second; 0 = no cap
	P99       time.Duration // stop when p99 stays above this for For
}

// Observe says where the SUT's telemetry lives.
type Observe struct {
	Prometheus string
	Selector   string
	Tempo      string // Tempo's HTTP API (trace by ID, TraceQL search)
	Jaeger     string // Jaeger's query API, used instead of Tempo when set
	Service    string
	Grafana    string
	Signals    map[string]string
	// Components are the parts of the system beside the service
	// (observe.components); Database lets correlation EXPLAIN statements
	// (observe.database; nil when absent). See components.go.
	Components []Component
	Database   *Database
	// Pprof is the service's Go profiles base URL
	// (http://host:port/debug/pprof): the study profiles the baseline and
	// the degraded steps there.
	Pprof string
}

// Capacity configures `headroom capacity`.
type Capacity struct {
	StartRate    float64       // default 10
	StepDuration time.Duration // default 30s
	Warmup       float64       // fraction of each step; default 0.2
	Precision    float64       // fraction; default 0.05
	Cooldown     time.Duration // default 10s
	Instances    int           // default 3
	VerifyURL    string
	StressFactor float64 // default 1.5
	AutoscaleAt  float64 // fraction; default 0.65
	RequiredRPS  float64 // 0 = none
	AssessURL    string  // capacity.assess_url: the autoscaled fleet Assess climbs against; "" skips Assess
}

// Business holds the Partner step's inputs.
type Business struct {
	ActiveUsers              float64
	RequestsPerUserPerMinute float64
	PeakFactor               float64
	LaunchMultiplier         float64 // default 2
	HAMinInstances           int     // default 3
}
