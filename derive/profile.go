package derive

import (
	"time"
)

// Profile is what a source says about production traffic: the request
// mix by route, the journeys, the think times and the rates.
type Profile struct {
	Source   string    // what was read, for comments ("access.log (nginx combined)")
	Requests int64     // requests counted
	Skipped  int64     // lines that held no request (bad lines are errors, not skipped)
	First    time.Time // earliest request
	Last     time.Time // latest request

	Routes   []Route   // by count, most first
	Journeys []Journey // by count, most first
	Sessions int64     // sessions rebuilt
	// SessionRequests is the number of requests in those sessions (all of
	// them; a session's path is cut at MaxJourneySteps for its journey).
	SessionRequests int64
	// SessionSeconds is the summed length of the sessions (first to last
	// request), for requests per user per minute.
	SessionSeconds float64
	// Think is the distribution of pauses between one request of a session
	// and the next, over all routes.
	Think Dist
	Rates Rates
	// OtherRoutes counts requests beyond MaxRoutes distinct routes, folded
	// into no route.
	OtherRoutes int64
	// NoRoute counts well-formed lines whose request names no route ("-",
	// a TLS handshake on a plain port, "OPTIONS *"); they are not requests.
	NoRoute int64
	// OtherJourneys counts sessions whose path was dropped from the
	// journey table to keep it bounded (rare paths).
	OtherJourneys int64
}

// Route is one method and route template with what was seen of it.
type Route struct {
	Method   string
	Template string
	Count    int64
	Statuses map[int]int64
	Think    Dist    // pause after this route before the session's next request
	Params   []Param // one per placeholder of Template, in order
	Query    []Query // query parameters seen, most frequent first
	Example  string  // one path as requested (query dropped)
}

// Key is "METHOD /template".
func (r Route) Key() string { return r.Method + " " + r.Template }

// Param is what one placeholder of a route held.
type Param struct {
	Kind     string // ParamID, ParamUUID, ...
	Min, Max int64  // for ParamID: the smallest and largest number seen
	Example  string
}

// Query is one query parameter of a route.
type Query struct {
	Name     string
	Count    int64
	Numeric  bool  // every value was a number
	Min, Max int64 // when Numeric
	Example  string
}

// Journey is one session path: the routes a client requested in order.
type Journey struct {
	Steps []string // route keys
	Count int64    // sessions that followed exactly this path
}

// Dist summarises a distribution of durations.
type Dist struct {
	Count              int64
	P10, P25, P50, P75 time.Duration
	P90, P99, Max      time.Duration
	Mean               time.Duration
}

// Rates are the request rates over the log's span, in requests per second.
type Rates struct {
	Mean       float64   // requests / span
	PeakSecond float64   // the busiest second's count
	PeakAt     time.Time // when it began
	PeakMinute float64   // the busiest minute's count / 60
	PeakMinAt  time.Time
	// Minute percentiles of the per-minute rate (req/s), over the whole
	// minutes of the span (empty minutes count as 0).
	P50, P90, P95, P99 float64
	Minutes            int // whole minutes in the span
	// SessionsPerSecond is sessions started / span: the open model's
	// iteration rate at the mean.
	SessionsPerSecond float64
}

// Span is the log's length from the first request to the last.
func (p *Profile) Span() time.Duration { return p.Last.Sub(p.First) }

// Share is route r's fraction of the counted requests.
func (p *Profile) Share(r Route) float64 {
	if p.Requests == 0 {
		return 0
	}
	return float64(r.Count) / float64(p.Requests)
}
