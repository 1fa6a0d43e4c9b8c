package correlate

import (
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Input is what correlation needs from a run or a study: the latency seen
// by the load generator over time, the slow requests' trace IDs, the SLO
// and where the service's telemetry lives. Fill Seconds for a run, Steps
// for a study (or both: Steps then decide the window).
type Input struct {
	Seconds   []Point    // a run's per-second windows, all requests merged, in time order
	Steps     []Step     // a study's steps, in the order they ran
	Exemplars []Exemplar // the slowest requests' trace IDs, as the generator recorded them
	SLOP99Ms  float64    // the p99 SLO in milliseconds; 0: degradation is p99 doubling against the baseline
	TargetRPS float64    // the rate recommendations size for; 0: the rate of the degraded window
	Observe   plan.Observe
	Options   Options
}

// Point is one second of a run.
type Point struct {
	At        time.Time // start of the second
	Rate      float64   // requests completed per second
	P99Ms     float64   // p99 latency in milliseconds
	ErrorRate float64   // fraction of requests that failed
	Requests  int64     // requests completed in the second
}

// Step is one rate level of a capacity study, warm-up excluded.
type Step struct {
	Start, End time.Time
	Offered    float64 // offered rate per second
	Achieved   float64 // achieved throughput per second
	P99Ms      float64
	ErrorRate  float64 // fraction
	InFlight   float64 // mean concurrency
}

// Exemplar is one slow request the generator recorded with its trace ID.
type Exemplar struct {
	TraceID   string // 32 hex digits
	At        time.Time
	LatencyMs float64
	Name      string // request name
}

// Options tune correlation; the zero value means the documented defaults.
type Options struct {
	Margin      time.Duration // window starts this long before the onset; default 10s
	Baseline    time.Duration // longest baseline window; default 60s
	Step        time.Duration // Prometheus query step; default: the scrape interval measured from up (1s when it cannot be)
	Timeout     time.Duration // per HTTP call to Prometheus or Tempo; default 10s
	MaxTraces   int           // traces fetched per window; default 20
	Utilisation float64       // target utilisation for sizing; default 0.65
}

func (o Options) withDefaults() Options {
	if o.Margin <= 0 {
		o.Margin = 10 * time.Second
	}
	if o.Baseline <= 0 {
		o.Baseline = 60 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxTraces <= 0 {
		o.MaxTraces = 20
	}
	if o.Utilisation <= 0 || o.Utilisation > 1 {
		o.Utilisation = 0.65
	}
	return o
}
