package merge

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom-sre/headroom/generator"
)

// Window is one agent's one second of load, in a form fit for the wire: no
// pointers to live state, every histogram encoded. It mirrors
// generator.Second field for field.
type Window struct {
	Agent  string `json:"agent"`  // the agent's id, as the server registered it
	Second int64  `json:"second"` // index of the second on the agreed run clock: 0 starts at the agreed start instant
	Seq    uint64 `json:"seq"`    // the agent's sequence number, one more for every window it sends

	Duration   time.Duration `json:"duration_ns"` // how long the window lasted (1 s but for the last)
	Offered    float64       `json:"offered"`     // the agent's share of the target rate (or its VUs) at this second
	Iterations int64         `json:"iterations"`  // iterations started
	Dropped    int64         `json:"dropped"`     // iterations dropped
	InFlight   float64       `json:"in_flight"`   // mean in-flight requests
	Busy       float64       `json:"busy_vus"`    // mean virtual users inside an iteration
	VUs        int           `json:"vus"`         // active virtual users at the end of the second

	Total  Name   `json:"total"`   // all requests of the second
	ByName []Name `json:"by_name"` // one per request name seen, sorted by name
}

// Name is one request name's outcomes (or all requests') inside a Window.
type Name struct {
	Name     string           `json:"name"`
	Requests int64            `json:"requests"`
	Errors   int64            `json:"errors"`
	Bytes    int64            `json:"bytes"`
	Classes  map[string]int64 `json:"classes,omitempty"` // error classes, as generator.Window.Classes
	// HDR is the latency histogram (µs, 1 µs – 1 h, 3 significant digits)
	// as hdrhistogram.Histogram.Encode(V2CompressedEncodingCookieBase)
	// writes it, the same form the store keeps; empty when nothing was
	// recorded.
	HDR       []byte               `json:"hdr,omitempty"`
	Exemplars []generator.Exemplar `json:"exemplars,omitempty"` // the slowest few, slowest first
}

// Index is the agreed-clock index of a second that started at at, for a run
// whose agreed start is start: the nearest whole number of seconds between
// them (so a few milliseconds of clock skew do not move a window).
func Index(start, at time.Time) int64 {
	return int64(math.Round(at.Sub(start).Seconds()))
}

// FromSecond encodes s, one closed second of the named agent's run, as a
// Window. Call it inside generator.Options.OnSecond: s's histograms are
// valid only there; the Window holds copies.
func FromSecond(agent string, second int64, seq uint64, s generator.Second) (Window, error) {
	w := Window{
		Agent:      agent,
		Second:     second,
		Seq:        seq,
		Duration:   s.Duration,
		Offered:    s.Offered,
		Iterations: s.Iterations,
		Dropped:    s.Dropped,
		InFlight:   s.InFlight,
		Busy:       s.Busy,
		VUs:        s.VUs,
	}
	var err error
	if w.Total, err = nameOf(s.Total); err != nil {
		return Window{}, fmt.Errorf("second %d: total: %w", second, err)
	}
	if len(s.ByName) > 0 {
		w.ByName = make([]Name, 0, len(s.ByName))
	}
	for _, sw := range s.ByName {
		n, err := nameOf(sw)
		if err != nil {
			return Window{}, fmt.Errorf("second %d: %s: %w", second, sw.Name, err)
		}
		w.ByName = append(w.ByName, n)
	}
	sort.Slice(w.ByName, func(i, j int) bool { return w.ByName[i].Name < w.ByName[j].Name })
	return w, nil
}

func nameOf(sw generator.Window) (Name, error) {
	n := Name{
		Name:      sw.Name,
		Requests:  sw.Requests,
		Errors:    sw.Errors,
		Bytes:     sw.Bytes,
		Classes:   copyClasses(sw.Classes),
		Exemplars: append([]generator.Exemplar(nil), sw.Exemplars...),
	}
	if sw.Hist != nil && sw.Hist.TotalCount() > 0 {
		enc, err := sw.Hist.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return Name{}, fmt.Errorf("hdr: %w", err)
		}
		n.HDR = enc
	}
	return n, nil
}

