package correlate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// ringStore is a trace store that keeps only the newest max traces, as
// Jaeger's in-memory store does, and searches as it does: newest first,
// up to the limit, a span of the service (and instance) starting in the
// range and at least MinDuration long.
type ringStore struct {
	mu     sync.Mutex
	max    int
	order  []string
	traces map[string]Trace
	down   bool // answers every call with an outage
}

func newRingStore(max int) *ringStore { return &ringStore{max: max, traces: map[string]Trace{}} }

func (r *ringStore) add(t Trace) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.order = append(r.order, t.ID)
	r.traces[t.ID] = t
	if len(r.order) > r.max {
		delete(r.traces, r.order[0])
		r.order = r.order[1:]
	}
}

func (r *ringStore) Trace(_ context.Context, id string) (Trace, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return Trace{}, fmt.Errorf("dial tcp 127.0.0.1:1: connection refused")
	}
	t, ok := r.traces[normaliseID(id)]
	if !ok {
		return Trace{}, fmt.Errorf("ring: trace %s: %w", id, ErrTraceNotFound)
	}
	return t, nil
}

func (r *ringStore) Search(_ context.Context, q TraceQuery) ([]TraceRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return nil, fmt.Errorf("dial tcp 127.0.0.1:1: connection refused")
	}
	var out []TraceRef
	for i := len(r.order) - 1; i >= 0 && (q.Limit == 0 || len(out) < q.Limit); i-- {
		t := r.traces[r.order[i]]
		for _, s := range t.Spans {
			if s.Service == q.Service && (q.Instance == "" || s.Instance == q.Instance) &&
				!s.Start.Before(q.Start) && !s.Start.After(q.End) && s.Duration() >= q.MinDuration {
				root := t.Spans[0]
				out = append(out, TraceRef{ID: t.ID, RootName: root.Name, Start: root.Start, Duration: root.Duration()})
				break
			}
		}
	}
	return out, nil
}

func (r *ringStore) Link(id string) string { return "ring://" + id }

// ringStudy is a Prober in virtual time whose target breaks the 100 ms SLO
// above 300 iterations/s: there requests wait for a pooled connection. Every
// request sends one trace to the store (root, db.pool.wait, SELECT).
type ringStudy struct {
	mu    sync.Mutex
	at    time.Time
	store *ringStore
	n     int
	sent  int
}

const ringVerifyURL = "http://127.0.0.1:2"

const ringStmt = "SELECT id, name FROM products WHERE category_id = ?"

func (s *ringStudy) Probe(_ context.Context, p capacity.Probe) (capacity.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rate, d := p.Holds[len(p.Holds)-1].Rate, p.Duration()
	instance := "single"
	if p.URL == ringVerifyURL {
		instance = "fleet"
	}
	bad := rate > 150 && instance == "single" || rate > 400
	startAll := s.at
	start, end := s.at.Add(p.Warmup), s.at.Add(d)
	total := int(rate * d.Seconds())
	var ex []generator.Exemplar
	for i := 0; i < total; i++ {
		s.n++
		at := startAll.Add(time.Duration(float64(d) * float64(i) / float64(total)))
		wait, query := 200*time.Microsecond, 5*time.Millisecond
		if bad {
			wait, query = 280*time.Millisecond, 6*time.Millisecond
		}
		if s.n%100 == 0 { // the slowest percent
			wait *= 3
		}
		id := fmt.Sprintf("%032x", s.n)
		lat := wait + query + time.Millisecond
		tr := Trace{ID: id, Spans: []Span{
			{ID: "r", Name: "GET /v1/products", Service: "shop", Instance: instance, Start: at, End: at.Add(lat)},
			{ID: "w", ParentID: "r", Name: "db.pool.wait", Service: "shop", Instance: instance, Start: at, End: at.Add(wait), Attrs: map[string]string{"db.system": "sqlite", "db.pool.max_open": "10"}},
			{ID: "q", ParentID: "r", Name: "SELECT products", Service: "shop", Instance: instance, Start: at.Add(wait), End: at.Add(wait + query), Client: true,
				Attrs: map[string]string{"db.system": "sqlite", "db.statement": ringStmt}},
		}}
		s.store.add(tr)
		s.sent++
		if !at.Before(start) {
			ex = append(ex, generator.Exemplar{TraceID: id, At: at, LatencyMs: ms(lat), Name: "list products"})
		}
	}
	sort.Slice(ex, func(i, j int) bool { return ex[i].LatencyMs > ex[j].LatencyMs })
	ex = ex[:min(10, len(ex))]
	p99 := 8.0 // the study's view; the traces say the same

	if bad {
		p99 = 900
	}
	s.at = end.Add(2 * time.Second)
	secs := end.Sub(start).Seconds()
	n := int64(rate * secs)
	return capacity.Summary{Seconds: secs, Offered: rate, Achieved: rate, Throughput: rate, Goodput: rate,
		Requests: n, Iterations: n, InFlight: rate * p99 / 1000, Start: start, End: end, Elapsed: d, Sent: n, Exemplars: ex,
		Latency: capacity.Latency{P50: p99 / 2, P90: p99, P95: p99, P99: p99, Max: p99, Mean: p99 / 2}}, nil
}

