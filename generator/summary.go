package generator

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
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
	Latency    Latency          `json:"latency_ms"`
	Classes    map[string]int64 `json:"classes,omitempty"`
	ByName     []NameRecord     `json:"by_name,omitempty"`
	Exemplars  []Exemplar       `json:"exemplars,omitempty"`
	HDR        string           `json:"hdr,omitempty"`
}

// NameRecord is one request name's figures inside a SecondRecord.
type NameRecord struct {
	Name     string  `json:"name"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Latency  Latency `json:"latency_ms"`
}

// Histogram decodes the record's Total histogram; an empty record gives an
// empty histogram.
func (r SecondRecord) Histogram() (*hdrhistogram.Histogram, error) {
	if r.HDR == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(r.HDR))
	if err != nil {
		return nil, fmt.Errorf("window %s: hdr: %w", r.Start.Format(time.RFC3339), err)
	}
	return h, nil
}

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
		Latency:    s.Total.Latency,
		Classes:    s.Total.Classes,
		Exemplars:  s.Total.Exemplars,
	}
	for _, w := range s.ByName {
		r.ByName = append(r.ByName, NameRecord{Name: w.Name, Requests: w.Requests, Errors: w.Errors, Latency: w.Latency})
	}
	if h := s.Total.Hist; h != nil && h.TotalCount() > 0 {
		if enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
			r.HDR = string(enc)
		}
	}
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
