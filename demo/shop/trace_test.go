package shop

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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

// spanAttr is the attribute key of s rendered as text ("" when absent).
func spanAttr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func TestCheckoutTransactionSpanHoldsItsStatements(t *testing.T) {
	ts := newTestShop(t, Config{})
	auth := ts.login(t, 4)
	_, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 7}, auth)
	const traceID = "1af7651916cd43dd8448eb211c80319c"
	h := traceparent(traceID)
	h["Authorization"] = auth["Authorization"]
	if code, out := ts.call(t, "POST", "/v1/checkout", validCheckout(cart["cart_id"].(string)), h); code != http.StatusOK {
		t.Fatalf("checkout: %d %v", code, out)
	}
	server, all := ts.traceSpans(t, traceID, "POST /v1/checkout")
	var tx []tracetest.SpanStub
	for _, s := range all {
		if s.Name == txSpan {
			tx = append(tx, s)
		}
	}
	if len(tx) != 1 {
		t.Fatalf("checkout trace has %d %q spans, want 1", len(tx), txSpan)
	}
	span := tx[0]
	if span.Parent.SpanID() != server.SpanContext.SpanID() {
		t.Errorf("transaction span's parent is not the server span")
	}
	for key, want := range map[string]string{
		"db.system": "sqlite", attrTxName: "place order", attrTxOutcome: outcomeCommit, attrTxStmts: "4",
	} {
		if got := spanAttr(span, key); got != want {
			t.Errorf("transaction %s = %q, want %q", key, got, want)
		}
	}
	var inside []string
	for _, s := range all {
		if s.Parent.SpanID() == span.SpanContext.SpanID() {
			inside = append(inside, s.Name)
			if s.StartTime.Before(span.StartTime) || s.EndTime.After(span.EndTime) {
				t.Errorf("statement span %q is not within the transaction's", s.Name)
			}
		}
	}
	if got := strings.Join(inside, ","); len(inside) != 4 || !strings.Contains(got, "INSERT orders") || !strings.Contains(got, "UPDATE carts") {
		t.Errorf("transaction's child spans = %q, want its 4 statements", got)
	}
	// Every use of the pool starts with a wait span: the session lookup,
	// the cart queries, the transaction's connection.
	waits := 0
	for _, s := range all {
		if s.Name == poolWaitSpan {
			waits++
			if s.Parent.SpanID() != server.SpanContext.SpanID() {
				t.Errorf("pool wait span's parent is not the server span")
			}
			if spanAttr(s, attrPoolMax) != "10" {
				t.Errorf("pool wait %s = %q, want the pool size 10", attrPoolMax, spanAttr(s, attrPoolMax))
			}
		}
	}
	if statements := len(dbStatements(all)); waits != statements-4+1 {
		t.Errorf("%d pool wait spans for %d statements (4 in one transaction), want one per connection taken", waits, statements)
	}
}

func TestRefusedAddToCartRollsBack(t *testing.T) {
	ts := newTestShop(t, Config{})
	auth := ts.login(t, 5)
	_, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 8}, auth)
	id := cart["cart_id"].(string)
	if code, out := ts.call(t, "POST", "/v1/checkout", validCheckout(id), auth); code != http.StatusOK {
		t.Fatalf("checkout: %d %v", code, out)
	}
	const traceID = "2af7651916cd43dd8448eb211c80319c"
	h := traceparent(traceID)
	h["Authorization"] = auth["Authorization"]
	if code, out := ts.call(t, "POST", "/v1/cart/items", map[string]any{"cart_id": id, "product_id": 9}, h); code != http.StatusConflict {
		t.Fatalf("add to a checked-out cart: %d %v, want 409", code, out)
	}
	_, all := ts.traceSpans(t, traceID, "POST /v1/cart/items")
	for _, s := range all {
		if s.Name == txSpan {
			if got := spanAttr(s, attrTxOutcome); got != outcomeRollbck {
				t.Errorf("refused transaction's outcome = %q, want %q", got, outcomeRollbck)
			}
			if got := spanAttr(s, attrTxName); got != "add to cart" {
				t.Errorf("transaction name = %q", got)
			}
			return
		}
	}
	t.Fatalf("no %q span in the trace", txSpan)
}

// TestPoolWaitSpanCoversTheWait holds the only connection of a pool of one
// while a request needs it: the request's wait span must start before the
// pool saw it waiting and end after the connection was given back.
func TestPoolWaitSpanCoversTheWait(t *testing.T) {
	ts := newTestShop(t, Config{Pool: 1})
	held, err := ts.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const traceID = "3af7651916cd43dd8448eb211c80319c"
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", ts.URL+"/v1/products/3", nil)
		req.Header.Set("traceparent", "00-"+traceID+"-"+sentSpanID+"-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	waitFor(t, "the request to wait for the pool", func() bool { return ts.db.Stats().WaitCount > 0 })
	seenWaiting := time.Now()
	released := time.Now()
	held.Close()
	if code := <-done; code != http.StatusOK {
		t.Fatalf("GET: %d", code)
	}
	_, all := ts.traceSpans(t, traceID, "GET /v1/products/{id}")
	for _, s := range all {
		if s.Name != poolWaitSpan {
			continue
		}
		if s.StartTime.After(seenWaiting) || s.EndTime.Before(released) {
			t.Errorf("wait span %s – %s does not cover the wait (seen waiting at %s, released at %s)",
				s.StartTime.Format(time.StampMicro), s.EndTime.Format(time.StampMicro),
				seenWaiting.Format(time.StampMicro), released.Format(time.StampMicro))
		}
		if spanAttr(s, attrPoolInUse) != "1" || spanAttr(s, attrPoolMax) != "1" {
			t.Errorf("wait span pool attributes in_use=%q max_open=%q, want 1 of 1", spanAttr(s, attrPoolInUse), spanAttr(s, attrPoolMax))
		}
		return
	}
	t.Fatalf("no %q span in the trace", poolWaitSpan)
}

func TestMetricsScrapesAreNotTraced(t *testing.T) {
	ts := newTestShop(t, Config{})
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	// A traced request after the scrape: once its span is exported, a
	// scrape's would have been too.
	if code, out := ts.call(t, "GET", "/healthz", nil, traceparent("5af7651916cd43dd8448eb211c80319c")); code != http.StatusOK {
		t.Fatalf("GET /healthz: %d %v", code, out)
	}
	ts.traceSpans(t, "5af7651916cd43dd8448eb211c80319c", "GET /healthz")
	for _, s := range ts.spans.GetSpans() {
		if s.Name == metricsRoute {
			t.Fatalf("a scrape of /metrics made a span")
		}
	}
}
