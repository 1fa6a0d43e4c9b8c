package capacity

import (
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/plan"
)

func TestRecommendReferencePlanArithmetic(t *testing.T) {
	b := plan.Business{ActiveUsers: 50000, RequestsPerUserPerMinute: 2.5, PeakFactor: 3, LaunchMultiplier: 2, HAMinInstances: 3}
	r, err := Recommend(400, 0.65, b)
	if err != nil {
		t.Fatal(err)
	}
	// threshold 0.65 × 400 = 260; sustained 50000 × 2.5 / 60 = 2083.33;
	// peak 2083.33 × 3 × 2 = 12500; min max(3, ⌈8.01⌉) = 9;
	// max max(18, ⌈25000 / 260 = 96.15⌉) = 97.
	if r.AutoscaleRPS != 260 || r.PeakRPS != 12500 || r.MinInstances != 9 || r.MaxInstances != 97 {
		t.Errorf("threshold %v peak %v min %d max %d; want 260, 12500, 9, 97", r.AutoscaleRPS, r.PeakRPS, r.MinInstances, r.MaxInstances)
	}
	if got := r.SustainedRPS; got < 2083.333 || got > 2083.334 {
		t.Errorf("sustained %v, want 2083.33", got)
	}
	want := []string{
		"autoscale threshold = autoscale_at × unacceptable point = 0.65 × 400 req/s = 260 req/s per instance",
		"sustained = active_users × requests_per_user_per_minute ÷ 60 = 50000 × 2.5 ÷ 60 = 2083.33 req/s",
		"peak = sustained × peak_factor × launch_multiplier = 2083.33 × 3 × 2 = 12500 req/s",
		"min instances = max(ha_min_instances, ⌈sustained ÷ threshold⌉) = max(3, ⌈2083.33 ÷ 260⌉) = max(3, 9) = 9",
		"max instances = max(2 × min, ⌈2 × peak ÷ threshold⌉) = max(2 × 9, ⌈2 × 12500 ÷ 260⌉) = max(18, 97) = 97",
	}
	for i, w := range want {
		if r.Arithmetic[i] != w {
			t.Errorf("arithmetic[%d]\n got %s\nwant %s", i, r.Arithmetic[i], w)
		}
	}
}

func TestRecommendFloorsAtHAMinimumAndDoubling(t *testing.T) {
	cases := []struct {
		name     string
		b        plan.Business
		min, max int
	}{
		{"no business inputs: HA minimum, twice it at most", plan.Business{}, 3, 6},
		// sustained 20, threshold 50: ⌈0.4⌉ = 1 < 2; peak 40: ⌈80/50⌉ = 2 < 2 × 2.
		{"small load: HA minimum and doubling win", plan.Business{ActiveUsers: 120, RequestsPerUserPerMinute: 10, PeakFactor: 1, HAMinInstances: 2}, 2, 4},
		// sustained 100, threshold 50: min ⌈2⌉ → max(2, 2) = 2; peak 100 × 1 × 2 = 200, ⌈400/50⌉ = 8.
		{"exact division does not round up", plan.Business{ActiveUsers: 600, RequestsPerUserPerMinute: 10, HAMinInstances: 1}, 2, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Recommend(100, 0.5, c.b)
			if err != nil {
				t.Fatal(err)
			}
			if r.MinInstances != c.min || r.MaxInstances != c.max {
				t.Errorf("min %d max %d, want %d %d\n%s", r.MinInstances, r.MaxInstances, c.min, c.max, strings.Join(r.Arithmetic, "\n"))
			}
		})
	}
}

func TestRecommendRejectsMissingCapacity(t *testing.T) {
	if _, err := Recommend(0, 0.65, plan.Business{}); err == nil {
		t.Error("no error without a capacity")
	}
	if _, err := Recommend(100, 1.5, plan.Business{}); err == nil || !strings.Contains(err.Error(), "autoscale_at") {
		t.Errorf("err = %v, want one naming capacity.autoscale_at", err)
	}
}