func ringPlan() *plan.Plan {
	return &plan.Plan{Name: "ring", Target: plan.Target{BaseURL: "http://127.0.0.1:1"}, SLO: plan.SLO{P99: 100 * time.Millisecond},
		Load: plan.Load{Model: "open", MaxVUs: 100000}, Capacity: plan.Capacity{StepDuration: 5 * time.Second},
		Observe: plan.Observe{Service: "shop"}}
}

// TestKeptTracesSurviveAWholeStudy runs a study (search, verify on three
// other instances of the same service, stress) that sends tens of
// thousands of traces into a store keeping the newest 3000: by the end the
// degraded step's traces are gone from the store, yet the findings show
// them, with their span breakdown, because the keeper fetched each step's
// while they were fresh.
func TestKeptTracesSurviveAWholeStudy(t *testing.T) {
	store := newRingStore(4000)
	sim := &ringStudy{at: t0, store: store}
	k := NewTraceKeeper(store, "shop", KeepOptions{Settle: time.Millisecond})
	p := ringPlan()
	study, err := capacity.Run(context.Background(), p, k.Prober(sim),
		capacity.Options{Cooldown: -1, VerifyURL: ringVerifyURL, StressHold: 5 * time.Second, RecoveryWindow: 20 * time.Second})
	if err != nil || !study.Complete {
		t.Fatalf("study: %v, complete %v, notes %q", err, study.Complete, study.Notes)
	}
	if sim.sent < 3*store.max {
		t.Fatalf("the study sent %d traces, want well over the store's %d", sim.sent, store.max)
	}
	in, err := FromStudy(*study, p)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := FindWindow(in)
	if !w.Found {
		t.Fatal("no degradation")
	}
	// Without the keeper, the degraded window's traces are gone.
	rep, err := Explain(context.Background(), in, Sources{Traces: store})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SlowTraces) != 0 || !hasNote(rep.NotAvailable, "not in the trace store", "evicted") {
		t.Fatalf("without the keeper: %d slow traces, not available %q; want none, and evicted named", len(rep.SlowTraces), rep.NotAvailable)
	}

	in.Kept = k.Kept()
	rep, err = Explain(context.Background(), in, Sources{Traces: store})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.SlowTraces) < 5 {
		t.Fatalf("kept: %d slow traces, want the degraded window's (not available %q)", len(rep.SlowTraces), rep.NotAvailable)
	}
	for _, l := range rep.SlowTraces {
		if l.DurationMs < 100 || l.Instance != "single" || len(l.Spans) != 3 || l.Spans[0].Name != "db.pool.wait" || l.Spans[0].SelfMs < 250 {
			t.Errorf("slow trace %+v: want a degraded trace of the instance under study, its pool wait first", l)
		}
		if _, ok := store.traces[l.ID]; ok {
			t.Errorf("trace %s is still in the store: the test proves nothing", l.ID)
		}
	}
	if rep.Spans == nil || rep.Spans.BaselineTraces == 0 || rep.Spans.DegradedTraces == 0 || rep.Spans.Spans[0].Name != "db.pool.wait" {
		t.Fatalf("breakdown %+v: want baseline and degraded traces, the pool wait on top", rep.Spans)
	}
	if hasNote(rep.NotAvailable, "not in the trace store") || len(k.Problems()) != 0 {
		t.Errorf("not available %q, keeper problems %q: want none", rep.NotAvailable, k.Problems())
	}
	if len(rep.Traces) == 0 || len(rep.Traces) > 40 {
		t.Errorf("report keeps %d traces, want those it read (a few dozen at most)", len(rep.Traces))
	}
	// Explaining again from what the report kept needs no store at all.
	in.Kept = rep.Traces
	again, err := Explain(context.Background(), in, Sources{})
	if err != nil || len(again.SlowTraces) != len(rep.SlowTraces) || again.Spans == nil {
		t.Errorf("again from the kept traces: %v, %d slow traces, breakdown %v", err, len(again.SlowTraces), again.Spans)
	}
}

