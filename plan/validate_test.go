package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// edit returns minimal with old replaced by new; it fails the test when old
// is not there, so a case cannot silently test the unchanged base.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(minimal, old) {
		t.Fatalf("minimal plan has no %q", old)
	}
	return strings.Replace(minimal, old, new, 1)
}

const (
	baseURLLine = "  base_url: http://127.0.0.1:18081\n"
	stageLine   = "    - { duration: 10s, target: 5 }\n"
	journeys    = "journeys:\n  - name: browse\n    steps:\n      - get: /v1/products\n"
)

// TestInvalidPlans proves the checks that span fields, with exact errors.
func TestInvalidPlans(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"host not allowed", baseURLLine, "  base_url: http://Example.com:8080\n  allow: [127.0.0.1]\n",
			`plan.yaml:3: target.base_url: host "example.com" is not in target.allow`},
		{"version missing", "version: 1\n", "",
			`plan.yaml:1: version: required (this parser reads version: 1)`},
		{"version 2", "version: 1\n", "version: 2\n", `plan.yaml:1: version: must be 1, got 2`},
		{"base_url missing", baseURLLine, "  environment: staging\n",
			`plan.yaml:2: target.base_url: required (e.g. http://127.0.0.1:8080)`},
		{"base_url not absolute", baseURLLine, "  base_url: 127.0.0.1:18081\n",
			`plan.yaml:3: target.base_url: "127.0.0.1:18081" must be an absolute http:// or https:// URL`},
		{"base_url ftp", baseURLLine, "  base_url: ftp://127.0.0.1\n",
			`plan.yaml:3: target.base_url: "ftp://127.0.0.1" must be an absolute http:// or https:// URL`},
		{"allow lists a URL", baseURLLine, baseURLLine + "  allow: [http://127.0.0.1]\n",
			`plan.yaml:4: target.allow[0]: "http://127.0.0.1" is not a host name (list hosts only, e.g. 127.0.0.1)`},
		{"bad env name", baseURLLine, baseURLLine + "  env: [SHOP-TOKEN]\n",
			`plan.yaml:4: target.env[0]: "SHOP-TOKEN" is not an environment variable name`},
		{"zero timeout", baseURLLine, baseURLLine + "  timeout: 0s\n", `plan.yaml:4: target.timeout: must be > 0, got 0s`},
		{"bare number timeout", baseURLLine, baseURLLine + "  timeout: 10\n",
			`plan.yaml:4: target.timeout: 10 is not a duration (add a unit, e.g. 10s or 10ms)`},
		{"empty journeys", journeys, "journeys: []\n", `plan.yaml:7: journeys: at least one journey is required`},
		{"no journeys", journeys, "", `plan.yaml:1: journeys: at least one journey is required`},
		{"no stages", stageLine, "", `plan.yaml:5: load.stages: at least one stage is required, e.g. - { duration: 1m, target: 10 }`},
		{"negative target", stageLine, "    - { duration: 10s, target: -5 }\n", `plan.yaml:6: load.stages[0].target: must be >= 0, got -5`},
		{"bad stage duration", stageLine, "    - { duration: 2x, target: 5 }\n", `plan.yaml:6: load.stages[0].duration: "2x" is not a duration`},
		{"zero stage duration", stageLine, "    - { duration: 0s, target: 5 }\n", `plan.yaml:6: load.stages[0].duration: must be > 0, got 0s`},
		{"stage without duration", stageLine, "    - { target: 5 }\n", `plan.yaml:6: load.stages[0].duration: required`},
		{"stage without target", stageLine, "    - { duration: 1s }\n", `plan.yaml:6: load.stages[0].target: required`},
		{"unknown model", "load:\n", "load:\n  model: batch\n", `plan.yaml:5: load.model: "batch" must be open or closed`},
		{"zero max_vus", "load:\n", "load:\n  max_vus: 0\n", `plan.yaml:5: load.max_vus: must be > 0, got 0`},
		{"closed max_vus below peak", "load:\n", "load:\n  model: closed\n  max_vus: 3\n",
			`plan.yaml:6: load.max_vus: 3 is below the load profile's 5 virtual users`},
		{"closed fractional users", stageLine, "    - { duration: 10s, target: 2.5 }\n  model: closed\n",
			`plan.yaml:6: load.stages[0].target: the closed model counts virtual users: 2.5 is not a whole number`},
		{"verify_url not allowed", journeys, journeys + "capacity: { verify_url: http://10.0.0.1:18090 }\n",
			`plan.yaml:11: capacity.verify_url: host "10.0.0.1" is not in target.allow`},
		{"absolute step URL not allowed", journeys, journeys + "      - get: https://evil.example/x?a={{ uuid }}\n",
			`plan.yaml:11: journeys[0].steps[1].get: host "evil.example" is not in target.allow`},
		{"method/path URL not allowed", journeys, journeys + "      - { method: get, path: \"http://localhost:18081/\" }\n",
			`plan.yaml:11: journeys[0].steps[1].path: host "localhost" is not in target.allow`},
		{"data without csv", journeys, journeys + "data: { users: {} }\n", `plan.yaml:11: data.users.csv: required (the path of a CSV file)`},
		{"data bad name", journeys, journeys + "data: { my-users: { csv: u.csv } }\n",
			`plan.yaml:11: data.my-users: a data name must be letters, digits and _ (templates read it as .data.my-users)`},
		{"observe not a URL", journeys, journeys + "observe:\n  prometheus: 127.0.0.1:9090\n",
			`plan.yaml:12: observe.prometheus: "127.0.0.1:9090" must be an absolute http:// or https:// URL`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("plan.yaml", []byte(edit(t, c.old, c.new)))
			if err == nil {
				t.Fatal("Parse accepted the plan")
			}
			if err.Error() != c.want {
				t.Errorf("error\n got  %s\n want %s", err, c.want)
			}
		})
	}
}

