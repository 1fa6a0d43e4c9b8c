package generator

import (
	"encoding/hex"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Second is one closed window of a run, one second long except the last,
// which lasts from minWindow (250 ms) to 1.25 s: all requests combined and
// per request name. Rates come from its Duration (RequestRate,
// IterationRate), never from its counts alone.
type Second struct {
	Start      time.Time
	Duration   time.Duration // how long the window lasted
	Total      Window        // all requests of the second
	ByName     []Window      // one per request name seen in the second, sorted by name
	Offered    float64       // target rate/VUs of the profile at this second
	Iterations int64         // iterations started
	Dropped    int64         // iterations dropped (open model: no free VU)
	InFlight   float64       // mean in-flight requests (sampled ~every 10 ms)
	Busy       float64       // mean virtual users inside an iteration, think time included (sampled with InFlight)
	VUs        int           // active virtual users at the end of the second
}

// RequestRate is the window's requests per second over its real duration.
func (s Second) RequestRate() float64 { return perSecond(s.Total.Requests, s.Duration) }

// IterationRate is the window's iterations started per second over its real
// duration.
func (s Second) IterationRate() float64 { return perSecond(s.Iterations, s.Duration) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Window holds one second's outcomes of one request name (or of all).
type Window struct {
	Name      string
	Requests  int64
	Errors    int64
	Bytes     int64                   // response bytes received
	Classes   map[string]int64        // error classes: timeout, connect_refused, reset, status_4xx, status_5xx, check_failed, redirect_blocked, data_exhausted, tls, other; and cancelled, requests the run cut off, which are in neither Requests nor Errors
	Latency   Latency                 // ms
	Hist      *hdrhistogram.Histogram `json:"-"` // µs, 1 µs – 1 h, 3 significant digits; valid only inside OnSecond
	Exemplars []Exemplar              // the slowest few (≤5) requests of this window with their trace IDs
}

// Latency are latency statistics in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Exemplar is one slow request with the trace ID it carried.
type Exemplar struct {
	TraceID   string    `json:"trace_id"`
	Name      string    `json:"name"`
	LatencyMs float64   `json:"duration_ms"` // how long it took
	Status    int       `json:"status,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}

// LatencyOf summarises a µs histogram in milliseconds; nil or empty gives zeros.
func LatencyOf(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	q := h.ValueAtPercentiles([]float64{50, 90, 95, 99})
	return Latency{
		P50:  ms(q[50]),
		P90:  ms(q[90]),
		P95:  ms(q[95]),
		P99:  ms(q[99]),
		Max:  ms(h.Max()),
		Mean: h.Mean() / 1000,
	}
}

func ms(us int64) float64 { return float64(us) / 1000 }

// window builds the public view of a tally; it shares the tally's histogram.
func (t *tally) window(name string, names []string) Window {
	w := Window{
		Name:     name,
		Requests: t.requests,
		Errors:   t.errors,
		Bytes:    t.bytes,
		Classes:  classCounts(&t.classes),
		Latency:  LatencyOf(t.hist),
		Hist:     t.hist,
	}
	w.Exemplars = t.ex.export(name, names)
	return w
}

// export turns the kept exemplars into public values, slowest first, named
// from names by their index (name when the index is out of range).
func (x *exemplars) export(name string, names []string) []Exemplar {
	if x.n == 0 {
		return nil
	}
	out := make([]Exemplar, 0, x.n)
	for i := 0; i < x.n; i++ {
		e := x.e[i]
		n := name
		if e.name >= 0 && e.name < len(names) {
			n = names[e.name]
		}
		out = append(out, Exemplar{
			TraceID:   hex.EncodeToString(e.trace[:]),
			Name:      n,
			LatencyMs: ms(e.us),
			Status:    e.status,
			Error:     e.class.String(),
			At:        time.Unix(0, e.at),
		})
	}
	for i := 1; i < len(out); i++ { // insertion sort, at most 5 entries
		for j := i; j > 0 && out[j].LatencyMs > out[j-1].LatencyMs; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
