package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/headroom-sre/headroom/server"
)

// apiSpec is the OpenAPI document loaded and checked once per test binary,
// with the router that finds each request's operation.
var apiSpec = sync.OnceValues(func() (routers.Router, error) {
	raw, err := server.OpenAPI()
	if err != nil {
		return nil, err
	}
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// validateResponse fails t when an /api/v1 response does not match the
// OpenAPI document (see checkResponse).
func validateResponse(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := checkResponse(req, status, header, body); err != nil {
		t.Errorf("%v", err)
	}
}

// checkResponse says how an /api/v1 response breaks the OpenAPI document:
// an operation the document lacks, a status it does not list, a media type
// it does not give, or a JSON body that breaks its schema. Other paths
// (health, metrics, the dashboard) are not the API's.
func checkResponse(req *http.Request, status int, header http.Header, body []byte) error {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return nil
	}
	router, err := apiSpec()
	if err != nil {
		return fmt.Errorf("the OpenAPI document: %w", err)
	}
	// The router matches the document's relative server (/api/v1) on any host.
	r := req.Clone(context.Background())
	r.Body = http.NoBody
	route, params, err := router.FindRoute(r)
	if err != nil && status >= 400 && !knownMethod(req.Method) {
		// A method HTTP does not define, refused (the
		// security suite sends such): no operation answered it.
		return nil
	}
	if err != nil {
		return fmt.Errorf("OpenAPI: %s %s is not in the document: %w", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if ct := header.Get("Content-Type"); !strings.Contains(ct, "json") {
		opts.ExcludeResponseBody = true // reports and streams: their media type is checked, not parsed
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("OpenAPI: %s %s → %d does not match the document: %w\nbody: %.500s", req.Method, req.URL.Path, status, err, body)
	}
	return nil
}

// knownMethod says whether m is one of HTTP's own methods.
func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// openAPICheck is the tests' HTTP transport (TestMain installs it as
// http.DefaultTransport): every /api/v1 response a test receives is
// checked against the OpenAPI document, and TestMain fails the run when
// one does not match. An event stream's status and media type are
// checked; its body is left to the test that reads it.
type openAPICheck struct {
	next http.RoundTripper
	mu   sync.Mutex
	bad  []string
	seen int
}

func (c *openAPICheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return resp, err
	}
	var body []byte
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return resp, nil // the test sees the short body
		}
	}
	cerr := checkResponse(req, resp.StatusCode, resp.Header, body)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen++
	if cerr != nil {
		c.bad = append(c.bad, cerr.Error())
	}
	return resp, nil
}

// report writes the mismatches and says whether there were any.
func (c *openAPICheck) report() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(os.Stderr, "OpenAPI: %d /api/v1 responses checked, %d do not match the document\n", c.seen, len(c.bad))
	for _, b := range c.bad {
		fmt.Fprintln(os.Stderr, b)
	}
	return len(c.bad) > 0
}

// TestOpenAPIDocument checks the document is a valid OpenAPI 3.1 document
// and is served, without a token, at /api/v1/openapi.json.
func TestOpenAPIDocument(t *testing.T) {
	if _, err := apiSpec(); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, server.Config{})
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/v1/openapi.json", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"openapi":"3.1.0"`)) {
		t.Fatalf("GET /api/v1/openapi.json = %d %.200s", resp.StatusCode, raw)
	}
	validateResponse(t, req, resp.StatusCode, resp.Header, raw)
}

// TestValidateResponseCatchesAMismatch makes sure the helper fails on a
// response the document does not describe (a job without its id).
func TestValidateResponseCatchesAMismatch(t *testing.T) {
	ft := &fakeT{TB: t}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/jobs/1", nil)
	h := http.Header{"Content-Type": []string{"application/json"}}
	validateResponse(ft, req, http.StatusOK, h, []byte(`{"kind":"run"}`))
	if !ft.failed {
		t.Fatal("a job without its required fields passed validation")
	}
	ft = &fakeT{TB: t}
	validateResponse(ft, httptest.NewRequest(http.MethodGet, "/api/v1/nothing", nil), http.StatusOK, h, []byte(`{}`))
	if !ft.failed {
		t.Fatal("an operation the document lacks passed validation")
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }
func (f *fakeT) Helper()               {}
