package plan

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic or hang,
// every failure must be an *Error, and every plan it accepts must keep the
// promises validation makes.
func FuzzParse(f *testing.F) {
	ref, err := os.ReadFile(filepath.Join("testdata", "plan-v1.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ref)
	f.Add([]byte(minimal))
	for _, c := range badPlans {
		f.Add([]byte(c.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Msg == "" {
				t.Fatalf("error %T %q is not a *plan.Error with a message", err, err)
			}
			return
		}
		checkPromises(t, p)
	})
}

// checkPromises fails t when an accepted plan breaks what validation
// promises to the generator and the capacity engine.
func checkPromises(t *testing.T, p *Plan) {
	t.Helper()
	if p.Version != 1 || len(p.Load.Stages) == 0 || len(p.Journeys) == 0 || p.Load.MaxVUs <= 0 {
		t.Fatalf("accepted plan lacks basics: %+v", p)
	}
	u, err := url.Parse(p.Target.BaseURL)
	if err != nil || !p.Allowed(u.Host) {
		t.Fatalf("base URL %q not parseable or not allowed (%v)", p.Target.BaseURL, err)
	}
	for _, s := range p.Load.Stages {
		if s.Duration <= 0 || s.Target < 0 {
			t.Fatalf("bad stage %+v", s)
		}
	}
	for _, j := range p.Journeys {
		requests := 0
		for _, s := range j.Steps {
			if s.Chance < 0 || s.Chance > 1 || s.Think.Min > s.Think.Max || s.Think.Min < 0 {
				t.Fatalf("bad step %+v", s)
			}
			if s.Method != "" {
				requests++
			}
		}
		if j.Weight < 1 || requests == 0 {
			t.Fatalf("bad journey %+v", j)
		}
	}
	for _, o := range p.Objectives() {
		if o.Op == "" || o.Threshold == "" {
			t.Fatalf("bad objective %+v", o)
		}
	}
}
