package main

import (
	"os"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

var defaultParams = planParams{Scheme: "http", Port: 18999, Conns: 64, MaxConns: 64, Seconds: 30}

func TestBenchPlanIsTheTemplateWithDefaults(t *testing.T) {
	want, err := os.ReadFile("../plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := renderPlan(defaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("bench/plan.yaml differs from plan.yaml.tmpl rendered with %+v:\n%s", defaultParams, got)
	}
}

func TestRenderedPlanDrivesClosedMaxRate(t *testing.T) {
	params := planParams{Scheme: "http", Port: 20001, Conns: 8, MaxConns: 8, Seconds: 5}
	text, err := renderPlan(params)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("bench.yaml", []byte(text))
	if err != nil {
		t.Fatalf("plan.Parse: %v\n%s", err, text)
	}
	if p.Target.BaseURL != "http://127.0.0.1:20001" {
		t.Errorf("base_url = %q", p.Target.BaseURL)
	}
	if p.Target.MaxConns != 8 {
		t.Errorf("max_conns = %d, want 8", p.Target.MaxConns)
	}
	l := p.Load
	if l.Model != "closed" || l.Start != 8 || len(l.Stages) != 1 ||
		l.Stages[0].Target != 8 || l.Stages[0].Duration != 5*time.Second {
		t.Errorf("load = %+v, want closed, 8 users from the start for 5s", l)
	}
	if len(p.Journeys) != 1 || len(p.Journeys[0].Steps) != 1 {
		t.Fatalf("journeys = %+v, want one journey of one step", p.Journeys)
	}
	st := p.Journeys[0].Steps[0]
	if st.Method != "GET" || st.Path != "/" || st.Think != (plan.Range{}) {
		t.Errorf("step = %+v, want GET / without think time", st)
	}
}

func TestWritePlan(t *testing.T) {
	path, err := writePlan(t.TempDir(), defaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.LoadFile(path); err != nil {
		t.Errorf("plan.LoadFile(%s): %v", path, err)
	}
}

func TestRenderedPlanOverTLSSkipsVerificationAndBoundsConnections(t *testing.T) {
	text, err := renderPlan(planParams{Scheme: "https", Port: 20002, Conns: 64, MaxConns: 4, Seconds: 5, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse("bench.yaml", []byte(text))
	if err != nil {
		t.Fatalf("plan.Parse: %v\n%s", err, text)
	}
	if p.Target.BaseURL != "https://127.0.0.1:20002" || !p.Target.Insecure || p.Target.MaxConns != 4 {
		t.Errorf("target = %+v, want https, insecure_tls, max_conns 4", p.Target)
	}
}