// TestDefaults proves the defaults a minimal plan gets.
func TestDefaults(t *testing.T) {
	p, err := Parse("plans/smoke.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{p.Name, p.Target.Timeout, p.Target.Allow, p.Load.Model, p.Load.MaxVUs, p.Abort.For,
		p.Capacity, p.Business.LaunchMultiplier, p.Business.HAMinInstances,
		p.Journeys[0].Weight, p.Journeys[0].Steps[0].Chance, p.Journeys[0].Steps[0].Name}
	want := []any{"smoke", 10 * time.Second, []string{"127.0.0.1"}, ModelOpen, 1000, 10 * time.Second,
		Capacity{StartRate: 10, StepDuration: 30 * time.Second, Warmup: 0.2, Precision: 0.05,
			Cooldown: 10 * time.Second, Instances: 3, StressFactor: 1.5, AutoscaleAt: 0.65},
		2.0, 3, 1, 1.0, "GET /v1/products"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults\n got  %#v\n want %#v", got, want)
	}
}

// TestExplicitZerosSurvive proves that a zero written in the file is kept
// where zero is a real setting, instead of being replaced by the default.
func TestExplicitZerosSurvive(t *testing.T) {
	src := edit(t, journeys, journeys+"      - { get: /rare, chance: 0 }\ncapacity: { warmup: 0%, cooldown: 0s }\n")
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Journeys[0].Steps[1].Chance; c != 0 {
		t.Errorf("chance = %v, want 0", c)
	}
	if p.Capacity.Warmup != 0 || p.Capacity.Cooldown != 0 {
		t.Errorf("warmup, cooldown = %v, %v, want 0, 0", p.Capacity.Warmup, p.Capacity.Cooldown)
	}
}

// TestClosedModelMaxVUsDefault proves that a closed model without max_vus
// gets its peak number of virtual users.
func TestClosedModelMaxVUsDefault(t *testing.T) {
	src := edit(t, stageLine, stageLine+"    - { duration: 10s, target: 40 }\n  model: closed\n")
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Load.Model != "closed" || p.Load.MaxVUs != 40 {
		t.Errorf("model, max_vus = %q, %d, want closed, 40", p.Load.Model, p.Load.MaxVUs)
	}
}

// TestTemplatedHostIsNotChecked proves that an absolute step URL whose host
// is a template is left for the generator to check at run time.
func TestTemplatedHostIsNotChecked(t *testing.T) {
	src := edit(t, journeys, journeys+"      - get: \"http://{{ .env.HOST }}/v1/x\"\n")
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Journeys[0].Steps[1].Path; got != "http://{{ .env.HOST }}/v1/x" {
		t.Errorf("path = %q", got)
	}
}
