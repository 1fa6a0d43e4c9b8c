package correlate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Jaeger reads traces from a Jaeger query service's HTTP JSON API
// (GET /api/traces/<id> and GET /api/traces?service=…), the trace store
// Headroom's own observability stack runs.
type Jaeger struct {
	URL    string
	client *http.Client
}

var _ Traces = (*Jaeger)(nil)

// NewJaeger returns a client for the Jaeger query API at base URL; every
// call gives up after timeout (default 10s) or when its context ends.
func NewJaeger(base string, timeout time.Duration) (*Jaeger, error) {
	u, err := checkBaseURL(base)
	if err != nil {
		return nil, fmt.Errorf("jaeger %q: %w", base, err)
	}
	return &Jaeger{URL: u, client: httpClient(timeout)}, nil
}

// Link is the trace's page in Jaeger's UI.
func (j *Jaeger) Link(id string) string { return j.URL + "/trace/" + normaliseID(id) }

// Trace fetches one trace by ID.
func (j *Jaeger) Trace(ctx context.Context, id string) (Trace, error) {
	id = normaliseID(id)
	body, _, err := get(ctx, j.client, j.URL+"/api/traces/"+url.PathEscape(id), "application/json")
	if err != nil {
		return Trace{}, fmt.Errorf("jaeger: trace %s: %w", id, notFound(err))
	}
	ts, err := decodeJaeger(body)
	if err != nil {
		return Trace{}, fmt.Errorf("jaeger: trace %s: %w", id, err)
	}
	if len(ts) == 0 || len(ts[0].Spans) == 0 {
		return Trace{}, fmt.Errorf("jaeger: trace %s: no spans: %w", id, ErrTraceNotFound)
	}
	return ts[0], nil
}

// Search lists the service's traces in the range, slowest first as far as
// the limit allows.
func (j *Jaeger) Search(ctx context.Context, q TraceQuery) ([]TraceRef, error) {
	if q.Service == "" {
		return nil, fmt.Errorf("jaeger: search needs observe.service")
	}
	v := url.Values{}
	v.Set("service", q.Service)
	v.Set("start", strconv.FormatInt(q.Start.UnixMicro(), 10))
	v.Set("end", strconv.FormatInt(q.End.UnixMicro(), 10))
	if q.MinDuration > 0 {
		v.Set("minDuration", q.MinDuration.String())
	}
	if q.Instance != "" { // tags= takes JSON: an instance id holds a colon, which tag=k:v cannot
		b, _ := json.Marshal(map[string]string{"service.instance.id": q.Instance})
		v.Set("tags", string(b))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	body, _, err := get(ctx, j.client, j.URL+"/api/traces?"+v.Encode(), "application/json")
	if err != nil {
		return nil, fmt.Errorf("jaeger: search %s: %w", v.Encode(), err)
	}
	ts, err := decodeJaeger(body)
	if err != nil {
		return nil, fmt.Errorf("jaeger: search %s: %w", v.Encode(), err)
	}
	out := make([]TraceRef, 0, len(ts))
	for _, t := range ts {
		tr := newTree(t)
		root, ok := tr.root()
		if !ok {
			continue
		}
		out = append(out, TraceRef{ID: t.ID, RootName: root.Name, Start: root.Start, Duration: root.Duration()})
	}
	return out, nil
}

type jaegerAnswer struct {
	Data []struct {
		TraceID string `json:"traceID"`
		Spans   []struct {
			SpanID        string `json:"spanID"`
			OperationName string `json:"operationName"`
			References    []struct {
				RefType string `json:"refType"`
				SpanID  string `json:"spanID"`
			} `json:"references"`
			StartTime int64 `json:"startTime"` // µs since the epoch
			Duration  int64 `json:"duration"`  // µs
			Tags      []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			} `json:"tags"`
			ProcessID string `json:"processID"`
		} `json:"spans"`
		Processes map[string]struct {
			ServiceName string `json:"serviceName"`
			Tags        []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			} `json:"tags"`
		} `json:"processes"`
	} `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

func decodeJaeger(body []byte) ([]Trace, error) {
	var a jaegerAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if len(a.Data) == 0 && len(a.Errors) > 0 {
		return nil, fmt.Errorf("%d: %s", a.Errors[0].Code, a.Errors[0].Msg)
	}
	out := make([]Trace, 0, len(a.Data))
	for _, d := range a.Data {
		t := Trace{ID: normaliseID(d.TraceID), Spans: make([]Span, 0, len(d.Spans))}
		for _, s := range d.Spans {
			sp := Span{
				ID:      s.SpanID,
				Name:    s.OperationName,
				Service: d.Processes[s.ProcessID].ServiceName,
				Start:   time.UnixMicro(s.StartTime),
				End:     time.UnixMicro(s.StartTime + s.Duration),
				Attrs:   make(map[string]string, len(s.Tags)),
			}
			for _, r := range s.References {
				if r.RefType == "CHILD_OF" || sp.ParentID == "" {
					sp.ParentID = r.SpanID
				}
			}
			for _, tag := range s.Tags {
				var str string
				if json.Unmarshal(tag.Value, &str) != nil {
					str = string(tag.Value)
				}
				sp.Attrs[tag.Key] = str
			}
			sp.Instance = sp.Attrs["service.instance.id"]
			for _, tag := range d.Processes[s.ProcessID].Tags {
				if tag.Key == "service.instance.id" {
					var str string
					if json.Unmarshal(tag.Value, &str) != nil {
						str = string(tag.Value)
					}
					sp.Instance = str
				}
			}
			sp.Client = sp.Attrs["span.kind"] == "client" || sp.Attrs["peer.service"] != ""
			t.Spans = append(t.Spans, sp)
		}
		out = append(out, t)
	}
	return out, nil
}
