package report

import (
	"sort"

	"github.com/headroom-sre/headroom/generator"
)

// nameRow is one request name's figures: over a run, or over a study's
// capacity step, from that name's merged histogram.
type nameRow struct {
	Name               string
	Requests, Errors   int64
	Rate               float64 // requests/s
	P50, P95, P99, Max float64 // ms
	ErrorRate          float64
}

// requestRows are the per-name figures of a run (its by_name summaries)
// or of a study's capacity step (the step's seconds merged per name), and
// where they come from.
func requestRows(s *source) ([]nameRow, string) {
	if s.kind == kindRun {
		var out []nameRow
		secs := s.run.End.Sub(s.run.Start).Seconds()
		for _, n := range s.run.ByName {
			r := nameRow{Name: n.Name, Requests: n.Requests, Errors: n.Errors, P50: n.Latency.P50, P95: n.Latency.P95,
				P99: n.Latency.P99, Max: n.Latency.Max, ErrorRate: n.ErrorRate}
			if secs > 0 {
				r.Rate = float64(n.Requests) / secs
			}
			out = append(out, r)
		}
		return out, "over the whole run"
	}
	at := capacityStep(s.study)
	if at == nil {
		return nil, ""
	}
	recs := s.windowsOfStep(*at)
	counts := map[string]*nameRow{}
	var secs float64
	for _, w := range recs {
		secs += w.DurationS
		for _, n := range w.ByName {
			r := counts[n.Name]
			if r == nil {
				r = &nameRow{Name: n.Name}
				counts[n.Name] = r
			}
			r.Requests += n.Requests
			r.Errors += n.Errors
		}
	}
	var out []nameRow
	for name, r := range counts {
		h, err := generator.Merged(recs, name)
		if err != nil || h.TotalCount() == 0 {
			continue
		}
		l := generator.LatencyOf(h)
		r.P50, r.P95, r.P99, r.Max = l.P50, l.P95, l.P99, l.Max
		if secs > 0 {
			r.Rate = float64(r.Requests) / secs
		}
		if r.Requests > 0 {
			r.ErrorRate = float64(r.Errors) / float64(r.Requests)
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, "at capacity: step " + fmtFloat(float64(at.Index)) + ", " + fmtFloat(at.Rate) + " iterations/s, warm-up excluded"
}
