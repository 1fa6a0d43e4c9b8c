package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fuzzRules are a shared server's rules: load to 127.0.0.1:18601 only,
// observe to 127.0.0.1:9090 only, no environment, at most 50 users, and
// its own address 127.0.0.1:8080 denied.
var fuzzRules = Rules{
	Shared:  true,
	Load:    MustHostList("127.0.0.1:18601"),
	Observe: MustHostList("127.0.0.1:9090"),
	MaxVUs:  50,
	Deny:    func(e Endpoint) bool { return e.Local(8080) },
}

const rulesPlan = `version: 1
name: r
target:
  base_url: %s
load:
  model: open
  stages:
    - { duration: 1s, target: 2 }
journeys:
  - name: j
    steps:
      - get: /ok
`

// FuzzRules feeds a plan and a job's settings.base_url through what the
// server does with them (ParseWith, then CheckURL and TargetKey): it must
// never panic, every refusal must be an *Error, and whatever is accepted
// sends load only to the allowed endpoint, observes only the allowed one,
// reads no environment, stays within the user cap and runs as one target.
func FuzzRules(f *testing.F) {
	for _, base := range []string{"http://127.0.0.1:18601", "http://127.0.0.1:018601/x", "http://127.0.0.1:22",
		"http://127.0.0.2:18601", "http://[::ffff:127.0.0.1]:18601", "http://LOCALHOST:8080", "https://127.0.0.1"} {
		f.Add(fmt.Sprintf(rulesPlan, base), "")
	}
	f.Add(fmt.Sprintf(rulesPlan, "http://127.0.0.1:18601")+"observe:\n  prometheus: http://127.0.0.1:9090\n", "http://127.0.0.1:0018601")
	f.Add(fmt.Sprintf(rulesPlan, "http://127.0.0.1:18601")+"data:\n  x: { csv: ../x.csv }\n", "http://127.0.0.1:8080")
	f.Add(strings.Replace(fmt.Sprintf(rulesPlan, "http://127.0.0.1:18601"), "  base_url", "  headers: { Host: evil }\n  env: [HOME]\n  base_url", 1), "http://")
	f.Fuzz(func(t *testing.T, yaml, settingsBase string) {
		p, err := ParseWith("fuzz.yaml", []byte(yaml), fuzzRules)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("error %T %q is not a *plan.Error", err, err)
			}
			return
		}
		checkPromises(t, p)
		allowed := Endpoint{Host: "127.0.0.1", Port: 18601}
		for _, raw := range []string{p.Target.BaseURL, p.Capacity.VerifyURL} {
			if raw == "" {
				continue
			}
			if e, err := URLEndpoint(raw); err != nil || e != allowed {
				t.Fatalf("load may go to %q (%v, %v)", raw, e, err)
			}
		}
		for _, j := range p.Journeys {
			for _, s := range j.Steps {
				if isAbsolute(s.Path) {
					if e, err := URLEndpoint(scheme(s.Path) + authority(s.Path)); err != nil || e != allowed {
						t.Fatalf("a step sends load to %q", s.Path)
					}
				}
			}
		}
		for _, raw := range []string{p.Observe.Prometheus, p.Observe.Jaeger, p.Observe.Tempo, p.Observe.Grafana} {
			if raw == "" {
				continue
			}
			if e, err := URLEndpoint(raw); err != nil || e != (Endpoint{Host: "127.0.0.1", Port: 9090}) {
				t.Fatalf("observe may go to %q", raw)
			}
		}
		if len(p.Target.Env) > 0 || p.Load.MaxVUs > 50 || p.Sandbox == nil {
			t.Fatalf("env %v, max_vus %d, sandbox %v", p.Target.Env, p.Load.MaxVUs, p.Sandbox)
		}
		for k := range p.Target.Headers {
			if strings.EqualFold(strings.TrimSpace(k), "host") {
				t.Fatalf("a Host header %q was accepted", p.Target.Headers[k])
			}
		}
		// The job's settings: a base URL is accepted only when allowed, and
		// the job's target is then the one normalised endpoint.
		if err := fuzzRules.CheckURL("settings.base_url", settingsBase); err == nil {
			if key := p.TargetKey(settingsBase); key != allowed.String() {
				t.Fatalf("settings.base_url %q accepted with target %q", settingsBase, key)
			}
		}
	})
}

