package correlate

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// t0 is the start of every synthetic scenario.
var t0 = time.Unix(1_700_000_000, 0).UTC()

// curve is a signal's value at a time.
type curve func(at time.Time) float64

// step is a curve that is lo before at and hi from then on.
func stepAt(at time.Time, lo, hi float64) curve {
	return func(t time.Time) float64 {
		if t.Before(at) {
			return lo
		}
		return hi
	}
}

func constant(v float64) curve { return func(time.Time) float64 { return v } }

// fakeProm answers /api/v1/query_range in Prometheus's wire format: the
// first curve whose key occurs in the query gives one series; no match
// gives an empty matrix. Every query it saw is kept.
type fakeProm struct {
	curves map[string]curve
	order  []string // keys, longest first, so specific names win
}

func newFakeProm(t testing.TB, curves map[string]curve) *httptest.Server {
	f := &fakeProm{curves: curves}
	for k := range curves {
		f.order = append(f.order, k)
	}
	sort.Slice(f.order, func(i, j int) bool { return len(f.order[i]) > len(f.order[j]) })
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query_range" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	q := r.Form.Get("query")
	start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
	end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
	step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
	if step <= 0 || end < start {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"invalid range"}`)
		return
	}
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for _, k := range f.order {
		if !strings.Contains(q, k) {
			continue
		}
		c := f.curves[k]
		b.WriteString(`{"metric":{"job":"shop"},"values":[`)
		for i, ts := 0, start; ts <= end; i, ts = i+1, ts+step {
			if i > 0 {
				b.WriteByte(',')
			}
			at := time.Unix(0, int64(ts*1e9))
			fmt.Fprintf(&b, `[%s,"%s"]`, strconv.FormatFloat(ts, 'f', -1, 64), strconv.FormatFloat(c(at), 'g', -1, 64))
		}
		b.WriteString(`]}`)
		break
	}
	b.WriteString(`]}}`)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, b.String())
}

// spanSpec describes one span of a synthetic trace, times relative to the
// trace start.
type spanSpec struct {
	name, parent string // parent "" is the root
	from, to     time.Duration
	stmt         string
	client       bool
}

// fakeTrace is one synthetic trace.
type fakeTrace struct {
	id    string
	start time.Time
	spans []spanSpec
}

// fakeTempo serves /api/traces/<id> as OTLP protobuf and /api/search as
// Tempo's JSON, from synthetic traces.
type fakeTempo struct {
	traces   map[string]fakeTrace
	searches []string
}

func newFakeTempo(t testing.TB, traces []fakeTrace) (*httptest.Server, *fakeTempo) {
	f := &fakeTempo{traces: map[string]fakeTrace{}}
	for _, tr := range traces {
		f.traces[tr.id] = tr
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv, f
}

func (f *fakeTempo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/traces/"):
		tr, ok := f.traces[strings.TrimPrefix(r.URL.Path, "/api/traces/")]
		if !ok {
			http.Error(w, "trace not found", http.StatusNotFound)
			return
		}
		b, err := proto.Marshal(tr.otlp())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/protobuf")
		_, _ = w.Write(b)
	case r.URL.Path == "/api/search":
		f.searches = append(f.searches, r.URL.RawQuery)
		q := r.URL.Query()
		start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
		end, _ := strconv.ParseInt(q.Get("end"), 10, 64)
		limit, _ := strconv.Atoi(q.Get("limit"))
		var minMs int64
		if i := strings.Index(q.Get("q"), "duration > "); i >= 0 {
			fmt.Sscanf(q.Get("q")[i:], "duration > %dms", &minMs)
		}
		type hit struct {
			TraceID           string `json:"traceID"`
			RootServiceName   string `json:"rootServiceName"`
			RootTraceName     string `json:"rootTraceName"`
			StartTimeUnixNano string `json:"startTimeUnixNano"`
			DurationMs        int64  `json:"durationMs,omitempty"`
		}
		var hits []hit
		ids := make([]string, 0, len(f.traces))
		for id := range f.traces {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			tr := f.traces[id]
			d := tr.spans[0].to - tr.spans[0].from
			if tr.start.Unix() < start || tr.start.Unix() > end || d.Milliseconds() <= minMs {
				continue
			}
			if limit > 0 && len(hits) == limit {
				break
			}
			// Tempo drops the leading zeros of trace IDs in search results.
			hits = append(hits, hit{strings.TrimLeft(id, "0"), "shop", tr.spans[0].name,
				strconv.FormatInt(tr.start.UnixNano(), 10), d.Milliseconds()})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"traces": hits, "metrics": map[string]any{"inspectedBytes": "1024"}})
	default:
		http.NotFound(w, r)
	}
}

// otlp renders the trace as Tempo does: resource spans with service.name.
func (ft fakeTrace) otlp() *tracepb.TracesData {
	tid, _ := hex.DecodeString(ft.id)
	spanID := func(name string, i int) []byte {
		b := make([]byte, 8)
		copy(b, fmt.Sprintf("%02d%s", i, name))
		return b
	}
	ids := map[string][]byte{}
	var spans []*tracepb.Span
	for i, s := range ft.spans {
		id := spanID(s.name, i)
		if _, dup := ids[s.name]; !dup {
			ids[s.name] = id
		}
		sp := &tracepb.Span{
			TraceId: tid, SpanId: id, ParentSpanId: ids[s.parent], Name: s.name,
			Kind:              tracepb.Span_SPAN_KIND_SERVER,
			StartTimeUnixNano: uint64(ft.start.Add(s.from).UnixNano()),
			EndTimeUnixNano:   uint64(ft.start.Add(s.to).UnixNano()),
		}
		if s.parent == "" {
			sp.ParentSpanId = []byte{1, 2, 3, 4, 5, 6, 7, 8} // the generator's span, not in the store
		}
		if s.client || s.stmt != "" {
			sp.Kind = tracepb.Span_SPAN_KIND_CLIENT
		}
		if s.stmt != "" {
			sp.Attributes = []*commonpb.KeyValue{
				{Key: "db.system", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "sqlite"}}},
				{Key: "db.statement", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s.stmt}}},
			}
		}
		spans = append(spans, sp)
	}
	return &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "shop"}}},
		}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}},
	}}}
}

// traceID makes the n-th synthetic trace ID; IDs start with zeros so the
// padding of search results is exercised.
func traceID(n int) string { return fmt.Sprintf("00%030x", n+1) }

// runSeconds is a run of n seconds whose p99 and rate are lo before knee
// and hi from it on.
func runSeconds(n int, knee time.Duration, p99Lo, p99Hi, rateLo, rateHi float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		at := t0.Add(time.Duration(i) * time.Second)
		p99, rate := p99Lo, rateLo
		if at.Sub(t0) >= knee {
			p99, rate = p99Hi, rateHi
		}
		pts[i] = Point{At: at, Rate: rate, P99Ms: p99, Requests: int64(rate)}
	}
	return pts
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
