package correlate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// TraceLink points at one slow trace in the trace store (and in Grafana
// when the plan gives observe.grafana).
type TraceLink struct {
	ID         string        `json:"id"`
	Root       string        `json:"root,omitempty"`
	Instance   string        `json:"instance,omitempty"`
	DurationMs float64       `json:"duration_ms"`
	URL        string        `json:"url,omitempty"`
	Grafana    string        `json:"grafana,omitempty"`
	Spans      []SpanSummary `json:"spans,omitempty"` // where the trace's time went, most self-time first
}

// SpanSummary is one span name of a slow trace: how long it took and how
// much of that was its own time, so a finding shows where the trace went.
type SpanSummary struct {
	Name       string  `json:"name"`
	Service    string  `json:"service,omitempty"`
	Instance   string  `json:"instance,omitempty"`
	Count      int     `json:"count"` // spans of that name in the trace
	DurationMs float64 `json:"duration_ms"`
	SelfMs     float64 `json:"self_ms"`
	Statement  string  `json:"db_statement,omitempty"`
}

// traceSets are the traces of both windows.
type traceSets struct {
	base, deg []tree
	slow      []TraceLink // degraded traces, slowest first
	kept      []KeptTrace // both sets as a study keeps them
	problems  []string    // not-available notes
	notes     []string
}

// fetchWorkers bounds concurrent trace fetches.
const fetchWorkers = 4

// collectTraces fetches the exemplars of the degraded window, its slowest
// traces (those in flight during it, ended after it included), and a
// sample of the baseline window's traces. Searches keep to the instance
// the exemplars came from when the service has several.
func collectTraces(ctx context.Context, src Traces, in Input, w Window, opts Options) traceSets {
	var ts traceSets
	var exIDs []string
	seen := map[string]bool{}
	ex := append([]Exemplar(nil), in.Exemplars...)
	sort.SliceStable(ex, func(i, j int) bool { return ex[i].LatencyMs > ex[j].LatencyMs })
	longest := 0.0
	for _, e := range ex {
		id := normaliseID(e.TraceID)
		if e.TraceID == "" || seen[id] || !w.degradedAt(e.At, e.At) || len(exIDs) >= opts.MaxTraces/2 {
			continue
		}
		seen[id] = true
		exIDs = append(exIDs, id)
		longest = math.Max(longest, e.LatencyMs)
	}
	deg, missing, exErr := fetchAll(ctx, src, exIDs)
	if exErr != nil && len(deg) == 0 {
		ts.problems = append(ts.problems, fmt.Sprintf("traces: not available: the trace store failed: %v", exErr))
		return ts
	}
	if len(missing) > 0 {
		ts.problems = append(ts.problems, fmt.Sprintf("traces: %d of %d exemplar traces of the degraded window are not in the trace store: evicted (it keeps only the newest traces) or never received; keep them during the study (correlate.TraceKeeper)",
			len(missing), len(exIDs)))
	}
	instance, how := soleInstance(deg, in.Observe.Service), "the exemplar traces"
	if instance == "" && len(deg) == 0 {
		instance, how = selectorInstance(in.Observe.Selector), "observe.selector"
	}

	// Requests in flight during the window: started up to the slowest
	// request's latency before the onset, and ended after it.
	pad := time.Duration(math.Min(math.Max(longest, 2*w.ThresholdMs), 60_000) * float64(time.Millisecond))
	q := TraceQuery{Service: in.Observe.Service, Instance: instance, Start: w.Onset.Add(-pad), End: w.End,
		MinDuration: time.Duration(w.ThresholdMs * float64(time.Millisecond))}
	var refs []TraceRef
	var err error
	if q.Service != "" {
		refs, err = searchSlowest(ctx, src, q, opts.MaxTraces)
		if err == nil && len(refs) == 0 && instance != "" && how == "observe.selector" {
			ts.notes = append(ts.notes, fmt.Sprintf("no trace of %s carries service.instance.id %q (from %s): the slow traces are of every instance of the service", q.Service, instance, how))
			q.Instance, instance = "", ""
			refs, err = searchSlowest(ctx, src, q, opts.MaxTraces)
		}
		if err != nil {
			ts.problems = append(ts.problems, fmt.Sprintf("trace search (degraded window): not available: %v", err))
		}
	}
	var more []string
	for _, r := range refs {
		if !w.degradedAt(r.Start, r.Start.Add(r.Duration)) {
			continue // not in flight during a degraded step (or the run's window)
		}
		if id := normaliseID(r.ID); !seen[id] && len(exIDs)+len(more) < opts.MaxTraces {
			seen[id] = true
			more = append(more, id)
		}
	}
	got, _, _ := fetchAll(ctx, src, more)
	deg = append(deg, got...)

	var baseIDs []string
	if w.HasBaseline() && err == nil && q.Service != "" {
		bq := TraceQuery{Service: q.Service, Instance: instance, Start: w.BaselineStart, End: w.BaselineEnd, Limit: opts.MaxTraces, Typical: true}
		brefs, berr := src.Search(ctx, bq)
		if berr != nil {
			ts.problems = append(ts.problems, fmt.Sprintf("trace search (baseline window): not available: %v", berr))
		}
		for _, r := range brefs {
			if id := normaliseID(r.ID); !seen[id] && len(baseIDs) < opts.MaxTraces {
				seen[id] = true
				baseIDs = append(baseIDs, id)
			}
		}
	}
	if len(deg) == 0 {
		if len(exIDs) == 0 && err == nil {
			ts.problems = append(ts.problems, "traces: not available: no exemplars and no traces found in the degraded window")
		}
		return ts
	}
	base, _, _ := fetchAll(ctx, src, baseIDs)
	for _, t := range deg {
		tr := newTree(t)
		ts.deg = append(ts.deg, tr)
		ts.kept = append(ts.kept, keep(t, true))
		root, _ := tr.root()
		ts.slow = append(ts.slow, TraceLink{ID: t.ID, Root: root.Name, Instance: root.Instance, DurationMs: ms(root.Duration()),
			URL: src.Link(t.ID), Grafana: grafanaLink(in.Observe.Grafana, t.ID, w), Spans: summarise8(tr)})
	}
	for _, t := range base {
		ts.base = append(ts.base, newTree(t))
		ts.kept = append(ts.kept, keep(t, false))
	}
	sort.SliceStable(ts.slow, func(i, j int) bool { return ts.slow[i].DurationMs > ts.slow[j].DurationMs })
	return ts
}

