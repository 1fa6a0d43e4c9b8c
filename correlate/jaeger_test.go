package correlate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// jaegerTrace is the shape of Jaeger's /api/traces answer, trimmed to one
// server span, a database child and a client child.
const jaegerTrace = `{"data":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spans":[
 {"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"a1","operationName":"GET /v1/products","references":[],
  "startTime":1700000065000000,"duration":900000,"tags":[{"key":"span.kind","type":"string","value":"server"}],"processID":"p1"},
 {"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"b2","operationName":"SELECT products",
  "references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"a1"}],
  "startTime":1700000065005000,"duration":875000,"tags":[{"key":"db.statement","type":"string","value":"SELECT 1"},
  {"key":"span.kind","type":"string","value":"client"},{"key":"rows","type":"int64","value":20}],"processID":"p1"}],
 "processes":{"p1":{"serviceName":"shop","tags":[{"key":"service.instance.id","type":"string","value":"127.0.0.1:18081"}]}}}],"total":0,"limit":0,"offset":0,"errors":null}`

func TestJaegerDecodesTracesAndSearch(t *testing.T) {
	var gotQuery string
	srv := fixedFunc(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/traces" {
			gotQuery = r.URL.RawQuery
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(jaegerTrace))
	})
	j, err := NewJaeger(srv.URL, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := j.Trace(context.Background(), "4bf92f3577b34da6a3ce929d0e0e4736")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Spans) != 2 || tr.Spans[1].ParentID != "a1" || !tr.Spans[1].IsDB() || !tr.Spans[1].Client ||
		tr.Spans[1].Attrs["rows"] != "20" || tr.Spans[0].Service != "shop" || tr.Spans[1].Instance != "127.0.0.1:18081" {
		t.Errorf("trace %+v", tr)
	}
	if d := tr.Spans[0].Duration(); d != 900*time.Millisecond {
		t.Errorf("root duration %v", d)
	}
	refs, err := j.Search(context.Background(), TraceQuery{Service: "shop", Instance: "127.0.0.1:18081", Start: t0, End: t0.Add(time.Minute), MinDuration: 400 * time.Millisecond, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].RootName != "GET /v1/products" || refs[0].Duration != 900*time.Millisecond {
		t.Errorf("refs %+v", refs)
	}
	for _, want := range []string{"service=shop", "minDuration=400ms", "limit=5", "start=1700000000000000",
		"tags=%7B%22service.instance.id%22%3A%22127.0.0.1%3A18081%22%7D"} {
		if !strings.Contains(gotQuery, want) {
			t.Errorf("search query %q lacks %s", gotQuery, want)
		}
	}
	if _, err := j.Search(context.Background(), TraceQuery{}); err == nil || !strings.Contains(err.Error(), "observe.service") {
		t.Errorf("search without a service: %v", err)
	}
}

func TestJaegerNotFound(t *testing.T) {
	srv := fixed(t, http.StatusNotFound, "application/json", `{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}`)
	j, _ := NewJaeger(srv.URL, time.Second)
	if _, err := j.Trace(context.Background(), "abc"); !errors.Is(err, ErrTraceNotFound) || !strings.Contains(err.Error(), "evicted or never received") {
		t.Errorf("error %v, want ErrTraceNotFound", err)
	}
	// A store that fails is not a missing trace.
	srv = fixed(t, http.StatusInternalServerError, "text/plain", "boom")
	j, _ = NewJaeger(srv.URL, time.Second)
	if _, err := j.Trace(context.Background(), "abc"); err == nil || errors.Is(err, ErrTraceNotFound) {
		t.Errorf("HTTP 500: %v, want an error that is not ErrTraceNotFound", err)
	}
}

func TestTempoRejectsBadTraceIDs(t *testing.T) {
	tm, _ := NewTempo("http://127.0.0.1:1", time.Second)
	if _, err := tm.Trace(context.Background(), "not-hex"); err == nil || !strings.Contains(err.Error(), "32 hex digits") {
		t.Errorf("error %v", err)
	}
	if got := TraceQL("shop", 400*time.Millisecond); got != `{ resource.service.name = "shop" && duration > 400ms }` {
		t.Errorf("TraceQL %s", got)
	}
	if got := traceQLFor(TraceQuery{Service: "shop", Instance: "single"}); got != `{ resource.service.name = "shop" && resource.service.instance.id = "single" }` {
		t.Errorf("TraceQL with an instance: %s", got)
	}
}

func fixedFunc(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
