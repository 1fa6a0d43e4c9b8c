package shop

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// sentTrace is the traceparent a caller (headroom's generator) sends.
const (
	sentTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	sentSpanID  = "00f067aa0ba902b7"
)

func traceparent(traceID string) map[string]string {
	return map[string]string{"traceparent": "00-" + traceID + "-" + sentSpanID + "-01"}
}

// traceSpans waits until the server span named route of traceID is
// exported and returns all spans of that trace.
func (ts *testShop) traceSpans(t *testing.T, traceID, route string) (server tracetest.SpanStub, all []tracetest.SpanStub) {
	t.Helper()
	want, err := trace.TraceIDFromHex(traceID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server span "+route, func() bool {
		all = all[:0]
		found := false
		for _, s := range ts.spans.GetSpans() {
			if s.SpanContext.TraceID() != want {
				continue
			}
			all = append(all, s)
			if s.Name == route && s.SpanKind == trace.SpanKindServer {
				server, found = s, true
			}
		}
		return found
	})
	return server, all
}

// dbStatements are the db.statement attributes of the spans.
func dbStatements(spans []tracetest.SpanStub) []string {
	var out []string
	for _, s := range spans {
		for _, a := range s.Attributes {
			if a.Key == "db.statement" {
				out = append(out, a.Value.AsString())
			}
		}
	}
	return out
}

func TestTraceparentIsContinued(t *testing.T) {
	ts := newTestShop(t, Config{})
	if code, out := ts.call(t, "GET", "/v1/products/12", nil, traceparent(sentTraceID)); code != http.StatusOK {
		t.Fatalf("GET: %d %v", code, out)
	}
	server, all := ts.traceSpans(t, sentTraceID, "GET /v1/products/{id}")
	if got := server.Parent.SpanID().String(); got != sentSpanID || !server.Parent.IsRemote() {
		t.Errorf("server span parent = %s (remote %v), want the caller's %s", got, server.Parent.IsRemote(), sentSpanID)
	}
	var db []tracetest.SpanStub
	for _, s := range all {
		if s.Parent.SpanID() == server.SpanContext.SpanID() {
			db = append(db, s)
		}
	}
	stmts := dbStatements(db)
	if len(stmts) != 1 || stmts[0] == "" {
		t.Fatalf("DB child spans' statements = %q, want the one product query", stmts)
	}
	var system string
	for _, a := range db[0].Attributes {
		if a.Key == "db.system" {
			system = a.Value.AsString()
		}
	}
	if system != "sqlite" {
		t.Errorf("db.system = %q, want sqlite", system)
	}
	if got := server.Resource.Set(); got.Len() == 0 {
		t.Errorf("server span has no resource")
	} else if v, _ := got.Value("service.name"); v.AsString() != "shop" {
		t.Errorf("service.name = %q, want shop", v.AsString())
	}
}

func TestCheckoutSpansValidateAndPayment(t *testing.T) {
	ts := newTestShop(t, Config{})
	auth := ts.login(t, 3)
	_, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 5}, auth)
	h := traceparent("0af7651916cd43dd8448eb211c80319c")
	h["Authorization"] = auth["Authorization"]
	if code, out := ts.call(t, "POST", "/v1/checkout", validCheckout(cart["cart_id"].(string)), h); code != http.StatusOK {
		t.Fatalf("checkout: %d %v", code, out)
	}
	_, all := ts.traceSpans(t, "0af7651916cd43dd8448eb211c80319c", "POST /v1/checkout")
	names := map[string]int{}
	for _, s := range all {
		names[s.Name]++
	}
	for _, want := range []string{"validate", "payment", "SELECT sessions", "SELECT orders", "INSERT orders", "UPDATE carts"} {
		if names[want] == 0 {
			t.Errorf("checkout trace has no %q span; spans: %v", want, names)
		}
	}
}

func TestOTLPEndpointReceivesSpansByShutdown(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer receiver.Close()
	ctx := context.Background()
	srv, err := New(ctx, Config{Products: 100, Users: 5, ServiceName: "shop-otlp-test",
		OTLPEndpoint: strings.TrimPrefix(receiver.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/products/3", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET: %d", rec.Code)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) == 0 {
		t.Fatal("no OTLP export reached the receiver by Shutdown")
	}
	got := strings.Join(posts, "\n")
	for _, want := range []string{"POST /v1/traces application/x-protobuf", "shop-otlp-test", "GET /v1/products/{id}", "db.statement"} {
		if !strings.Contains(got, want) {
			t.Errorf("OTLP exports lack %q", want)
		}
	}
}
