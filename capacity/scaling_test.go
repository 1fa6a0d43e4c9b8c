package capacity

import (
	"strings"
	"testing"
)

func TestExplainScalingReplacesTheGenericAdvice(t *testing.T) {
	s := &Study{Notes: []string{"first", subLinearNote(3, 0.4), "last"}}
	s.ExplainScaling("the 3 instances shared 2 cores")
	want := "scaling finding: 3 instances carry 40% of 3 × single-instance capacity — sub-linear; the 3 instances shared 2 cores"
	if len(s.Notes) != 3 || s.Notes[1] != want {
		t.Errorf("notes = %q, want the second to be %q", s.Notes, want)
	}
	if strings.Contains(strings.Join(s.Notes, " "), "look for what the instances share") {
		t.Errorf("the generic advice is still there: %q", s.Notes)
	}

	bare := &Study{}
	bare.ExplainScaling("the generator could not offer the load")
	if len(bare.Notes) != 1 || bare.Notes[0] != "scaling finding: the generator could not offer the load" {
		t.Errorf("without a sub-linear note: %q", bare.Notes)
	}
}

func TestSubLinear(t *testing.T) {
	r := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		ratio *float64
		want  bool
	}{{nil, false}, {r(0.4), true}, {r(0.84), true}, {r(0.86), false}, {r(1.3), false}} {
		if got := (Prediction{Ratio: c.ratio}).SubLinear(); got != c.want {
			t.Errorf("ratio %v: SubLinear = %v, want %v", c.ratio, got, c.want)
		}
	}
}
