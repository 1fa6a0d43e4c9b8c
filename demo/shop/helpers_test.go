package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// testShop is a shop on a loopback httptest server with an in-memory span
// exporter, small seeds, shut down when the test ends.
type testShop struct {
	*Server
	URL   string
	spans *tracetest.InMemoryExporter
}

func newTestShop(t *testing.T, cfg Config) *testShop {
	t.Helper()
	return newTestShopWith(t, cfg, nil)
}

// newTestShopWith runs prepare (when not nil) on the server before it
// starts serving, e.g. to install the inHandler hook.
func newTestShopWith(t *testing.T, cfg Config, prepare func(*Server)) *testShop {
	t.Helper()
	if cfg.Products == 0 {
		cfg.Products = 2000
	}
	if cfg.Users == 0 {
		cfg.Users = 50
	}
	exp := tracetest.NewInMemoryExporter()
	cfg.SpanExporter = exp
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if prepare != nil {
		prepare(srv)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &testShop{Server: srv, URL: ts.URL, spans: exp}
}

// call sends a request (body marshalled to JSON unless it is a string) and
// returns the status and the decoded JSON answer.
func (ts *testShop) call(t *testing.T, method, path string, body any, header map[string]string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, raw)
	}
	return resp.StatusCode, out
}

// login returns a bearer header for the i-th seeded user.
func (ts *testShop) login(t *testing.T, i int) map[string]string {
	t.Helper()
	code, out := ts.call(t, "POST", "/v1/login", map[string]string{"user": seedUserEmail(i), "password": seededPassword}, nil)
	if code != http.StatusOK {
		t.Fatalf("login: %d %v", code, out)
	}
	return map[string]string{"Authorization": "Bearer " + out["token"].(string)}
}

// validCheckout is a checkout body for cartID that passes validation.
func validCheckout(cartID string) map[string]any {
	return map[string]any{
		"cart_id":           cartID,
		"payment_method_id": "pm-test-visa",
		"shipping_address":  map[string]string{"street": "1 Test St", "city": "Testville", "zip": "12345", "country": "US"},
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
