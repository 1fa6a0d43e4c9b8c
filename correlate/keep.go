package correlate

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// KeptTrace is one trace as a study keeps it once the trace store may
// have dropped it: its spans with what findings read.
type KeptTrace struct {
	ID    string     `json:"id"`
	Slow  bool       `json:"slow"` // an exemplar or among its step's slowest (they explain a slowdown); else a typical sample (it sizes hold times)
	Spans []KeptSpan `json:"spans"`
}

// KeptSpan is one span of a kept trace.
type KeptSpan struct {
	ID         string            `json:"id"`
	Parent     string            `json:"parent,omitempty"`
	Name       string            `json:"name"`
	Service    string            `json:"service,omitempty"`
	Instance   string            `json:"instance,omitempty"` // service.instance.id
	Start      time.Time         `json:"start"`
	DurationMs float64           `json:"duration_ms"`
	SelfMs     float64           `json:"self_ms"` // less the time its children cover
	Statement  string            `json:"db_statement,omitempty"`
	Client     bool              `json:"client,omitempty"`
	Attrs      map[string]string `json:"attrs,omitempty"` // the few others findings read (db.system, peer.service, db.pool.*, db.transaction.*)
}

// keptAttrs are the span attributes a kept trace holds besides the statement.
var keptAttrs = map[string]bool{
	"db.system": true, "peer.service": true, "span.kind": true,
	"db.pool.max_open": true, "db.pool.in_use": true, "db.pool.idle": true,
	"db.transaction.name": true, "db.transaction.outcome": true, "db.transaction.statements": true,
	"http.response.status_code": true,
}

// keep reduces a fetched trace to what a study keeps.
func keep(t Trace, slow bool) KeptTrace {
	tr := newTree(t)
	k := KeptTrace{ID: t.ID, Slow: slow, Spans: make([]KeptSpan, 0, len(t.Spans))}
	for i, s := range t.Spans {
		ks := KeptSpan{ID: s.ID, Parent: s.ParentID, Name: s.Name, Service: s.Service, Instance: s.Instance,
			Start: s.Start, DurationMs: ms(s.Duration()), SelfMs: ms(tr.selfTime(i)), Statement: s.Statement(), Client: s.Client}
		for a, v := range s.Attrs {
			if keptAttrs[a] {
				if ks.Attrs == nil {
					ks.Attrs = map[string]string{}
				}
				ks.Attrs[a] = v
			}
		}
		k.Spans = append(k.Spans, ks)
	}
	return k
}

// trace turns a kept trace back into a Trace for the analyses.
func (k KeptTrace) trace() Trace {
	t := Trace{ID: k.ID, Spans: make([]Span, 0, len(k.Spans))}
	for _, s := range k.Spans {
		attrs := make(map[string]string, len(s.Attrs)+1)
		for a, v := range s.Attrs {
			attrs[a] = v
		}
		if s.Statement != "" {
			attrs["db.statement"] = s.Statement
		}
		t.Spans = append(t.Spans, Span{ID: s.ID, ParentID: s.Parent, Name: s.Name, Service: s.Service, Instance: s.Instance,
			Client: s.Client, Start: s.Start, End: s.Start.Add(time.Duration(s.DurationMs * float64(time.Millisecond))), Attrs: attrs})
	}
	return t
}

// TraceKeeper fetches each step's slow traces while the trace store still
// holds them (a store such as Jaeger's in-memory one keeps only the newest
// traces, and a whole study sends tens of thousands), and keeps what the
// findings need. Wrap the study's prober with Prober; after the study,
// Kept goes to ExplainStudyWith. Its methods are safe for concurrent use.
type TraceKeeper struct {
	src     Traces
	service string
	opts    KeepOptions

	mu          sync.Mutex
	kept        map[string]KeptTrace
	order       []string
	notFound    int // exemplars the store did not have after Settle
	tried       int
	unreachable int // steps whose fetches failed for the store's sake
	lastErr     error
}

// KeepOptions tune a TraceKeeper; the zero value means the defaults.
type KeepOptions struct {
	Slow    int           // slowest traces kept per step (exemplars first); default 10
	Typical int           // typical traces kept per step, the baseline of a breakdown; default 10
	Settle  time.Duration // how long an exemplar not yet in the store is asked for again; default 3s
	Poll    time.Duration // between those asks; default 250ms
}

