package correlate

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Tempo reads traces from Grafana Tempo's HTTP API: GET /api/traces/<id>
// as protobuf and GET /api/search with TraceQL. Tempo's trace message is
// wire-compatible with OTLP's TracesData (field 1 holds the resource
// spans), so it is decoded with the OTLP protobuf types; the search answer
// is JSON decoded into this package's own structs.
type Tempo struct {
	URL    string
	client *http.Client
}

var _ Traces = (*Tempo)(nil)

// NewTempo returns a client for the Tempo at base URL; every call gives up
// after timeout (default 10s) or when its context ends.
func NewTempo(base string, timeout time.Duration) (*Tempo, error) {
	u, err := checkBaseURL(base)
	if err != nil {
		return nil, fmt.Errorf("observe.tempo %q: %w", base, err)
	}
	return &Tempo{URL: u, client: httpClient(timeout)}, nil
}

// Link is the trace's URL in Tempo's API.
func (t *Tempo) Link(id string) string { return t.URL + "/api/traces/" + normaliseID(id) }

// Trace fetches one trace by ID.
func (t *Tempo) Trace(ctx context.Context, id string) (Trace, error) {
	id = normaliseID(id)
	if _, err := hex.DecodeString(id); err != nil || len(id) != 32 {
		return Trace{}, fmt.Errorf("trace ID %q: want 32 hex digits", id)
	}
	body, ctype, err := get(ctx, t.client, t.URL+"/api/traces/"+id, "application/protobuf")
	if err != nil {
		return Trace{}, fmt.Errorf("tempo: trace %s: %w", id, notFound(err))
	}
	if strings.Contains(ctype, "json") {
		return Trace{}, fmt.Errorf("tempo: trace %s: got %s, want protobuf (Tempo too old?)", id, ctype)
	}
	var td tracepb.TracesData
	if err := proto.Unmarshal(body, &td); err != nil {
		return Trace{}, fmt.Errorf("tempo: trace %s: bad protobuf: %w", id, err)
	}
	tr := fromOTLP(id, td.GetResourceSpans())
	if len(tr.Spans) == 0 {
		return Trace{}, fmt.Errorf("tempo: trace %s: no spans: %w", id, ErrTraceNotFound)
	}
	return tr, nil
}

// Search runs a TraceQL search for the query's service and duration.
func (t *Tempo) Search(ctx context.Context, q TraceQuery) ([]TraceRef, error) {
	traceQL := traceQLFor(q)
	v := url.Values{}
	v.Set("q", traceQL)
	v.Set("start", strconv.FormatInt(q.Start.Unix(), 10))
	v.Set("end", strconv.FormatInt(max(q.End.Unix(), q.Start.Unix()+1), 10))
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	body, _, err := get(ctx, t.client, t.URL+"/api/search?"+v.Encode(), "application/json")
	if err != nil {
		return nil, fmt.Errorf("tempo: search %s: %w", traceQL, err)
	}
	var resp struct {
		Traces []struct {
			TraceID           string  `json:"traceID"`
			RootServiceName   string  `json:"rootServiceName"`
			RootTraceName     string  `json:"rootTraceName"`
			StartTimeUnixNano jsonInt `json:"startTimeUnixNano"`
			DurationMs        jsonInt `json:"durationMs"`
		} `json:"traces"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("tempo: search %s: bad JSON: %w", traceQL, err)
	}
	out := make([]TraceRef, 0, len(resp.Traces))
	for _, r := range resp.Traces {
		if r.TraceID == "" {
			continue
		}
		out = append(out, TraceRef{
			ID:       normaliseID(r.TraceID),
			RootName: r.RootTraceName,
			Start:    time.Unix(0, int64(r.StartTimeUnixNano)),
			Duration: time.Duration(r.DurationMs) * time.Millisecond,
		})
	}
	return out, nil
}

// TraceQL is the search for a service's traces at least minDuration slow.
func TraceQL(service string, minDuration time.Duration) string {
	return traceQLFor(TraceQuery{Service: service, MinDuration: minDuration})
}

func traceQLFor(q TraceQuery) string {
	service, minDuration := q.Service, q.MinDuration
	var conds []string
	if service != "" {
		conds = append(conds, "resource.service.name = "+strconv.Quote(service))
	}
	if q.Instance != "" {
		conds = append(conds, "resource.service.instance.id = "+strconv.Quote(q.Instance))
	}
	if minDuration > 0 {
		conds = append(conds, fmt.Sprintf("duration > %dms", minDuration.Milliseconds()))
	}
	if len(conds) == 0 {
		return "{}"
	}
	return "{ " + strings.Join(conds, " && ") + " }"
}

// jsonInt accepts a JSON number or a number in a string, as protobuf's
// JSON mapping writes 64-bit integers.
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("%s is not an integer", b)
		}
		v = int64(f)
	}
	*n = jsonInt(v)
	return nil
}

// fromOTLP flattens OTLP resource spans into a Trace.
func fromOTLP(id string, rss []*tracepb.ResourceSpans) Trace {
	tr := Trace{ID: id}
	for _, rs := range rss {
		service, instance := "", ""
		for _, kv := range rs.GetResource().GetAttributes() {
			switch kv.GetKey() {
			case "service.name":
				service = anyString(kv.GetValue())
			case "service.instance.id":
				instance = anyString(kv.GetValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{
					ID:       hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()),
					Name:     s.GetName(),
					Service:  service,
					Instance: instance,
					Client:   s.GetKind() == tracepb.Span_SPAN_KIND_CLIENT,
					Start:    time.Unix(0, int64(s.GetStartTimeUnixNano())),
					End:      time.Unix(0, int64(s.GetEndTimeUnixNano())),
				}
				if n := len(s.GetAttributes()); n > 0 {
					sp.Attrs = make(map[string]string, n)
					for _, kv := range s.GetAttributes() {
						sp.Attrs[kv.GetKey()] = anyString(kv.GetValue())
					}
				}
				sp.Client = sp.Client || sp.Attrs["peer.service"] != ""
				tr.Spans = append(tr.Spans, sp)
			}
		}
	}
	return tr
}

func anyString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	}
	return ""
}

// httpClient is a client that never follows a proxy and gives up after timeout.
func httpClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
}

func checkBaseURL(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("want an http(s) URL with a host")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// maxBody caps how much of an answer is read.
const maxBody = 64 << 20

// get fetches url and returns the body and its content type; a status
// other than 200 is an error quoting the start of the body.
func get(ctx context.Context, c *http.Client, u, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, "", fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The reply is summarised, never quoted: whoever reads the report
		// must not read what a remote system answered.
		return nil, "", &statusError{Code: resp.StatusCode, Body: fmt.Sprintf("%d bytes of %s", len(body), cmpOr(resp.Header.Get("Content-Type"), "unknown type"))}
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// statusError is an answer other than 200 OK.
type statusError struct {
	Code int
	Body string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

// notFound wraps ErrTraceNotFound into err when the store answered 404.
func notFound(err error) error {
	var se *statusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return fmt.Errorf("%w (evicted or never received): %v", ErrTraceNotFound, err)
	}
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
