package correlate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// TraceLink points at one slow trace in the trace store (and in Grafana
// when the plan gives observe.grafana).
type TraceLink struct {
	ID         string  `json:"id"`
	Root       string  `json:"root,omitempty"`
	DurationMs float64 `json:"duration_ms"`
	URL        string  `json:"url"`
	Grafana    string  `json:"grafana,omitempty"`
}

// traceSets are the traces of both windows.
type traceSets struct {
	base, deg []tree
	slow      []TraceLink // degraded traces, slowest first
	problems  []string    // not-available notes
}

// fetchWorkers bounds concurrent trace fetches.
const fetchWorkers = 4

// collectTraces fetches the exemplars of the degraded window, its traces
// slower than the threshold, and a sample of the baseline window's traces.
func collectTraces(ctx context.Context, src Traces, in Input, w Window, opts Options) traceSets {
	var ts traceSets
	var degIDs, baseIDs []string
	seen := map[string]bool{}
	addID := func(ids *[]string, id string) {
		id = normaliseID(id)
		if id != "" && !seen[id] && len(*ids) < opts.MaxTraces {
			seen[id] = true
			*ids = append(*ids, id)
		}
	}
	ex := append([]Exemplar(nil), in.Exemplars...)
	sort.SliceStable(ex, func(i, j int) bool { return ex[i].LatencyMs > ex[j].LatencyMs })
	for _, e := range ex {
		if !e.At.Before(w.Onset) && !e.At.After(w.End) && len(degIDs) < opts.MaxTraces/2 {
			addID(&degIDs, e.TraceID)
		}
	}
	q := TraceQuery{Service: in.Observe.Service, Start: w.Onset, End: w.End,
		MinDuration: time.Duration(w.ThresholdMs * float64(time.Millisecond)), Limit: opts.MaxTraces}
	refs, err := src.Search(ctx, q)
	if err != nil {
		ts.problems = append(ts.problems, fmt.Sprintf("trace search (degraded window): not available: %v", err))
	}
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].Duration > refs[j].Duration })
	for _, r := range refs {
		addID(&degIDs, r.ID)
	}
	if w.HasBaseline() && err == nil {
		q := TraceQuery{Service: in.Observe.Service, Start: w.BaselineStart, End: w.BaselineEnd, Limit: opts.MaxTraces}
		refs, err := src.Search(ctx, q)
		if err != nil {
			ts.problems = append(ts.problems, fmt.Sprintf("trace search (baseline window): not available: %v", err))
		}
		for _, r := range refs {
			addID(&baseIDs, r.ID)
		}
	}
	if len(degIDs) == 0 {
		if err == nil {
			ts.problems = append(ts.problems, "traces: not available: no exemplars and no traces found in the degraded window")
		}
		return ts
	}
	deg, failed, first := fetchAll(ctx, src, degIDs)
	base, bfailed, bfirst := fetchAll(ctx, src, baseIDs)
	if first == nil {
		first = bfirst
	}
	if len(deg) == 0 && first != nil {
		ts.problems = append(ts.problems, fmt.Sprintf("traces: not available: %v", first))
		return ts
	}
	if failed+bfailed > 0 {
		ts.problems = append(ts.problems, fmt.Sprintf("traces: %d of %d could not be fetched, first: %v", failed+bfailed, len(degIDs)+len(baseIDs), first))
	}
	for _, t := range deg {
		ts.deg = append(ts.deg, newTree(t))
	}
	for _, t := range base {
		ts.base = append(ts.base, newTree(t))
	}
	for _, t := range ts.deg {
		root, _ := t.root()
		ts.slow = append(ts.slow, TraceLink{ID: t.trace.ID, Root: root.Name, DurationMs: ms(root.Duration()),
			URL: src.Link(t.trace.ID), Grafana: grafanaLink(in.Observe.Grafana, t.trace.ID, w)})
	}
	sort.SliceStable(ts.slow, func(i, j int) bool { return ts.slow[i].DurationMs > ts.slow[j].DurationMs })
	return ts
}

// fetchAll fetches traces with a few workers; it returns those it got,
// how many failed and the first error.
func fetchAll(ctx context.Context, src Traces, ids []string) ([]Trace, int, error) {
	out := make([]Trace, len(ids))
	ok := make([]bool, len(ids))
	var (
		mu     sync.Mutex
		failed int
		first  error
	)
	g := new(errgroup.Group)
	g.SetLimit(fetchWorkers)
	for i, id := range ids {
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			t, err := src.Trace(ctx, id)
			if err != nil {
				mu.Lock()
				failed++
				if first == nil {
					first = err
				}
				mu.Unlock()
				return nil
			}
			out[i], ok[i] = t, true
			return nil
		})
	}
	_ = g.Wait()
	got := out[:0]
	for i := range out {
		if ok[i] {
			got = append(got, out[i])
		}
	}
	if err := ctx.Err(); err != nil && first == nil {
		first = err
	}
	return got, failed, first
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
