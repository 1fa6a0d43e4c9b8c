package server

import (
	"fmt"
	"net/http"
	"strconv"
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
	merged := generator.NewHistogram()
	out := make([]windowJSON, 0, len(rows))
	var m mergedJSON
	for _, w := range rows {
		if w.Name != name || (step >= 0 && w.Step != step) {
			continue
		}
		h, err := decodeHDR(w.HDR)
		if err != nil {
			return fmt.Errorf("job %d window %d: %w", id, w.Seq, err)
		}
		if h != nil {
			merged.Merge(h)
		}
		m.Requests += w.Requests
		m.Errors += w.Errors
		m.Seconds += w.DurationS
		out = append(out, storedWindow(w, h))
	}
	m.Latency = generator.LatencyOf(merged)
	m.ErrorRate = ratio(float64(m.Errors), float64(m.Requests))
	m.ThroughputRPS = ratio(float64(m.Requests), m.Seconds)
	return c.JSON(http.StatusOK, map[string]any{"windows": out, "merged": m})
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
