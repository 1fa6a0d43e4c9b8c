package plan

import (
	"reflect"
	"testing"
	"time"
)

// parseStep parses minimal with one more step appended and returns it.
func parseStep(t *testing.T, step string) Step {
	t.Helper()
	p, err := Parse("plan.yaml", []byte(minimal+step))
	if err != nil {
		t.Fatal(err)
	}
	return p.Journeys[0].Steps[1]
}

// TestStepSyntax proves each way of writing a step.
func TestStepSyntax(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       Step
	}{
		{"method and path", "      - { method: patch, path: /v1/cart/1 }\n",
			Step{Name: "PATCH /v1/cart/1", Method: "PATCH", Path: "/v1/cart/1", Chance: 1, Line: 11}},
		{"every method key", "      - { options: /v1, name: probe }\n",
			Step{Name: "probe", Method: "OPTIONS", Path: "/v1", Chance: 1, Line: 11}},
		{"query form and timeout", "      - { put: /v1/x, query: { page: 2, q: shoes }, form: { a: \"1\" }, timeout: 1500ms }\n",
			Step{Name: "PUT /v1/x", Method: "PUT", Path: "/v1/x", Chance: 1, Line: 11, Timeout: 1500 * time.Millisecond,
				Query: map[string]string{"page": "2", "q": "shoes"}, Form: map[string]string{"a": "1"}}},
		{"raw body", "      - { post: /v1/x, body: \"id={{ uuid }}\" }\n",
			Step{Name: "POST /v1/x", Method: "POST", Path: "/v1/x", Chance: 1, Line: 11, Body: "id={{ uuid }}"}},
		{"json types", "      - { post: /v1/x, json: { i: 7, f: 2.5, b: true, n: null, s: \"7\", l: [1, x], big: 1e3 } }\n",
			Step{Name: "POST /v1/x", Method: "POST", Path: "/v1/x", Chance: 1, Line: 11, JSON: map[string]any{
				"i": int64(7), "f": 2.5, "b": true, "n": nil, "s": "7", "l": []any{int64(1), "x"}, "big": 1000.0,
			}}},
		{"json list body", "      - { post: /v1/x, json: [1, 2] }\n",
			Step{Name: "POST /v1/x", Method: "POST", Path: "/v1/x", Chance: 1, Line: 11, JSON: []any{int64(1), int64(2)}}},
		{"expect everything", "      - { get: /v1/x, expect: { status: [200, 201], json: { a.b: 3, ok: true, id: exists }, contains: hello } }\n",
			Step{Name: "GET /v1/x", Method: "GET", Path: "/v1/x", Chance: 1, Line: 11, Expect: Expect{
				Status: []int{200, 201}, JSON: map[string]string{"a.b": "3", "ok": "true", "id": "exists"}, Contains: "hello",
			}}},
		{"extract keeps file order", "      - { get: /v1/x, extract: { z: a.z, a: b.#, m: \"c|@reverse\" } }\n",
			Step{Name: "GET /v1/x", Method: "GET", Path: "/v1/x", Chance: 1, Line: 11,
				Extract: []Extraction{{"z", "a.z"}, {"a", "b.#"}, {"m", "c|@reverse"}}}},
		{"think after a request", "      - { get: /v1/x, think: 250ms }\n",
			Step{Name: "GET /v1/x", Method: "GET", Path: "/v1/x", Chance: 1, Line: 11,
				Think: Range{250 * time.Millisecond, 250 * time.Millisecond}}},
		{"named pause", "      - { name: read the page, think: 1s .. 2s }\n",
			Step{Name: "read the page", Chance: 1, Line: 11, Think: Range{time.Second, 2 * time.Second}}},
		{"absolute allowed URL", "      - get: http://127.0.0.1:18081/health\n",
			Step{Name: "GET http://127.0.0.1:18081/health", Method: "GET", Path: "http://127.0.0.1:18081/health", Chance: 1, Line: 11}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseStep(t, c.yaml); !reflect.DeepEqual(got, c.want) {
				t.Errorf("step\n got  %#v\n want %#v", got, c.want)
			}
		})
	}
}

// TestAnchorsAndMergeKeys proves that aliases are resolved, that merged
// keys fill in what a map does not say, and that x- keys are ignored.
func TestAnchorsAndMergeKeys(t *testing.T) {
	src := `version: 1
x-auth: &auth { Authorization: "Bearer {{ .vars.token }}", Accept: application/json }
x-step: &cart { post: /v1/cart/items, expect: { status: 201 } }
target:
  base_url: http://127.0.0.1:18081
load:
  stages: &stages
    - { duration: 10s, target: 5 }
journeys:
  - name: a
    steps:
      - { <<: *cart, headers: { <<: *auth, Accept: text/plain } }
      - *cart
`
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	first, second := p.Journeys[0].Steps[0], p.Journeys[0].Steps[1]
	wantHeaders := map[string]string{"Authorization": "Bearer {{ .vars.token }}", "Accept": "text/plain"}
	if !reflect.DeepEqual(first.Headers, wantHeaders) {
		t.Errorf("merged headers = %v, want %v", first.Headers, wantHeaders)
	}
	for _, s := range []Step{first, second} {
		if s.Method != "POST" || s.Path != "/v1/cart/items" || !reflect.DeepEqual(s.Expect.Status, []int{201}) {
			t.Errorf("step from anchor = %s %s %v", s.Method, s.Path, s.Expect.Status)
		}
	}
}

