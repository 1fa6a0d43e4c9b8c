package generator

import (
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/plan"
)

// Summary sums up a whole run, overall or for one request name.
type Summary struct {
	Name              string           `json:"name,omitempty"`
	Requests          int64            `json:"requests"`
	Errors            int64            `json:"errors"`
	ErrorRate         float64          `json:"error_rate"`
	ThroughputRPS     float64          `json:"throughput_rps"`
	Latency           Latency          `json:"latency_ms"`
	Iterations        int64            `json:"iterations"`
	DroppedIterations int64            `json:"dropped_iterations"`
	Bytes             int64            `json:"bytes"`
	Classes           map[string]int64 `json:"classes,omitempty"`
}

// SecondRecord is the compact, kept form of one Second: no live
// histograms, but the Total histogram in hdrhistogram's compressed V2
// encoding (base64), so later tools can merge windows exactly.
type SecondRecord struct {
	Start      time.Time        `json:"start"`
	DurationS  float64          `json:"duration_s"` // 1 but for the last window (0.25–1.25)
	Offered    float64          `json:"offered"`
	Requests   int64            `json:"requests"`
	Errors     int64            `json:"errors"`
	Bytes      int64            `json:"bytes"`
	Iterations int64            `json:"iterations"`
	Dropped    int64            `json:"dropped"`
	InFlight   float64          `json:"in_flight"`
	VUs        int              `json:"vus"`
	Busy       float64          `json:"busy_vus,omitempty"` // mean virtual users inside an iteration
	Latency    Latency          `json:"latency_ms"`
	Classes    map[string]int64 `json:"classes,omitempty"`
	ByName     []NameRecord     `json:"by_name,omitempty"`
	Exemplars  []Exemplar       `json:"exemplars,omitempty"`
	HDR        string           `json:"hdr,omitempty"`
}

// NameRecord is one request name's figures inside a SecondRecord, with
// its own histogram in the same encoding as SecondRecord.HDR, so
// percentiles per name can be recomputed exactly for any span of seconds.
type NameRecord struct {
	Name     string  `json:"name"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Latency  Latency `json:"latency_ms"`
	HDR      string  `json:"hdr,omitempty"`
}

// Histogram decodes the name's histogram; a record without one gives an
// empty histogram.
func (r NameRecord) Histogram() (*hdrhistogram.Histogram, error) {
	return decodeHDR(r.HDR, r.Name)
}

// Histogram decodes the record's Total histogram; an empty record gives an
// empty histogram.
func (r SecondRecord) Histogram() (*hdrhistogram.Histogram, error) {
	h, err := decodeHDR(r.HDR, "")
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", r.Start.Format(time.RFC3339), err)
	}
	return h, nil
}

func decodeHDR(enc, name string) (*hdrhistogram.Histogram, error) {
	if enc == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		if name != "" {
			return nil, fmt.Errorf("%s: hdr: %w", name, err)
		}
		return nil, fmt.Errorf("hdr: %w", err)
	}
	return h, nil
}

// encodeHDR is h in hdrhistogram's compressed V2 encoding; "" when h is
// nil or empty.
func encodeHDR(h *hdrhistogram.Histogram) string {
	if h == nil || h.TotalCount() == 0 {
		return ""
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return ""
	}
	return string(enc)
}

// Record compacts a Second into the form a Result keeps: the same counts,
// and its histograms (overall and per name) encoded, so the record stays
// valid after OnSecond returns.
func Record(s Second) SecondRecord { return record(s) }

// record compacts a Second.
func record(s Second) SecondRecord {
	r := SecondRecord{
		Start:      s.Start,
		DurationS:  s.Duration.Seconds(),
		Offered:    s.Offered,
		Requests:   s.Total.Requests,
		Errors:     s.Total.Errors,
		Bytes:      s.Total.Bytes,
		Iterations: s.Iterations,
		Dropped:    s.Dropped,
		InFlight:   s.InFlight,
		VUs:        s.VUs,
		Busy:       s.Busy,
		Latency:    s.Total.Latency,
		Classes:    s.Total.Classes,
		Exemplars:  s.Total.Exemplars,
	}
	for _, w := range s.ByName {
		r.ByName = append(r.ByName, NameRecord{Name: w.Name, Requests: w.Requests, Errors: w.Errors, Latency: w.Latency, HDR: encodeHDR(w.Hist)})
	}
	r.HDR = encodeHDR(s.Total.Hist)
	return r
}

// summarize turns a run-long tally into a Summary over d.
func summarize(name string, t *tally, d time.Duration) Summary {
	s := Summary{
		Name:     name,
		Requests: t.requests,
		Errors:   t.errors,
		Bytes:    t.bytes,
		Classes:  classCounts(&t.classes),
		Latency:  LatencyOf(t.hist),
	}
	if t.requests > 0 {
		s.ErrorRate = float64(t.errors) / float64(t.requests)
	}
	if d > 0 {
		s.ThroughputRPS = float64(t.requests) / d.Seconds()
	}
	return s
}

// Measurement is the run as objectives read it: its requests and errors,
// throughput over Start–End, latency from the merged overall histogram.
func (r *Result) Measurement() plan.Measurement {
	return plan.Measurement{
		Requests: r.Summary.Requests,
		Errors:   r.Summary.Errors,
		Seconds:  r.End.Sub(r.Start).Seconds(),
		Latency:  HistogramLatency(r.Hist),
	}
}

// HistogramLatency reads latency statistics in ms from a µs histogram in
// the form plan.Measurement wants: "avg", "min", "max", or a percentile
// q. A nil or empty histogram gives NaN.
func HistogramLatency(h *hdrhistogram.Histogram) func(stat string, q float64) float64 {
	return func(stat string, q float64) float64 {
		if h == nil || h.TotalCount() == 0 {
			return math.NaN()
		}
		switch {
		case stat == "avg":
			return h.Mean() / 1000
		case stat == "min":
			return ms(h.Min())
		case stat == "max" || q >= 100:
			return ms(h.Max())
		}
		return ms(h.ValueAtQuantile(q))
	}
}

// Merged is the exact latency histogram (µs) of a span of records: their
// overall histograms merged, or with a name, that request name's. A
// record whose histogram cannot be decoded is an error naming its second.
func Merged(rs []SecondRecord, name string) (*hdrhistogram.Histogram, error) {
	h := NewHistogram()
	for _, r := range rs {
		enc := r.HDR
		if name != "" {
			enc = ""
			for _, n := range r.ByName {
				if n.Name == name {
					enc = n.HDR
					break
				}
			}
		}
		if enc == "" {
			continue
		}
		part, err := decodeHDR(enc, name)
		if err != nil {
			return nil, fmt.Errorf("window %s: %w", r.Start.Format(time.RFC3339), err)
		}
		h.Merge(part)
	}
	return h, nil
}
