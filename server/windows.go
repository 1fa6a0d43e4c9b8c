package server

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/store"
)

// allName is the API's name for the row of all requests (the store's "").
const allName = "all"

// windowJSON is one second of a job as the API shows it.
type windowJSON struct {
	Start         time.Time         `json:"start"`
	DurationS     float64           `json:"duration_s"`
	Phase         string            `json:"phase"`
	Step          int               `json:"step"`
	Name          string            `json:"name"`
	Requests      int64             `json:"requests"`
	Errors        int64             `json:"errors"`
	ThroughputRPS float64           `json:"throughput_rps"`
	ErrorRate     float64           `json:"error_rate"`
	Latency       generator.Latency `json:"latency_ms"`
	Offered       float64           `json:"offered"`
	InFlight      float64           `json:"in_flight"`
	Dropped       int64             `json:"dropped"`
	VUs           int               `json:"vus"`
	Classes       map[string]int64  `json:"classes,omitempty"`
	ByName        []windowJSON      `json:"by_name,omitempty"`
}

// mergedJSON is the figures of a whole span, percentiles from the merged
// histograms.
type mergedJSON struct {
	Requests      int64             `json:"requests"`
	Errors        int64             `json:"errors"`
	ErrorRate     float64           `json:"error_rate"`
	ThroughputRPS float64           `json:"throughput_rps"`
	Latency       generator.Latency `json:"latency_ms"`
	Seconds       float64           `json:"duration_s"`
}

// liveWindow is a pipeline window in the API's shape, as its event sends
// it (with every request name).
func liveWindow(w pipeline.Window) windowJSON {
	out := windowJSON{
		Start: w.Start, DurationS: w.DurationS, Phase: w.Phase, Step: w.Step, Name: allName,
		Requests: w.Requests, Errors: w.Errors, Latency: w.Latency, Offered: w.Offered,
		InFlight: w.InFlight, Dropped: w.Dropped, VUs: w.VUs, Classes: w.Classes,
		ThroughputRPS: ratio(float64(w.Requests), w.DurationS), ErrorRate: ratio(float64(w.Errors), float64(w.Requests)),
	}
	for _, n := range w.ByName {
		out.ByName = append(out.ByName, windowJSON{
			Start: w.Start, DurationS: w.DurationS, Phase: w.Phase, Step: w.Step, Name: n.Name,
			Requests: n.Requests, Errors: n.Errors, Latency: n.Latency,
			ThroughputRPS: ratio(float64(n.Requests), w.DurationS), ErrorRate: ratio(float64(n.Errors), float64(n.Requests)),
		})
	}
	return out
}

// storedWindow is a stored row in the API's shape; h is its decoded
// histogram (nil when it has none).
func storedWindow(w store.Window, h *hdrhistogram.Histogram) windowJSON {
	name := w.Name
	if name == "" {
		name = allName
	}
	return windowJSON{
		Start: w.Start, DurationS: w.DurationS, Phase: w.Phase, Step: w.Step, Name: name,
		Requests: w.Requests, Errors: w.Errors, Latency: generator.LatencyOf(h), Offered: w.Offered,
		InFlight: w.InFlight, Dropped: w.Dropped, VUs: w.VUs, Classes: w.Classes,
		ThroughputRPS: ratio(float64(w.Requests), w.DurationS), ErrorRate: ratio(float64(w.Errors), float64(w.Requests)),
	}
}

// getWindows is GET /api/v1/jobs/:id/windows?from=&to=&name=&step=: the
// job's seconds of one request name (all requests by default) in a span,
// and that span merged.
func (s *Server) getWindows(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	from, err := timeParam(c, "from")
	if err != nil {
		return err
	}
	to, err := timeParam(c, "to")
	if err != nil {
		return err
	}
	step := -1
	if v := c.QueryParam("step"); v != "" {
		if step, err = strconv.Atoi(v); err != nil || step < 0 {
			return fmt.Errorf("%w: step %q: want a whole number ≥ 0", errBadRequest, v)
		}
	}
	name := c.QueryParam("name")
	if name == allName {
		name = ""
	}
	ctx := c.Request().Context()
	if _, err := s.st.GetJob(ctx, id); err != nil {
		return err
	}
	rows, err := s.st.Windows(ctx, id, from, to)
	if err != nil {
		return err
	}
	var picked []store.Window
	for _, w := range rows {
		if w.Name == name && (step < 0 || w.Step == step) {
			picked = append(picked, w)
		}
	}
	out := make([]windowJSON, 0, len(picked))
	for _, w := range picked {
		lat, err := s.windows.latency(w)
		if err != nil {
			return fmt.Errorf("job %d window %d: %w", id, w.Seq, err)
		}
		wj := storedWindow(w, nil)
		wj.Latency = lat
		out = append(out, wj)
	}
	m, err := s.windows.merged(spanKey{job: id, name: name, step: step, from: from.UnixNano(), to: to.UnixNano()}, picked)
	if err != nil {
		return fmt.Errorf("job %d: %w", id, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"windows": out, "merged": m})
}