// TestAliasBombIsBounded proves that a billion-laughs plan ends quickly
// with an error instead of expanding.
func TestAliasBombIsBounded(t *testing.T) {
	src := minimal + `      - post: /x
        json:
          - &a [x, x, x, x, x, x, x, x, x, x]
          - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
          - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
          - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
          - &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
          - &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
          - &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
          - &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
`
	_, err := Parse("plan.yaml", []byte(src))
	if err == nil {
		t.Fatal("Parse accepted an alias bomb")
	}
	const want = "plan is too large after expanding aliases (more than 100000 values)"
	if pe, ok := err.(*Error); !ok || pe.Msg != want {
		t.Errorf("error = %v, want one ending in %q", err, want)
	}
}

// TestValueSyntax proves the accepted spellings of rates, fractions and
// durations.
func TestValueSyntax(t *testing.T) {
	src := minimal + `slo: { p50: 1m30s, max: 2s, error_rate: 0.5%, min_throughput: 120/m }
abort: { error_rate: 0.25, max_rate: 300 }
capacity: { start_rate: 5/s, warmup: 0.1, autoscale_at: 80% }
`
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{p.SLO.P50, p.SLO.Max, *p.SLO.ErrorRate, p.SLO.MinThroughput, *p.Abort.ErrorRate, p.Abort.MaxRate,
		p.Capacity.StartRate, p.Capacity.Warmup, p.Capacity.AutoscaleAt}
	want := []any{90 * time.Second, 2 * time.Second, 0.005, 2.0, 0.25, 300.0, 5.0, 0.1, 0.8}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("values\n got  %v\n want %v", got, want)
	}
}

// TestThresholdForms proves the list form with one or several expressions
// per metric, and k6's map form.
func TestThresholdForms(t *testing.T) {
	list := minimal + `thresholds:
  - http_req_duration: ["p(95) < 200", "max<=2s", med<1.5s]
  - http_reqs: count>=1000
  - http_reqs: rate>50/s
  - http_req_duration: p(99.90)<1s
`
	p, err := Parse("plan.yaml", []byte(list))
	if err != nil {
		t.Fatal(err)
	}
	want := []Threshold{
		{Metric: "http_req_duration", Stat: "p(95)", Op: "<", Value: 200, Text: "p(95) < 200", Line: 12},
		{Metric: "http_req_duration", Stat: "max", Op: "<=", Value: 2000, Text: "max<=2s", Line: 12},
		{Metric: "http_req_duration", Stat: "med", Op: "<", Value: 1500, Text: "med<1.5s", Line: 12},
		{Metric: "http_reqs", Stat: "count", Op: ">=", Value: 1000, Text: "count>=1000", Line: 13},
		{Metric: "http_reqs", Stat: "rate", Op: ">", Value: 50, Text: "rate>50/s", Line: 14},
		{Metric: "http_req_duration", Stat: "p(99.9)", Op: "<", Value: 1000, Text: "p(99.90)<1s", Line: 15},
	}
	if !reflect.DeepEqual(p.Thresholds, want) {
		t.Errorf("thresholds\n got  %#v\n want %#v", p.Thresholds, want)
	}

	asMap := minimal + "thresholds:\n  http_req_failed: rate<1%\n  http_req_duration: avg<100\n"
	p, err = Parse("plan.yaml", []byte(asMap))
	if err != nil {
		t.Fatal(err)
	}
	want = []Threshold{
		{Metric: "http_req_failed", Stat: "rate", Op: "<", Value: 0.01, Text: "rate<1%", Line: 12},
		{Metric: "http_req_duration", Stat: "avg", Op: "<", Value: 100, Text: "avg<100", Line: 13},
	}
	if !reflect.DeepEqual(p.Thresholds, want) {
		t.Errorf("map-form thresholds\n got  %#v\n want %#v", p.Thresholds, want)
	}
}

// TestThresholdAbortOnFail proves k6's object form of a threshold.
func TestThresholdAbortOnFail(t *testing.T) {
	src := minimal + `thresholds:
  - http_req_failed:
      - rate<0.5
      - { threshold: "rate<0.2", abortOnFail: true, delayAbortEval: 30s }
`
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Threshold{
		{Metric: "http_req_failed", Stat: "rate", Op: "<", Value: 0.5, Text: "rate<0.5", Line: 12},
		{Metric: "http_req_failed", Stat: "rate", Op: "<", Value: 0.2, Text: "rate<0.2", Line: 12,
			AbortOnFail: true, DelayAbortEval: 30 * time.Second},
	}
	if !reflect.DeepEqual(p.Thresholds, want) {
		t.Errorf("thresholds\n got  %#v\n want %#v", p.Thresholds, want)
	}
}

// TestDataPath proves that data files resolve against the plan's folder.
func TestDataPath(t *testing.T) {
	src := minimal + "data: { users: { csv: users.csv }, abs: { csv: /srv/a.csv } }\n"
	for _, c := range []struct{ file, name, want string }{
		{"plans/shop.yaml", "users", "plans/users.csv"},
		{"plans/shop.yaml", "abs", "/srv/a.csv"},
		{"", "users", "users.csv"},
		{"plans/shop.yaml", "missing", ""},
	} {
		p, err := Parse(c.file, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.DataPath(c.name); got != c.want {
			t.Errorf("DataPath(%q) with file %q = %q, want %q", c.name, c.file, got, c.want)
		}
	}
}
