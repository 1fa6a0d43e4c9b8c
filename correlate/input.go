package correlate

import (
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// Input is what correlation needs from a run or a study: the latency seen
// by the load generator over time, the slow requests' trace IDs, the SLO
// and where the service's telemetry lives. Fill Seconds for a run, Steps
// for a study (or both: Steps then decide the window).
type Input struct {
	Seconds   []Point     // a run's per-second windows, all requests merged, in time order
	Steps     []Step      // a study's steps, in the order they ran
	Exemplars []Exemplar  // the slowest requests' trace IDs, as the generator recorded them
	Kept      []KeptTrace // traces kept while the study ran (TraceKeeper), read before the trace store
	SLOP99Ms  float64     // the p99 SLO in milliseconds; 0: degradation is p99 doubling against the baseline
	TargetRPS float64     // the rate recommendations size for; 0: the rate of the degraded window
	Fleet     *Fleet      // the study's recommendation: instance counts findings agree with; nil for a run
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
	Phase      capacity.Phase // baseline, explore, search, verify, stress; "" when not known
	Index      int            // the study's step index (1-based); 0 when not known
	Offered    float64        // offered rate per second
	Achieved   float64        // achieved throughput per second
	P99Ms      float64
	ErrorRate  float64 // fraction
	InFlight   float64 // mean concurrency
	// Verdict is the study's judgement of the step; "" leaves it to the
	// p99 against the SLO (or doubling). An unacceptable step is degraded
	// evidence, an acceptable one can be the baseline, a generator-limited
	// one is neither.
	Verdict capacity.Verdict
	// Cut marks a step stopped before its warm-up ended: nothing was
	// measured (no p99 or throughput), yet its span was overload.
	Cut bool
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
	Utilisation float64       // target utilisation for sizing: the plan's capacity.autoscale_at; default 0.65
}

// defaultUtilisation is plan's default capacity.autoscale_at, for inputs
// without a plan.
const defaultUtilisation = 0.65

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
		o.Utilisation = defaultUtilisation
	}
	return o
}

// Fleet is what a study recommends, so a finding's instance counts are the
// study's: the autoscaling threshold per instance and the instance counts
// for the business's sustained and peak rates (requests per second).
type Fleet struct {
	AutoscaleRPS float64
	SustainedRPS float64
	PeakRPS      float64
	MinInstances int
	MaxInstances int
}
