package plan

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestReferencePlanParses proves that the shared reference plan (format
// version 1) loads as it is and that its values mean what its comments say.
func TestReferencePlanParses(t *testing.T) {
	p, err := LoadFile(filepath.Join("testdata", "plan-v1.yaml"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	ms := time.Millisecond
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", p.Version, 1},
		{"name", p.Name, "shop-checkout-readiness"},
		{"target.base_url", p.Target.BaseURL, "http://127.0.0.1:18081"},
		{"target.environment", p.Target.Environment, "staging-mirror"},
		{"target.allow", p.Target.Allow, []string{"127.0.0.1", "localhost"}},
		{"target.timeout", p.Target.Timeout, 10 * time.Second},
		{"target.headers", p.Target.Headers, map[string]string{"User-Agent": "headroom"}},
		{"target.env", p.Target.Env, []string{"SHOP_TOKEN"}},
		{"slo.p95", p.SLO.P95, 200 * ms},
		{"slo.p99", p.SLO.P99, 400 * ms},
		{"slo.error_rate", *p.SLO.ErrorRate, 0.01},
		{"slo.min_throughput", p.SLO.MinThroughput, 50.0},
		{"thresholds", p.Thresholds, []Threshold{
			{Metric: "http_req_duration", Stat: "p(99)", Op: "<", Value: 400, Text: "p(99)<400ms", Line: 24},
			{Metric: "http_req_failed", Stat: "rate", Op: "<", Value: 0.01, Text: "rate<0.01", Line: 25},
		}},
		{"load.model", p.Load.Model, ModelOpen},
		{"load.max_vus", p.Load.MaxVUs, 2000},
		{"load.stages", p.Load.Stages, []Stage{
			{30 * time.Second, 20}, {2 * time.Minute, 200}, {time.Minute, 200}, {30 * time.Second, 0},
		}},
		{"data", p.Data, map[string]DataSource{"users": {CSV: "users.csv"}}},
		{"DataPath", p.DataPath("users"), filepath.Join("testdata", "users.csv")},
		{"journeys", len(p.Journeys), 2},
		{"journeys[0].name", p.Journeys[0].Name, "browse"},
		{"journeys[0].weight", p.Journeys[0].Weight, 10},
		{"journeys[1].weight", p.Journeys[1].Weight, 1},
		{"journeys[0].steps", len(p.Journeys[0].Steps), 3},
		{"journeys[1].steps", len(p.Journeys[1].Steps), 5},
		{"abort.error_rate", *p.Abort.ErrorRate, 0.5},
		{"abort.for", p.Abort.For, 10 * time.Second},
		{"abort.max_rate", p.Abort.MaxRate, 2000.0},
		{"abort.p99", p.Abort.P99, 5 * time.Second},
		{"observe", p.Observe, Observe{
			Prometheus: "http://127.0.0.1:19090",
			Selector:   `{job="shop"}`,
			Tempo:      "http://127.0.0.1:13200",
			Service:    "shop",
			Grafana:    "http://127.0.0.1:13000",
			Signals:    map[string]string{"pool_wait": `rate(go_sql_wait_duration_seconds_total{job="shop"}[15s])`},
		}},
		{"capacity", p.Capacity, Capacity{
			StartRate: 10, StepDuration: 30 * time.Second, Warmup: 0.2, Precision: 0.05,
			Cooldown: 10 * time.Second, Instances: 3, VerifyURL: "http://127.0.0.1:18090",
			StressFactor: 1.5, AutoscaleAt: 0.65, RequiredRPS: 300,
		}},
		{"business", p.Business, Business{
			ActiveUsers: 50000, RequestsPerUserPerMinute: 2.5, PeakFactor: 3,
			LaunchMultiplier: 2, HAMinInstances: 3,
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestReferencePlanSteps checks the journeys' steps one by one.
func TestReferencePlanSteps(t *testing.T) {
	p, err := LoadFile(filepath.Join("testdata", "plan-v1.yaml"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	browse, checkout := p.Journeys[0].Steps, p.Journeys[1].Steps
	want := []struct {
		name string
		got  Step
		want Step
	}{
		{"list products", browse[0], Step{
			Name: "list products", Method: "GET", Path: "/v1/products?page={{ randInt 1 20 }}",
			Chance: 1, Expect: Expect{Status: []int{200}}, Line: 43,
		}},
		{"think", browse[1], Step{Think: Range{time.Second, 3 * time.Second}, Chance: 1, Line: 46}},
		{"product detail", browse[2], Step{
			Name: "product detail", Method: "GET", Path: "/v1/products/{{ randInt 1 10000 }}", Chance: 1,
			Expect: Expect{Status: []int{200}, JSON: map[string]string{"id": "exists"}}, Line: 47,
		}},
		{"login", checkout[0], Step{
			Name: "login", Method: "POST", Path: "/v1/login", Chance: 1,
			JSON:    map[string]any{"user": "{{ .data.users.email }}", "password": "{{ .data.users.password }}"},
			Expect:  Expect{Status: []int{200}},
			Extract: []Extraction{{Var: "token", Path: "token"}}, Line: 54,
		}},
		{"add to cart", checkout[1], Step{
			Name: "add to cart", Method: "POST", Path: "/v1/cart/items", Chance: 1,
			Headers: map[string]string{"Authorization": "Bearer {{ .vars.token }}"},
			JSON:    map[string]any{"product_id": "{{ randInt 1 10000 }}", "quantity": int64(1)},
			Expect:  Expect{Status: []int{201}},
			Extract: []Extraction{{Var: "cart_id", Path: "cart_id"}}, Line: 59,
		}},
		{"think 2", checkout[2], Step{Think: Range{500 * time.Millisecond, 2 * time.Second}, Chance: 1, Line: 65}},
		{"apply coupon", checkout[3], Step{
			Name: "apply coupon", Method: "POST", Path: "/v1/cart/{{ .vars.cart_id }}/coupons", Chance: 0.3,
			JSON: map[string]any{"code": "SAVE10"}, Line: 66,
		}},
		{"checkout", checkout[4], Step{
			Name: "checkout", Method: "POST", Path: "/v1/checkout", Chance: 1, Timeout: 10 * time.Second,
			Headers: map[string]string{"Authorization": "Bearer {{ .vars.token }}"},
			JSON: map[string]any{
				"cart_id":           "{{ .vars.cart_id }}",
				"payment_method_id": "pm-test-visa",
				"shipping_address": map[string]any{
					"street": "123 Test St", "city": "Testville", "zip": "12345", "country": "US",
				},
			},
			Expect: Expect{Status: []int{200}}, Line: 70,
		}},
	}
	for _, w := range want {
		if !reflect.DeepEqual(w.got, w.want) {
			t.Errorf("step %s:\n got  %#v\n want %#v", w.name, w.got, w.want)
		}
	}
}
