package obs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/obs"
)

// TestShopTelemetryReachesTheStack runs the demo shop in-process, scraped by
// the stack's Prometheus and exporting to its trace store, drives it with
// our own traceparent headers, and checks that the run's metrics and a
// continued trace with the shop's DB child spans can be read back.
func TestShopTelemetryReachesTheStack(t *testing.T) {
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()

	// Listen first: Prometheus must know the shop's port when it starts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stack := startStack(ctx, t, obs.Config{Dir: filepath.Join(dir, "obs"), ScrapeShop: []string{ln.Addr().String()}})
	srv, err := shop.New(ctx, shop.Config{
		Addr: ln.Addr().String(), DBPath: filepath.Join(dir, "shop.db"), Pool: 4,
		OTLPEndpoint: stack.OTLPEndpoint, ServiceName: "shop", Instance: "obs-it",
		Products: 200, Users: 20,
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	shutdown := func() {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shop Shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("shop Serve: %v", err)
		}
	}
	defer func() {
		if shutdown != nil {
			shutdown()
		}
	}()

	start := time.Now()
	sent := drive(ctx, t, "http://"+ln.Addr().String(), 4*time.Second, 400)
	if len(sent) == 0 {
		t.Fatal("no request to the shop succeeded")
	}

	// (a) the run's metrics, over the run's window: every product request we
	// sent is counted (once a scrape after the run has landed), and the
	// database pool's go_sql_* series report the pool size we configured.
	products := `sum(http_request_duration_seconds_count{job="shop",route=~"GET /v1/products.*"})`
	if err := stack.WaitForSeries(ctx, fmt.Sprintf("%s >= %d", products, len(sent))); err != nil {
		t.Fatal(err)
	}
	client, err := api.NewClient(api.Config{Address: stack.PrometheusURL})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(client)
	window := rangeSince(start)
	if got := maxOver(ctx, t, prom, products, window); got < float64(len(sent)) {
		t.Errorf("%s: max over the run = %v, want >= %d requests sent", products, got, len(sent))
	}
	pool := `sum(go_sql_max_open_connections{job="shop"})`
	if got := maxOver(ctx, t, prom, pool, window); got != 4 {
		t.Errorf("%s: max over the run = %v, want 4 (Config.Pool)", pool, got)
	}
	inUse := `sum(go_sql_open_connections{job="shop"})`
	if got := maxOver(ctx, t, prom, inUse, window); got <= 0 {
		t.Errorf("%s: max over the run = %v, want > 0", inUse, got)
	}

	// (b) a trace we started, continued by the shop, with its DB spans.
	// Shutting the shop down flushes its span batcher.
	shutdown()
	shutdown = nil
	for _, req := range sent[:min(3, len(sent))] {
		spans := waitForSpans(ctx, t, stack, req.traceID, 2)
		var server obs.Span
		for _, s := range spans {
			if s.ParentID == req.parentID {
				server = s
			}
		}
		if server.SpanID == "" || server.Service != "shop" {
			t.Errorf("trace %s: no shop span continues our parent %s: %+v", req.traceID, req.parentID, spans)
			continue
		}
		var db []obs.Span
		for _, s := range spans {
			if s.Attributes["db.statement"] != "" && descends(spans, s, server.SpanID) {
				db = append(db, s)
			}
		}
		if len(db) == 0 {
			t.Errorf("trace %s: no span with db.statement under %q: %+v", req.traceID, server.Name, spans)
		} else if stmt := db[0].Attributes["db.statement"]; !strings.Contains(strings.ToUpper(stmt), "SELECT") {
			t.Errorf("trace %s: db.statement %q of a product read is not a SELECT", req.traceID, stmt)
		}
	}
}

// sentRequest is one request we started a trace for.
type sentRequest struct{ traceID, parentID string }

// drive sends GETs to the shop's product endpoints, each with a fresh
// traceparent, until d has passed or limit requests were sent, and returns
// the successful ones.
func drive(ctx context.Context, t *testing.T, base string, d time.Duration, limit int) []sentRequest {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(d)
	var sent []sentRequest
	for i := 0; i < limit && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		path := "/v1/products?limit=10"
		if i%2 == 1 {
			path = fmt.Sprintf("/v1/products/%d", 1+i%200)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := sentRequest{traceID: randomHex(t, 16), parentID: randomHex(t, 8)}
		req.Header.Set("traceparent", "00-"+r.traceID+"-"+r.parentID+"-01")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			sent = append(sent, r)
		} else {
			t.Logf("GET %s: HTTP %d", path, resp.StatusCode)
		}
	}
	return sent
}

// maxOver is the largest sample of query over window.
func maxOver(ctx context.Context, t *testing.T, prom v1.API, query string, window v1.Range) float64 {
	t.Helper()
	value, _, _, err := prom.QueryRange(ctx, query, window)
	if err != nil {
		t.Fatalf("QueryRange %s: %v", query, err)
	}
	matrix, ok := value.(model.Matrix)
	if !ok {
		t.Fatalf("QueryRange %s returned %T", query, value)
	}
	var highest float64
	for _, series := range matrix {
		for _, p := range series.Values {
			highest = max(highest, float64(p.Value))
		}
	}
	return highest
}

// descends reports whether span s has the span ancestor among its parents.
func descends(spans []obs.Span, s obs.Span, ancestor string) bool {
	byID := make(map[string]obs.Span, len(spans))
	for _, sp := range spans {
		byID[sp.SpanID] = sp
	}
	for range len(spans) {
		if s.ParentID == ancestor {
			return true
		}
		parent, ok := byID[s.ParentID]
		if !ok {
			return false
		}
		s = parent
	}
	return false
}
