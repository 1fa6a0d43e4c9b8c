package plan

import (
	"errors"
	"strings"
	"testing"
)

// minimal is the smallest valid plan. Its journeys come last so that a
// case can append steps (at line 11 and on) or new top-level sections.
const minimal = `version: 1
target:
  base_url: http://127.0.0.1:18081
load:
  stages:
    - { duration: 10s, target: 5 }
journeys:
  - name: browse
    steps:
      - get: /v1/products
`

// badPlans are plans that must be refused, each with the exact error.
var badPlans = []struct {
	name, yaml, want string
}{
	// YAML itself.
	{"empty file", ``, `plan.yaml:1: the plan is empty (it needs version, target, load and journeys)`},
	{"only a comment", "# nothing\n", `plan.yaml:1: the plan is empty (it needs version, target, load and journeys)`},
	{"syntax error", "version: 1\ntarget: [\n", `plan.yaml:2: YAML syntax: did not find expected node content`},
	{"two documents", minimal + "---\nversion: 1\n", `plan.yaml:12: a plan is one YAML document; a second one starts here`},
	{"root is a list", "- version: 1\n", `plan.yaml:1: expected a map, got a list`},
	{"duplicate key", minimal + "version: 1\n", `plan.yaml:11: version: duplicate key (first at line 1)`},
	{"unknown anchor", minimal + "name: *nope\n", `plan.yaml: YAML syntax: unknown anchor 'nope' referenced`},
	{"self-referencing alias", minimal + "      - &s { get: /x, json: [*s] }\n",
		`plan.yaml:11: journeys[0].steps[1].json[0].json[0]: alias *s is used inside its own anchor`},
	{"merge of itself", minimal + "slo: &a { <<: *a }\n", `plan.yaml:11: slo.<<: alias *a is merged into its own anchor`},

	// Unknown fields and wrong types.
	{"unknown top-level field", minimal + "slos: {p95: 1s}\n", `plan.yaml:11: slos: unknown field (did you mean "slo"?)`},
	{"unknown step field", minimal + "      - gett: /v1/cart\n", `plan.yaml:11: journeys[0].steps[1].gett: unknown field (did you mean "get"?)`},
	{"upper-case method key", minimal + "      - GET: /v1/cart\n", `plan.yaml:11: journeys[0].steps[1].GET: unknown field (did you mean "get"?)`},
	{"list where a map is expected", minimal + "slo: [p95, 1s]\n", `plan.yaml:11: slo: expected a map, got a list`},
	{"map where a list is expected", minimal + "thresholds: 3\n", `plan.yaml:11: thresholds: expected a list, got "3"`},
	{"text for a number", minimal + "capacity: { start_rate: abc }\n", `plan.yaml:11: capacity.start_rate: "abc" is not a rate (e.g. 50/s)`},
	{"text for a whole number", minimal + "capacity: { instances: three }\n", `plan.yaml:11: capacity.instances: "three" is not a whole number`},
	{"fraction for a whole number", minimal + "capacity: { instances: 2.5 }\n", `plan.yaml:11: capacity.instances: "2.5" is not a whole number`},
	{"map for text", minimal + "name: { a: b }\n", `plan.yaml:11: name: expected text, got a map`},
	{"bool", minimal + "business: { peak_factor: [1] }\n", `plan.yaml:11: business.peak_factor: expected a number, got a list`},

	// Values.
	{"bad duration", minimal + "capacity: { step_duration: 2x }\n", `plan.yaml:11: capacity.step_duration: "2x" is not a duration`},
	{"bare number duration", minimal + "target2: 1\n", `plan.yaml:11: target2: unknown field (did you mean "target"?)`},
	{"negative rate", minimal + "abort: { max_rate: -5/s }\n", `plan.yaml:11: abort.max_rate: must be >= 0, got -5/s`},
	{"rate unit", minimal + "slo: { min_throughput: 5/h }\n", `plan.yaml:11: slo.min_throughput: "5/h" is not a rate (use /s or /m)`},
	{"percentage above 100", minimal + "abort: { error_rate: 150% }\n", `plan.yaml:11: abort.error_rate: must be between 0% and 100%, got 150%`},
	{"fraction above 1", minimal + "slo: { error_rate: 5 }\n", `plan.yaml:11: slo.error_rate: must be a fraction between 0 and 1 or a percentage like "5%", got 5`},
	{"warmup of everything", minimal + "capacity: { warmup: 100% }\n", `plan.yaml:11: capacity.warmup: must be below 100%, got 100%`},
	{"zero precision", minimal + "capacity: { precision: 0 }\n", `plan.yaml:11: capacity.precision: must be > 0, got 0`},
	{"chance 1.5", minimal + "      - { get: /v1/cart, chance: 1.5 }\n", `plan.yaml:11: journeys[0].steps[1].chance: must be between 0 and 1, got 1.5`},
	{"think range goes down", minimal + "      - think: 3s..1s\n", `plan.yaml:11: journeys[0].steps[1].think: range 3s..1s goes down (write the shorter time first)`},
	{"think bare number", minimal + "      - think: 2\n", `plan.yaml:11: journeys[0].steps[1].think: 2 is not a duration (add a unit, e.g. 2s or 2ms)`},
	{"bad status", minimal + "      - { get: /v1/cart, expect: { status: [200, 1000] } }\n", `plan.yaml:11: journeys[0].steps[1].expect.status[1]: an HTTP status must be between 100 and 599, got 1000`},
	{"zero weight", minimal + "  - { name: other, weight: 0, steps: [ { get: / } ] }\n", `plan.yaml:11: journeys[1].weight: must be >= 1, got 0`},
	{"unclosed template", minimal + "      - get: /v1/products/{{ .vars.id\n", `plan.yaml:11: journeys[0].steps[1].get: template "/v1/products/{{ .vars.id" has "{{" without "}}"`},
	{"bad extract name", minimal + "      - { get: /v1/cart, extract: { cart-id: id } }\n", `plan.yaml:11: journeys[0].steps[1].extract.cart-id: a variable name must be letters, digits and _ (templates read it as .vars.cart-id)`},
	{"json NaN", minimal + "      - { post: /v1/cart, json: { n: .nan } }\n", `plan.yaml:11: journeys[0].steps[1].json.n: .nan cannot be sent as JSON (quote it to send text)`},

	// Steps.
	{"two requests in one step", minimal + "      - { get: /a, post: /b }\n", `plan.yaml:11: journeys[0].steps[1]: a step makes one request, found get and post`},
	{"method without path", minimal + "      - method: GET\n", `plan.yaml:11: journeys[0].steps[1].path: required with method`},
	{"unsupported method", minimal + "      - { method: TRACE, path: /a }\n", `plan.yaml:11: journeys[0].steps[1].method: "TRACE" is not a supported method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)`},
	{"method key and method", minimal + "      - { get: /a, method: POST, path: /b }\n", `plan.yaml:11: journeys[0].steps[1].get: a step names its request once: use get: <path> or method: + path:, not both`},
	{"relative path without slash", minimal + "      - get: v1/cart\n", `plan.yaml:11: journeys[0].steps[1].get: path "v1/cart" must start with "/" or be an absolute http(s) URL`},
	{"step without request", minimal + "      - name: nothing\n", `plan.yaml:11: journeys[0].steps[1]: a step needs a request (get:, post:, put:, patch:, delete:, head:, options:) or a think time`},
	{"headers on a pause", minimal + "      - { think: 1s, headers: { A: b } }\n", `plan.yaml:11: journeys[0].steps[1].headers: only a request step can have headers (add get:, post:, ... to this step)`},
	{"two bodies", minimal + "      - { post: /a, json: {}, body: x }\n", `plan.yaml:11: journeys[0].steps[1].body: a step has one body: json and body cannot be used together`},
	{"journey of pauses", minimal + "  - { name: idle, steps: [ { think: 1s } ] }\n", `plan.yaml:11: journeys[1].steps: journey "idle" needs at least one request step`},
	{"duplicate journey name", minimal + "  - { name: browse, steps: [ { get: / } ] }\n", `plan.yaml:11: journeys[1].name: journey name "browse" is already used by journeys[0]`},

	// Thresholds.
	{"threshold unknown metric", minimal + "thresholds:\n  - http_req_durations: p(99)<1s\n", `plan.yaml:12: thresholds[0].http_req_durations: unknown metric (did you mean "http_req_duration"?)`},
	{"threshold bad stat", minimal + "thresholds:\n  - http_req_duration: p99<1s\n", `plan.yaml:12: thresholds[0].http_req_duration: "p99<1s": unknown statistic "p99" (use p(N), avg, med, min or max)`},
	{"threshold bad operator", minimal + "thresholds:\n  - http_req_duration: avg==100\n", `plan.yaml:12: thresholds[0].http_req_duration: "avg==100": operator "==" is not supported (use <, <=, > or >=)`},
	{"threshold bad value", minimal + "thresholds:\n  - http_req_duration: avg<fast\n", `plan.yaml:12: thresholds[0].http_req_duration: "avg<fast": "fast" is not a duration or a number of milliseconds`},
	{"threshold rate above 1", minimal + "thresholds:\n  - http_req_failed: rate<2\n", `plan.yaml:12: thresholds[0].http_req_failed: "rate<2": 2 must be between 0 and 1`},
	{"threshold two metrics", minimal + "thresholds:\n  - { http_reqs: count>1, http_req_failed: rate<0.1 }\n", `plan.yaml:12: thresholds[0]: a threshold is one metric and its expression, e.g. - http_req_duration: "p(99)<400ms"`},
	{"threshold list item", minimal + "thresholds:\n  - http_req_duration:\n      - avg<1s\n      - p(95)<1x\n",
		`plan.yaml:14: thresholds[0].http_req_duration[1]: "p(95)<1x": "1x" is not a duration or a number of milliseconds`},
	{"threshold object without expression", minimal + "thresholds:\n  - http_req_failed: { abortOnFail: true }\n",
		`plan.yaml:12: thresholds[0].http_req_failed.threshold: required, e.g. "p(99)<400ms"`},
	{"threshold object unknown key", minimal + "thresholds:\n  - http_req_failed: { threshold: rate<0.1, abortOnFial: true }\n",
		`plan.yaml:12: thresholds[0].http_req_failed.abortOnFial: unknown field (did you mean "abortOnFail"?)`},
	{"threshold percentile", minimal + "thresholds:\n  - http_req_duration: p(120)<1s\n", `plan.yaml:12: thresholds[0].http_req_duration: "p(120)<1s": percentile "120" must be a number above 0 and at most 100`},
}

// TestBadPlans proves that each bad plan is refused with an *Error whose
// text names the file, the line and the field.
func TestBadPlans(t *testing.T) {
	for _, c := range badPlans {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("plan.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("Parse accepted the plan: %+v", p)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *plan.Error: %v", err, err)
			}
			if err.Error() != c.want {
				t.Errorf("error\n got  %s\n want %s", err, c.want)
			}
		})
	}
}

// TestMinimalPlanIsValid guards the base of the bad-plan table: every case
// must fail because of what it adds, not because the base is wrong.
func TestMinimalPlanIsValid(t *testing.T) {
	if _, err := Parse("plan.yaml", []byte(minimal)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(minimal, "      - get: /v1/products\n") {
		t.Fatal("minimal must end with the step list so cases can append steps")
	}
}