// TestRulesRefuse lists what a shared server refuses, each at its field.
func TestRulesRefuse(t *testing.T) {
	ok := fmt.Sprintf(rulesPlan, "http://127.0.0.1:18601")
	cases := []struct{ name, yaml, field string }{
		{"another port", fmt.Sprintf(rulesPlan, "http://127.0.0.1:22"), "target.base_url"},
		{"another host", fmt.Sprintf(rulesPlan, "http://127.0.0.2:18601"), "target.base_url"},
		{"own address", fmt.Sprintf(rulesPlan, "http://localhost:8080"), "target.base_url"},
		{"env", strings.Replace(ok, "  base_url", "  env: [HOME]\n  base_url", 1), "target.env[0]"},
		{"absolute data", ok + "data:\n  x: { csv: /etc/passwd }\n", "data.x.csv"},
		{"dot-dot data", ok + "data:\n  x: { csv: a/../../x.csv }\n", "data.x.csv"},
		{"observe", ok + "observe:\n  jaeger: http://127.0.0.1:16686\n", "observe.jaeger"},
		{"profiles", ok + "observe:\n  pprof: http://127.0.0.2:6060/debug/pprof\n", "observe.pprof"},
		{"database dsn", ok + "observe:\n  database: { driver: postgres, dsn_env: SECRET_DB_URL }\n", "observe.database.dsn_env"},
		{"host header", strings.Replace(ok, "  base_url", "  headers: { host: payments.prod.internal }\n  base_url", 1), "target.headers.host"},
		{"templated host header", strings.Replace(ok, "  base_url", "  headers: { Host: \"{{ .vars.h }}\" }\n  base_url", 1), "target.headers.Host"},
		{"templated absolute URL", strings.Replace(ok, "get: /ok", "get: \"http://{{ .vars.h }}/x\"", 1), "journeys[0].steps[0].get"},
		{"too many users", strings.Replace(ok, "model: open", "model: open\n  max_vus: 51", 1), "load.max_vus"},
		{"a closed model within the cap", strings.Replace(ok, "model: open", "model: closed", 1), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWith("p.yaml", []byte(c.yaml), fuzzRules)
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.field+":") {
				t.Fatalf("got %v, want a problem on %s", err, c.field)
			}
		})
	}
	if _, err := ParseWith("p.yaml", []byte(ok), fuzzRules); err != nil {
		t.Fatalf("the allowed plan: %v", err)
	}
	if _, err := Parse("p.yaml", []byte(strings.Replace(ok, "  base_url", "  env: [HOME]\n  base_url", 1))); err != nil {
		t.Fatalf("without rules (the CLI) target.env stays free: %v", err)
	}
}

// TestEndpoints proves one spelling per endpoint and ports as numbers.
func TestEndpoints(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:018601/x": "127.0.0.1:18601",
		"http://127.0.0.1:18601":    "127.0.0.1:18601",
		"http://LOCALHOST.":         "localhost:80",
		"https://[::1]":             "[::1]:443",
		"http://[::ffff:127.0.0.2]": "127.0.0.2:80",
	} {
		e, err := URLEndpoint(raw)
		if err != nil || e.String() != want {
			t.Errorf("URLEndpoint(%q) = %v, %v; want %s", raw, e, err, want)
		}
	}
	for _, bad := range []string{"http://", "ftp://x", "http://x:0", "http://x:65536", "http://x:-1"} {
		if _, err := URLEndpoint(bad); err == nil {
			t.Errorf("URLEndpoint(%q) accepted", bad)
		}
	}
	l := MustHostList("127.0.0.1:18601", "*.shop.internal", "::1")
	for e, want := range map[Endpoint]bool{
		{"127.0.0.1", 18601}: true, {"127.0.0.1", 22}: false, {"a.shop.internal", 443}: true,
		{"shop.internal", 80}: false, {"::1", 5}: true, {"127.0.0.2", 18601}: false,
	} {
		if l.Allows(e) != want {
			t.Errorf("Allows(%v) = %v", e, !want)
		}
	}
}