func (o KeepOptions) withDefaults() KeepOptions {
	if o.Slow <= 0 {
		o.Slow = 10
	}
	if o.Typical <= 0 {
		o.Typical = 10
	}
	if o.Settle <= 0 {
		o.Settle = 3 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	return o
}

// NewTraceKeeper keeps traces of service from src; a nil src keeps none.
func NewTraceKeeper(src Traces, service string, o KeepOptions) *TraceKeeper {
	return &TraceKeeper{src: src, service: service, opts: o.withDefaults(), kept: map[string]KeptTrace{}}
}

// TraceKeeperFor is a keeper for the trace store a plan's observe section
// names (nil when it names none: nothing to keep).
func TraceKeeperFor(o plan.Observe, timeout time.Duration) *TraceKeeper {
	src := SourcesFor(o, timeout).Traces
	if src == nil {
		return nil
	}
	return NewTraceKeeper(src, o.Service, KeepOptions{})
}

// Prober wraps p: after each probe it keeps that step's exemplar traces
// and its slowest and typical traces, before the next step sends more.
// A nil keeper returns p.
func (k *TraceKeeper) Prober(p capacity.Prober) capacity.Prober {
	if k == nil || k.src == nil {
		return p
	}
	return capacity.ProberFunc(func(ctx context.Context, pr capacity.Probe) (capacity.Summary, error) {
		s, err := p.Probe(ctx, pr)
		if ctx.Err() == nil && !s.Start.IsZero() {
			k.KeepStep(ctx, s.Start, s.End, s.Latency.P99, s.Exemplars)
		}
		return s, err
	})
}

// KeepStep keeps the traces of one step's measured span: its exemplars
// (asked for again for up to Settle while the store has not received
// them), the slowest traces of the span at least p99Ms slow, and a typical
// sample. Failures are remembered for Problems, never returned.
func (k *TraceKeeper) KeepStep(ctx context.Context, start, end time.Time, p99Ms float64, ex []generator.Exemplar) {
	if k == nil || k.src == nil {
		return
	}
	k.mu.Lock()
	if k.unreachable >= 3 { // the store is gone: do not slow every step down
		k.mu.Unlock()
		return
	}
	k.mu.Unlock()
	sorted := append([]generator.Exemplar(nil), ex...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].LatencyMs > sorted[j].LatencyMs })
	var ids []string
	for _, e := range sorted {
		if e.TraceID != "" && len(ids) < k.opts.Slow {
			ids = append(ids, normaliseID(e.TraceID))
		}
	}
	got, missing, err := k.fetchSettled(ctx, ids)
	k.mu.Lock()
	k.tried += len(ids)
	k.notFound += len(missing)
	k.mu.Unlock()
	if err != nil {
		k.failed(err)
		return
	}
	instance := soleInstance(got, k.service)
	for _, t := range got {
		k.add(t, true)
	}
	q := TraceQuery{Service: k.service, Instance: instance, Start: start, End: end}
	if k.service == "" {
		return // Search needs a service
	}
	q.MinDuration = time.Duration(p99Ms * float64(time.Millisecond))
	slow, err := searchSlowest(ctx, k.src, q, k.opts.Slow)
	if err != nil {
		k.failed(err)
		return
	}
	q.MinDuration, q.Limit = 0, k.opts.Typical
	typical, err := k.src.Search(ctx, q)
	if err != nil {
		k.failed(err)
		return
	}
	var more []string
	for _, r := range slow {
		more = append(more, r.ID)
	}
	nSlow := len(more)
	for _, r := range typical {
		more = append(more, r.ID)
	}
	ts, _, ferr := fetchAll(ctx, k.src, k.unkept(more))
	if ferr != nil && len(ts) == 0 {
		k.failed(ferr)
		return
	}
	slowIDs := map[string]bool{}
	for _, id := range more[:nSlow] {
		slowIDs[id] = true
	}
	for _, t := range ts {
		k.add(t, slowIDs[t.ID])
	}
}

// fetchSettled fetches ids, asking again for those not found until Settle
// has passed (the store may not have received a step's last spans yet).
// It returns the traces, the IDs still missing, and an error when the
// store could not be asked.
func (k *TraceKeeper) fetchSettled(ctx context.Context, ids []string) ([]Trace, []string, error) {
	deadline := time.Now().Add(k.opts.Settle)
	var got []Trace
	for {
		ts, missing, err := fetchAll(ctx, k.src, ids)
		got = append(got, ts...)
		if err != nil {
			return got, missing, err
		}
		if len(missing) == 0 || !time.Now().Before(deadline) || ctx.Err() != nil {
			return got, missing, nil
		}
		ids = missing
		select {
		case <-ctx.Done():
			return got, missing, nil
		case <-time.After(k.opts.Poll):
		}
	}
}

func (k *TraceKeeper) failed(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.unreachable++
	k.lastErr = err
}

func (k *TraceKeeper) add(t Trace, slow bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.kept[t.ID]; ok {
		if slow && !old.Slow {
			old.Slow = true
			k.kept[t.ID] = old
		}
		return
	}
	k.kept[t.ID] = keep(t, slow)
	k.order = append(k.order, t.ID)
}

