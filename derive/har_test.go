package derive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/demo/shop"
	"github.com/headroom-sre/headroom/derive"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/shop.har from a live demo shop")

// startShop runs the demo shop in this process on a free loopback port.
func startShop(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	s, err := shop.New(ctx, shop.Config{Products: 1000, Users: 100})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	})
	return "http://" + ln.Addr().String()
}

// recorder is an http.RoundTripper that writes what passes through it as
// HAR entries, as a browser's developer tools would, on a clock that
// moves on by the user's pauses.
type recorder struct {
	clock   time.Time
	entries []map[string]any
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	for k, v := range map[string]string{
		"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Accept":          "application/json, text/plain, */*",
		"Accept-Language": "en-GB,en;q=0.9",
		"Accept-Encoding": "gzip, deflate, br",
		"Sec-Fetch-Mode":  "cors",
		"Referer":         "http://" + req.Host + "/shop/",
	} {
		if req.Header.Get(k) == "" {
			req.Header.Set(k, v)
		}
	}
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	took := time.Since(start)
	headers := func(h http.Header) []map[string]string {
		var out []map[string]string
		for k, vs := range h {
			for _, v := range vs {
				out = append(out, map[string]string{"name": k, "value": v})
			}
		}
		return out
	}
	e := map[string]any{
		"startedDateTime": r.clock.Format(time.RFC3339Nano),
		"time":            float64(took.Microseconds()) / 1000,
		"request": map[string]any{
			"method": req.Method, "url": req.URL.String(), "httpVersion": "HTTP/1.1",
			"headers": headers(req.Header), "queryString": []any{}, "cookies": []any{}, "headersSize": -1, "bodySize": len(reqBody),
		},
		"response": map[string]any{
			"status": resp.StatusCode, "statusText": http.StatusText(resp.StatusCode), "httpVersion": "HTTP/1.1",
			"headers": headers(resp.Header), "cookies": []any{}, "redirectURL": "", "headersSize": -1, "bodySize": len(body),
			"content": map[string]any{"size": len(body), "mimeType": resp.Header.Get("Content-Type"), "text": string(body)},
		},
		"cache": map[string]any{}, "timings": map[string]any{"send": 0, "wait": float64(took.Microseconds()) / 1000, "receive": 0},
	}
	if reqBody != nil {
		e["request"].(map[string]any)["postData"] = map[string]any{"mimeType": "application/json", "text": string(reqBody)}
	}
	r.entries = append(r.entries, e)
	r.clock = r.clock.Add(took + 1500*time.Millisecond) // the user reads, then clicks on
	return resp, nil
}