func copyClasses(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Decode turns w back into a generator.Second starting at start + w.Second
// seconds, its histograms decoded into new dense histograms the caller owns.
func (w Window) Decode(start time.Time) (generator.Second, error) {
	if err := w.check(); err != nil {
		return generator.Second{}, err
	}
	s := generator.Second{
		Start:      start.Add(time.Duration(w.Second) * time.Second),
		Duration:   w.Duration,
		Offered:    w.Offered,
		Iterations: w.Iterations,
		Dropped:    w.Dropped,
		InFlight:   w.InFlight,
		Busy:       w.Busy,
		VUs:        w.VUs,
	}
	var err error
	if s.Total, err = w.Total.decode(); err != nil {
		return generator.Second{}, w.errorf("total", err)
	}
	for _, n := range w.ByName {
		gw, err := n.decode()
		if err != nil {
			return generator.Second{}, w.errorf("by_name "+n.Name, err)
		}
		s.ByName = append(s.ByName, gw)
	}
	return s, nil
}

func (n Name) decode() (generator.Window, error) {
	p, err := n.histogram()
	if err != nil {
		return generator.Window{}, err
	}
	h := generator.NewHistogram()
	if p != nil {
		p.MergeInto(h)
	}
	return generator.Window{
		Name:      n.Name,
		Requests:  n.Requests,
		Errors:    n.Errors,
		Bytes:     n.Bytes,
		Classes:   copyClasses(n.Classes),
		Latency:   generator.LatencyOf(h),
		Hist:      h,
		Exemplars: append([]generator.Exemplar(nil), n.Exemplars...),
	}, nil
}

// histogram decodes n.HDR sparsely; nil when n has none.
func (n Name) histogram() (*hdrhistogram.PackedHistogram, error) {
	if len(n.HDR) == 0 {
		return nil, nil
	}
	p, err := hdrhistogram.DecodePacked(n.HDR)
	if err != nil {
		return nil, fmt.Errorf("hdr: %w", err)
	}
	ref := generator.NewHistogram()
	if p.LowestTrackableValue() != ref.LowestTrackableValue() || p.SignificantFigures() != ref.SignificantFigures() {
		return nil, fmt.Errorf("hdr: histogram of %d–%d µs at %d significant digits, want the generator's %d–%d µs at %d",
			p.LowestTrackableValue(), p.HighestTrackableValue(), p.SignificantFigures(),
			ref.LowestTrackableValue(), ref.HighestTrackableValue(), ref.SignificantFigures())
	}
	return p, nil
}

// ErrInvalid marks a window that cannot be merged: its error names the
// agent, the second and the field.
var ErrInvalid = errors.New("invalid window")

// check validates what a Window says before anything of it is used.
func (w Window) check() error {
	switch {
	case w.Agent == "":
		return w.errorf("agent", errors.New("empty"))
	case w.Second < 0:
		return w.errorf("second", fmt.Errorf("%d is negative", w.Second))
	case w.Duration <= 0 || w.Duration > 2*time.Second:
		return w.errorf("duration_ns", fmt.Errorf("%v is outside (0, 2s]", w.Duration))
	case w.Iterations < 0 || w.Dropped < 0 || w.VUs < 0:
		return w.errorf("iterations/dropped/vus", errors.New("negative"))
	case bad(w.Offered) || bad(w.InFlight) || bad(w.Busy):
		return w.errorf("offered/in_flight/busy_vus", errors.New("negative or not a number"))
	}
	if err := w.Total.check(); err != nil {
		return w.errorf("total", err)
	}
	for i, n := range w.ByName {
		if n.Name == "" {
			return w.errorf(fmt.Sprintf("by_name[%d].name", i), errors.New("empty"))
		}
		if i > 0 && w.ByName[i-1].Name >= n.Name {
			return w.errorf(fmt.Sprintf("by_name[%d].name", i), fmt.Errorf("%q is out of order or repeated", n.Name))
		}
		if err := n.check(); err != nil {
			return w.errorf("by_name "+n.Name, err)
		}
	}
	return nil
}

func bad(f float64) bool { return f < 0 || math.IsNaN(f) || math.IsInf(f, 0) }

func (n Name) check() error {
	if n.Requests < 0 || n.Errors < 0 || n.Bytes < 0 {
		return errors.New("requests/errors/bytes: negative")
	}
	if n.Errors > n.Requests {
		return fmt.Errorf("errors: %d above requests %d", n.Errors, n.Requests)
	}
	for k, v := range n.Classes {
		if v < 0 {
			return fmt.Errorf("classes[%s]: negative", k)
		}
	}
	return nil
}

func (w Window) errorf(field string, err error) error {
	return fmt.Errorf("%w: agent %q second %d: %s: %w", ErrInvalid, w.Agent, w.Second, field, err)
}
