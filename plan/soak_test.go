package plan

import (
	"strings"
	"testing"
	"time"
)

const soakBase = `version: 1
target: { base_url: http://127.0.0.1:1 }
load:
  stages:
    - { duration: 10s, target: 20 }
    - { duration: 1m, target: 50 }
    - { duration: 10s, target: 0 }
journeys:
  - name: j
    steps: [ { name: a, get: / } ]
`

func TestSoakHoldsTheLastNonZeroTarget(t *testing.T) {
	p, err := Parse("soak.yaml", []byte(soakBase+"soak: { duration: 2h, memory_limit: 512MiB }\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Soak.Duration != 2*time.Hour || p.Soak.MemoryLimit != 512<<20 || p.Soak.Warmup != 0.1 {
		t.Errorf("soak %+v", p.Soak)
	}
	l, from, to, target := p.SoakLoad()
	if target != 50 || from != 70*time.Second || to != 70*time.Second+2*time.Hour {
		t.Errorf("hold %v–%v at %v, want 70s–2h1m10s at 50", from, to, target)
	}
	want := []Stage{{10 * time.Second, 20}, {time.Minute, 50}, {2 * time.Hour, 50}, {10 * time.Second, 0}}
	if len(l.Stages) != len(want) {
		t.Fatalf("stages %+v, want %+v", l.Stages, want)
	}
	for i := range want {
		if l.Stages[i] != want[i] {
			t.Errorf("stage %d %+v, want %+v", i, l.Stages[i], want[i])
		}
	}
	if len(p.Load.Stages) != 3 {
		t.Errorf("the plan's own load changed: %+v", p.Load.Stages)
	}
}

func TestSoakAndSpikeErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ yaml, field string }{
		{"soak: { duration: 2 }\n", "soak.duration"},
		{"soak: { duration: 1h, memory_limit: lots }\n", "soak.memory_limit"},
		{"soak: { duration: 1h, warmup: 100% }\n", "soak.warmup"},
		{"soak: { duration: 1h, hold: 1h }\n", "soak.hold"},
		{"spike: { factor: 1 }\n", "spike.factor"},
		{"spike: { hold: -1s }\n", "spike.hold"},
		{"soak: { duration: 1h }\nspike: { factor: 3 }\n", "spike"},
	} {
		_, err := Parse("soak.yaml", []byte(soakBase+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%q: error %v, want one naming %s", tc.yaml, err, tc.field)
		}
	}
	zero := strings.Replace(soakBase, "target: 20", "target: 0", 1)
	zero = strings.Replace(zero, "target: 50", "target: 0", 1)
	if _, err := Parse("soak.yaml", []byte(zero+"soak: { duration: 1h }\n")); err == nil || !strings.Contains(err.Error(), "nothing") && !strings.Contains(err.Error(), "above zero") {
		t.Errorf("soak of a zero load: %v", err)
	}
}

func TestSpikeDefaults(t *testing.T) {
	p, err := Parse("soak.yaml", []byte(soakBase+"spike: { factor: 5 }\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Spike{Factor: 5, Ramp: 5 * time.Second, Hold: 30 * time.Second, Before: 30 * time.Second, After: time.Minute}
	if p.Spike != want || !p.Spike.Enabled() {
		t.Errorf("spike %+v, want %+v", p.Spike, want)
	}
}
