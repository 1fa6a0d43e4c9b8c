package generator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

func TestReferencePlanCompiles(t *testing.T) {
	src, err := os.ReadFile("../plan/testdata/plan-v1.yaml")
	if err != nil {
		t.Skip("reference plan not found:", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.yaml")
	writeFile(t, path, string(src))
	writeFile(t, filepath.Join(dir, "users.csv"), "email,password\na@example.com,pw\n")
	p, err := plan.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(context.Background(), p, Options{Warn: func(string) {}})
	if err != nil {
		t.Fatalf("the reference plan does not compile: %v", err)
	}
	want := []string{"add to cart", "apply coupon", "checkout", "list products", "login", "product detail"}
	if strings.Join(e.names, ",") != strings.Join(want, ",") {
		t.Errorf("request names %q, want %q", e.names, want)
	}
}

func TestUnreadableDataFileIsNamedWithItsLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "users.csv"), "email,password\na@x,1\nb@x\n")
	p := newPlan("http://127.0.0.1:1", constant(1, time.Second, 1))
	p.File = filepath.Join(dir, "plan.yaml")
	p.Data = map[string]plan.DataSource{"users": {CSV: "users.csv"}}
	_, err := Run(t.Context(), p, Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "users.csv")+":3:") {
		t.Errorf("err = %v, want the file and line 3", err)
	}
}

func TestTemplateReferencesAreCheckedBeforeLoad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "users.csv"), "email\na@x\n")
	for _, tc := range []struct{ path, want string }{
		{"/{{ .vars.token }}", `no earlier step of the journey extracts "token"`},
		{"/{{ .data.users.phone }}", `has no column "phone"`},
		{"/{{ .data.cards.number }}", `no data source "cards"`},
		{"/{{ .env.HOME }}", `"HOME" is not listed in target.env`},
		{"/{{ .who }}", "unknown field"},
		{"/{{ nope 1 }}", `function "nope" not defined`},
	} {
		p := newPlan("http://127.0.0.1:1", constant(1, time.Second, 1), plan.Journey{Name: "j", Steps: []plan.Step{
			{Name: "s", Method: "GET", Path: tc.path, Line: 12},
		}})
		p.File = filepath.Join(dir, "plan.yaml")
		p.Data = map[string]plan.DataSource{"users": {CSV: "users.csv"}}
		_, err := Run(t.Context(), p, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "plan.yaml:12: journeys[0].steps[0].path") {
			t.Errorf("path %s: err = %v, want %q at plan.yaml:12", tc.path, err, tc.want)
		}
	}
}

func TestDataRowsAreNotSharedAndRunOut(t *testing.T) {
	c, srv := newCounting(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "users.csv"), "id\nu0\nu1\nu2\n")
	l := plan.Load{Model: "closed", Start: 5, Stages: []plan.Stage{{Duration: time.Second, Target: 5}}}
	p := newPlan(srv.URL, l, plan.Journey{Name: "j", Steps: []plan.Step{
		{Name: "get", Method: "GET", Path: "/{{ .data.users.id }}", Think: plan.Range{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond}},
	}})
	p.File = filepath.Join(dir, "plan.yaml")
	p.Data = map[string]plan.DataSource{"users": {CSV: "users.csv"}}
	var warnings []string
	res := mustRun(t, p, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.paths) != 3 || c.paths["/u0"] == 0 || c.paths["/u1"] == 0 || c.paths["/u2"] == 0 {
		t.Errorf("paths %v, want the three rows each used", c.paths)
	}
	if res.Summary.Classes["data_exhausted"] != 1 || len(warnings) != 1 {
		t.Errorf("classes %v, warnings %q; want one data_exhausted error and one warning", res.Summary.Classes, warnings)
	}
	if vus := res.Seconds[0].VUs; vus != 3 {
		t.Errorf("%d users ran, want 3 (one per row)", vus)
	}
}

func TestEnvIsReadOnlyForListedNames(t *testing.T) {
	c, srv := newCounting(t)
	p := newPlan(srv.URL, constant(5, time.Second, 5), plan.Journey{Name: "j", Steps: []plan.Step{
		{Name: "get", Method: "GET", Path: "/{{ .env.SHOP_TOKEN }}"},
	}})
	p.Target.Env = []string{"SHOP_TOKEN"}
	mustRun(t, p, Options{LookupEnv: func(n string) (string, bool) { return "secret-" + n, true }})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.paths["/secret-SHOP_TOKEN"] != 5 {
		t.Errorf("paths %v, want 5 requests to /secret-SHOP_TOKEN", c.paths)
	}
}