// windowCache keeps what a window's histogram says, so dashboards that
// poll the same span decode each histogram once: stored windows never
// change. Both maps are bounded and start over when full.
type windowCache struct {
	mu   sync.Mutex
	rows map[rowKey]generator.Latency
	sums map[spanKey]mergedJSON
}

type rowKey struct {
	job  int64
	seq  int
	name string
}

// spanKey is one query's span; rows and last make a span that has grown
// since (a running job's) a new key.
type spanKey struct {
	job        int64
	name       string
	step       int
	from, to   int64
	rows, last int
}

const (
	maxCachedRows  = 100_000
	maxCachedSpans = 2_000
)

func newWindowCache() *windowCache {
	return &windowCache{rows: map[rowKey]generator.Latency{}, sums: map[spanKey]mergedJSON{}}
}

// latency is one window's percentiles.
func (wc *windowCache) latency(w store.Window) (generator.Latency, error) {
	k := rowKey{w.JobID, w.Seq, w.Name}
	wc.mu.Lock()
	lat, ok := wc.rows[k]
	wc.mu.Unlock()
	if ok {
		return lat, nil
	}
	h, err := decodeHDR(w.HDR)
	if err != nil {
		return lat, err
	}
	lat = generator.LatencyOf(h)
	wc.mu.Lock()
	if len(wc.rows) >= maxCachedRows {
		clear(wc.rows)
	}
	wc.rows[k] = lat
	wc.mu.Unlock()
	return lat, nil
}

// merged is the figures of the windows ws together, percentiles from
// their merged histograms.
func (wc *windowCache) merged(k spanKey, ws []store.Window) (mergedJSON, error) {
	k.rows = len(ws)
	if len(ws) > 0 {
		k.last = ws[len(ws)-1].Seq
	}
	wc.mu.Lock()
	m, ok := wc.sums[k]
	wc.mu.Unlock()
	if ok {
		return m, nil
	}
	h := generator.NewHistogram()
	for _, w := range ws {
		wh, err := decodeHDR(w.HDR)
		if err != nil {
			return m, fmt.Errorf("window %d: %w", w.Seq, err)
		}
		if wh != nil {
			h.Merge(wh)
		}
		m.Requests += w.Requests
		m.Errors += w.Errors
		m.Seconds += w.DurationS
	}
	m.Latency = generator.LatencyOf(h)
	m.ErrorRate = ratio(float64(m.Errors), float64(m.Requests))
	m.ThroughputRPS = ratio(float64(m.Requests), m.Seconds)
	wc.mu.Lock()
	if len(wc.sums) >= maxCachedSpans {
		clear(wc.sums)
	}
	wc.sums[k] = m
	wc.mu.Unlock()
	return m, nil
}

// decodeHDR reads a stored histogram; none gives nil.
func decodeHDR(raw []byte) (*hdrhistogram.Histogram, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	h, err := hdrhistogram.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("hdr: %w", err)
	}
	return h, nil
}

// timeParam reads a time query parameter: RFC 3339 or unix milliseconds;
// absent is the zero time (an open end).
func timeParam(c echo.Context, key string) (time.Time, error) {
	v := c.QueryParam(key)
	if v == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q: want RFC 3339 or unix milliseconds", errBadRequest, key, v)
	}
	return t, nil
}

// pathID reads the :id path parameter.
func pathID(c echo.Context) (int64, error) {
	return parseID(c.Param("id"), "id")
}

func parseID(v, what string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %s %q: want a positive whole number", errBadRequest, what, v)
	}
	return id, nil
}