// TestKeeperTellsAnOutageFromEviction: a store that evicted a step's
// exemplars before the keeper asked is "not in the store"; a store that
// cannot be reached is an outage, and after three steps the keeper stops
// asking.
func TestKeeperTellsAnOutageFromEviction(t *testing.T) {
	store := newRingStore(10)
	k := NewTraceKeeper(store, "shop", KeepOptions{Settle: time.Millisecond})
	ex := []generator.Exemplar{{TraceID: "0abc", LatencyMs: 900}, {TraceID: "0abd", LatencyMs: 800}}
	k.KeepStep(context.Background(), t0, t0.Add(10*time.Second), 100, ex)
	probs := strings.Join(k.Problems(), "\n")
	if !strings.Contains(probs, "2 of 2 exemplar traces were not in the trace store") || strings.Contains(probs, "could not be reached") {
		t.Errorf("problems %q: want the two exemplars not in the store, no outage", probs)
	}
	store.down = true
	for i := 0; i < 5; i++ {
		k.KeepStep(context.Background(), t0, t0.Add(10*time.Second), 100, ex)
	}
	probs = strings.Join(k.Problems(), "\n")
	if !strings.Contains(probs, "could not be reached after 3 steps") || !strings.Contains(probs, "connection refused") {
		t.Errorf("problems %q: want the outage after 3 steps, then no more asking", probs)
	}
}

// TestSearchSlowestFindsOlderSlowTraces: a store that answers the newest
// matches first fills a page with recent traces; the slowest, older ones
// are still found.
func TestSearchSlowestFindsOlderSlowTraces(t *testing.T) {
	store := newRingStore(10000)
	for i := 0; i < 500; i++ {
		d := 120 * time.Millisecond
		if i < 5 { // the five slowest came first
			d = time.Duration(2000-i) * time.Millisecond
		}
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		store.add(Trace{ID: fmt.Sprintf("%032x", i+1), Spans: []Span{{ID: "r", Name: "GET /", Service: "shop", Start: at, End: at.Add(d)}}})
	}
	refs, err := searchSlowest(context.Background(), store, TraceQuery{Service: "shop", Start: t0, End: t0.Add(time.Minute), MinDuration: 100 * time.Millisecond}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) < 5 || refs[4].Duration != 1996*time.Millisecond {
		t.Fatalf("slowest %v, want the five 2 s traces first", refs[:min(5, len(refs))])
	}
}