// recordShopHAR drives one shopper's visit through the recorder: log in,
// list, look at a product, add it to the cart, apply a coupon, check out,
// look at the order; with the page's static assets around it.
func recordShopHAR(t *testing.T, base string) []byte {
	rec := &recorder{clock: time.Date(2026, 12, 6, 14, 3, 7, 0, time.UTC)}
	c := &http.Client{Transport: rec}
	call := func(method, path string, body any, token string) map[string]any {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 400 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	login := call("POST", "/v1/login", map[string]string{"user": "user0042@shop.test", "password": "secret"}, "")
	token := login["token"].(string)
	list := call("GET", "/v1/products?page=30&per_page=5", nil, "")
	id := fmt.Sprint(int64(list["products"].([]any)[2].(map[string]any)["id"].(float64)))
	call("GET", "/v1/products/"+id, nil, "")
	cart := call("POST", "/v1/cart/items", map[string]any{"product_id": id, "quantity": 2}, token)
	cartID := cart["cart_id"].(string)
	call("POST", "/v1/cart/"+cartID+"/coupons", map[string]string{"code": "SAVE10"}, "")
	order := call("POST", "/v1/checkout", map[string]any{"cart_id": cartID, "payment_method_id": "pm-test-visa",
		"shipping_address": map[string]string{"street": "1 Test St", "city": "Testville", "zip": "12345", "country": "US"}}, token)
	call("GET", "/v1/orders/"+fmt.Sprint(int64(order["order_id"].(float64))), nil, token)

	// the page's own assets, as a browser records them
	asset := func(url, mime string, at time.Time) map[string]any {
		return map[string]any{"startedDateTime": at.Format(time.RFC3339Nano), "time": 12.5,
			"request":  map[string]any{"method": "GET", "url": url, "headers": []any{}},
			"response": map[string]any{"status": 200, "headers": []any{}, "content": map[string]any{"mimeType": mime, "text": ""}}}
	}
	t0 := rec.entries[0]["startedDateTime"].(string)
	at, _ := time.Parse(time.RFC3339Nano, t0)
	entries := append([]map[string]any{
		asset(base+"/shop/app.js", "application/javascript", at.Add(-900*time.Millisecond)),
		asset("https://fonts.example.com/inter.woff2", "font/woff2", at.Add(-800*time.Millisecond)),
		asset(base+"/shop/logo.svg", "image/svg+xml", at.Add(-700*time.Millisecond)),
	}, rec.entries...)
	har := map[string]any{"log": map[string]any{"version": "1.2",
		"creator": map[string]string{"name": "headroom derive test recorder", "version": "1"},
		"pages":   []any{}, "entries": entries}}
	out, err := json.MarshalIndent(har, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHARRecordingBecomesAPlanThatRuns reads a HAR recorded from the demo
// shop (testdata/shop.har; -update records it again) into a plan, and runs
// the plan against a fresh shop: every request passes its checks, the
// cart, order and token taken from earlier responses.
func TestHARRecordingBecomesAPlanThatRuns(t *testing.T) {
	base := startShop(t)
	fixture := filepath.Join("testdata", "shop.har")
	if *update {
		if err := os.WriteFile(fixture, recordShopHAR(t, base), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := derive.ReadHAR(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := derive.FromHAR(&out, h, derive.HAROptions{BaseURL: base}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Logf("plan from the HAR:\n%s", text)
	p, err := plan.Parse("recorded.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("the plan does not validate: %v\n%s", err, text)
	}
	for _, want := range []string{
		`extract: { token: "token" }`,
		`"Authorization": "Bearer {{ .vars.token }}"`,
		`post: "/v1/cart/{{ .vars.cart_id }}/coupons"`,
		`get: "/v1/orders/{{ .vars.order_id }}"`,
		`"password":"{{ .env.HAR_PASSWORD }}"`,
		`env: [HAR_PASSWORD]`,
		`think: 1.5s..1.5s`,
		"left out (static assets, other hosts)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the plan lacks %s", want)
		}
	}
	if strings.Contains(text, `"secret"`) || strings.Contains(text, "Mozilla") || strings.Contains(text, "app.js\"") {
		t.Errorf("the plan carries a password, the browser's agent or a static asset")
	}
	if n := len(p.Journeys[0].Steps); n != 7+6 { // 7 requests, 6 pauses
		t.Errorf("%d steps, want 13", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := generator.Run(ctx, p, generator.Options{
		// two iterations, then time for them to finish their 9 s of pauses
		Load: &plan.Load{Model: plan.ModelOpen, MaxVUs: 10, Stages: []plan.Stage{
			{Duration: time.Second, Target: 2}, {Duration: time.Second, Target: 0}, {Duration: 12 * time.Second, Target: 0}}},
		LookupEnv: func(name string) (string, bool) { return "secret", name == "HAR_PASSWORD" },
		Warn:      func(m string) { t.Log("generator:", m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests == 0 || res.Summary.Errors != 0 {
		t.Fatalf("the recorded plan sent %d requests, %d failed (%v)", res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
	}
	for _, s := range res.ByName {
		if s.Requests == 0 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", s.Name, s.Requests, s.Errors)
		}
	}
	if len(res.ByName) != 7 {
		t.Errorf("%d request names ran, want 7: %+v", len(res.ByName), res.ByName)
	}
}