// searchSlowest returns the n slowest traces q finds. A store that answers
// the most recent matches first (Jaeger) can fill a page with recent ones
// while slower ones started earlier: while a page comes back full, it asks
// again with the n-th slowest found as the minimum duration.
func searchSlowest(ctx context.Context, src Traces, q TraceQuery, n int) ([]TraceRef, error) {
	q.Limit = max(4*n, 20)
	refs, err := src.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	byDuration := func() {
		sort.SliceStable(refs, func(i, j int) bool { return refs[i].Duration > refs[j].Duration })
	}
	full := len(refs) >= q.Limit
	for i := 0; i < 4 && full && len(refs) >= n; i++ {
		byDuration()
		// Only traces slower than the n-th slowest found can change the answer.
		floor := refs[n-1].Duration + time.Microsecond
		if floor <= q.MinDuration {
			break
		}
		q.MinDuration = floor
		more, err := src.Search(ctx, q)
		if err != nil {
			break
		}
		full = len(more) >= q.Limit
		have := map[string]bool{}
		for _, r := range refs {
			have[normaliseID(r.ID)] = true
		}
		for _, r := range more {
			if !have[normaliseID(r.ID)] {
				refs = append(refs, r)
			}
		}
	}
	byDuration()
	return refs, nil
}

// selectorInstance is the instance label an observe.selector fixes, "".
func selectorInstance(sel string) string {
	ms, err := ParseSelector(sel)
	if err != nil {
		return ""
	}
	for _, m := range ms {
		if m.Label == "instance" && m.Op == "=" {
			if v, err := strconv.Unquote(m.Value); err == nil {
				return v
			}
			return strings.Trim(m.Value, `"'`)
		}
	}
	return ""
}

// summarise8 sums a trace's spans by name, the 8 with the most self-time.
func summarise8(tr tree) []SpanSummary {
	idx := map[string]int{}
	var out []SpanSummary
	var self []time.Duration
	for i, s := range tr.trace.Spans {
		j, ok := idx[s.Name]
		if !ok {
			j = len(out)
			idx[s.Name] = j
			out = append(out, SpanSummary{Name: s.Name, Service: s.Service, Instance: s.Instance, Statement: s.Statement()})
			self = append(self, 0)
		}
		out[j].Count++
		out[j].DurationMs += ms(s.Duration())
		self[j] += tr.selfTime(i)
	}
	for j := range out {
		out[j].SelfMs = math.Round(ms(self[j])*1000) / 1000
		out[j].DurationMs = math.Round(out[j].DurationMs*1000) / 1000
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].SelfMs > out[b].SelfMs })
	return out[:min(8, len(out))]
}

// fetchAll fetches traces with a few workers. It returns those it got, the
// IDs the store does not hold (ErrTraceNotFound), and the first other
// error (the store could not be asked).
func fetchAll(ctx context.Context, src Traces, ids []string) ([]Trace, []string, error) {
	out := make([]Trace, len(ids))
	state := make([]int, len(ids)) // 0 failed, 1 got, 2 not found
	var (
		mu    sync.Mutex
		first error
	)
	g := new(errgroup.Group)
	g.SetLimit(fetchWorkers)
	for i, id := range ids {
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			t, err := src.Trace(ctx, id)
			switch {
			case errors.Is(err, ErrTraceNotFound):
				state[i] = 2
			case err != nil:
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			default:
				out[i], state[i] = t, 1
			}
			return nil
		})
	}
	_ = g.Wait()
	var got []Trace
	var missing []string
	for i := range out {
		switch state[i] {
		case 1:
			got = append(got, out[i])
		case 2:
			missing = append(missing, ids[i])
		}
	}
	if err := ctx.Err(); err != nil && first == nil {
		first = err
	}
	return got, missing, first
}

// grafanaLink is a Grafana Explore URL opening the trace in a data source
// with the UID "tempo"; "" without observe.grafana.
func grafanaLink(grafana, id string, w Window) string {
	base, err := checkBaseURL(grafana)
	if grafana == "" || err != nil {
		return ""
	}
	pane := map[string]any{
		"datasource": "tempo",
		"queries": []map[string]any{{
			"refId": "A", "datasource": map[string]string{"type": "tempo", "uid": "tempo"},
			"queryType": "traceql", "query": normaliseID(id),
		}},
		"range": map[string]string{
			"from": fmt.Sprint(w.Start.UnixMilli()), "to": fmt.Sprint(w.End.UnixMilli()),
		},
	}
	b, _ := json.Marshal(map[string]any{"trace": pane})
	return base + "/explore?schemaVersion=1&panes=" + url.QueryEscape(string(b))
}