func (k *TraceKeeper) unkept(ids []string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := k.kept[id]; !ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Kept returns the traces kept so far, in the order they were kept.
func (k *TraceKeeper) Kept() []KeptTrace {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]KeptTrace, 0, len(k.order))
	for _, id := range k.order {
		out = append(out, k.kept[id])
	}
	return out
}

// Problems says what the keeper could not keep: exemplars the store never
// had (evicted before the step ended, or never arrived) apart from a store
// that could not be reached.
func (k *TraceKeeper) Problems() []string {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	if k.notFound > 0 {
		out = append(out, fmt.Sprintf("traces: %d of %d exemplar traces were not in the trace store within %s of their step (never arrived, or evicted already: the store may keep too few traces)",
			k.notFound, k.tried, k.opts.Settle))
	}
	if k.unreachable > 0 {
		out = append(out, fmt.Sprintf("traces: the trace store could not be reached after %d steps, last: %v", k.unreachable, k.lastErr))
	}
	return out
}

// soleInstance is the service.instance.id all of service's spans in ts
// share, "" when they show none or several.
func soleInstance(ts []Trace, service string) string {
	found := ""
	for _, t := range ts {
		for _, s := range t.Spans {
			if s.Instance == "" || (service != "" && s.Service != service) {
				continue
			}
			if found != "" && found != s.Instance {
				return ""
			}
			found = s.Instance
		}
	}
	return found
}

// keptSource answers from kept traces first and asks the live store for
// the rest.
type keptSource struct {
	kept map[string]KeptTrace
	live Traces // may be nil
}

var _ Traces = keptSource{}

func newKeptSource(kept []KeptTrace, live Traces) keptSource {
	m := make(map[string]KeptTrace, len(kept))
	for _, k := range kept {
		m[normaliseID(k.ID)] = k
	}
	return keptSource{kept: m, live: live}
}

func (s keptSource) Trace(ctx context.Context, id string) (Trace, error) {
	if k, ok := s.kept[normaliseID(id)]; ok {
		return k.trace(), nil
	}
	if s.live == nil {
		return Trace{}, fmt.Errorf("trace %s: not kept by the study, and no trace store: %w", normaliseID(id), ErrTraceNotFound)
	}
	return s.live.Trace(ctx, id)
}

// Search returns the kept traces that match q and the live store's hits;
// a live store that fails is an error only when nothing was kept. The
// slowest come first, or for a Typical query the kept typical traces in
// time order, then the other hits in time order: a baseline's sample is
// never its slowest traces: when the study kept typical traces there,
// only those.
func (s keptSource) Search(ctx context.Context, q TraceQuery) ([]TraceRef, error) {
	var out []TraceRef
	slow := map[string]bool{}
	seen := map[string]bool{}
	for id, k := range s.kept {
		if r, ok := k.matches(q); ok {
			out = append(out, r)
			seen[id] = true
			slow[normaliseID(r.ID)] = k.Slow
		}
	}
	if s.live != nil {
		live, err := s.live.Search(ctx, q)
		if err != nil && len(out) == 0 {
			return nil, err
		}
		for _, r := range live {
			if id := normaliseID(r.ID); !seen[id] {
				out = append(out, r)
				if _, kept := s.kept[id]; !kept {
					slow[id] = true // not labelled typical by the study
				}
			}
		}
	}
	if q.Typical {
		// The study's typical sample, when it kept one here, is the
		// baseline: never blended with its slowest or unlabelled hits.
		var typical []TraceRef
		for _, r := range out {
			if !slow[normaliseID(r.ID)] {
				typical = append(typical, r)
			}
		}
		if len(typical) > 0 {
			out = typical
		}
		sort.SliceStable(out, func(i, j int) bool {
			si, sj := slow[normaliseID(out[i].ID)], slow[normaliseID(out[j].ID)]
			if si != sj {
				return !si
			}
			return out[i].Start.Before(out[j].Start)
		})
	} else {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Duration > out[j].Duration })
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (s keptSource) Link(id string) string {
	if s.live != nil {
		return s.live.Link(id)
	}
	return ""
}

// matches reports whether the kept trace answers q, as a search hit: a
// span of q's service (and instance) starting in the range, its root at
// least MinDuration long.
func (k KeptTrace) matches(q TraceQuery) (TraceRef, bool) {
	t := k.trace()
	root, ok := newTree(t).root()
	if !ok || root.Duration() < q.MinDuration {
		return TraceRef{}, false
	}
	for _, s := range t.Spans {
		if (q.Service == "" || s.Service == q.Service) && (q.Instance == "" || s.Instance == q.Instance) &&
			!s.Start.Before(q.Start) && !s.Start.After(q.End) {
			return TraceRef{ID: t.ID, RootName: root.Name, Start: root.Start, Duration: root.Duration()}, true
		}
	}
	return TraceRef{}, false
}
