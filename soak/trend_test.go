package soak

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTheilSenExactLine(t *testing.T) {
	var xs, ys []float64
	for i := range 50 {
		xs = append(xs, float64(i))
		ys = append(ys, 3+2*float64(i))
	}
	tr, err := TheilSen(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Slope != 2 || tr.Intercept != 3 || tr.Low != 2 || tr.High != 2 {
		t.Errorf("fit of y = 3 + 2x: %+v, want slope 2, intercept 3, CI [2, 2]", tr)
	}
}

// A hand-worked example: points (1,1) (2,3) (3,2) (4,5) (5,4).
// The ten pairwise slopes, sorted: −1 −1 ⅓ ½ ¾ 1 1 4⁄3 2 3 → median
// (¾ + 1)/2 = 0.875. Residuals y − 0.875x: 0.125 1.25 −0.625 1.5 −0.375 →
// median 0.125. Sen's interval: N = 10, Var(S) = 5·4·15/18 = 16.67,
// C = 1.96·4.08 = 8.0, ranks round((10−8)/2) = 1 and round((10+8)/2)+1 = 10:
// [−1, 3].
func TestTheilSenWorkedExample(t *testing.T) {
	tr, err := TheilSen([]float64{1, 2, 3, 4, 5}, []float64{1, 3, 2, 5, 4})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Slope != 0.875 || tr.Intercept != 0.125 || tr.Low != -1 || tr.High != 3 {
		t.Errorf("got %+v, want slope 0.875, intercept 0.125, CI [-1, 3]", tr)
	}
}

// Outliers (a quarter of the points thrown far off) move least squares but
// not the median of slopes.
func TestTheilSenIgnoresOutliers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var xs, ys []float64
	for i := range 200 {
		y := 100 + 0.5*float64(i) + rng.NormFloat64()
		if i%4 == 0 {
			y += 1000 * rng.Float64()
		}
		xs, ys = append(xs, float64(i)), append(ys, y)
	}
	tr, err := TheilSen(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if !near(tr.Slope, 0.5, 0.05) {
		t.Errorf("slope %.3f, want 0.5 ± 0.05", tr.Slope)
	}
	if tr.Low > 0.5 || tr.High < 0.5 {
		t.Errorf("CI [%.3f, %.3f] misses the true slope 0.5", tr.Low, tr.High)
	}
}

// Over many noisy samples the 95% interval covers the true slope about 95%
// of the time (independent noise; a coarse check: at least 88 of 100).
func TestTheilSenIntervalCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	covered := 0
	for range 100 {
		var xs, ys []float64
		for i := range 60 {
			xs, ys = append(xs, float64(i)), append(ys, 5-0.3*float64(i)+4*rng.NormFloat64())
		}
		tr, err := TheilSen(xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Low <= -0.3 && -0.3 <= tr.High {
			covered++
		}
		if tr.Low > tr.Slope || tr.Slope > tr.High {
			t.Fatalf("slope %.3f outside its own interval [%.3f, %.3f]", tr.Slope, tr.Low, tr.High)
		}
	}
	if covered < 88 {
		t.Errorf("the 95%% interval covered the true slope in %d of 100 fits", covered)
	}
}

// Thinning keeps the slope of a long series: 20000 points of a line with
// noise fit to the same slope as the line.
func TestTheilSenThinsLongSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var xs, ys []float64
	for i := range 20000 {
		xs, ys = append(xs, float64(i)), append(ys, 1e6+40*float64(i)+1e3*rng.NormFloat64())
	}
	tr, err := TheilSen(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Points != maxFitPoints {
		t.Errorf("fitted %d points, want %d after thinning", tr.Points, maxFitPoints)
	}
	if !near(tr.Slope, 40, 0.4) || tr.Low > 40 || tr.High < 40 {
		t.Errorf("slope %.2f CI [%.2f, %.2f], want 40 ± 1%% inside the interval", tr.Slope, tr.Low, tr.High)
	}
}

func TestTheilSenRefusesTooLittle(t *testing.T) {
	if _, err := TheilSen([]float64{1, 2}, []float64{1, 2}); err == nil {
		t.Error("two points fitted")
	}
	if _, err := TheilSen([]float64{1, 1, 1}, []float64{1, 2, 3}); err == nil {
		t.Error("points all at one x fitted")
	}
	if _, err := TheilSen([]float64{1, 2, 3}, []float64{1, 2}); err == nil {
		t.Error("x and y of different lengths fitted")
	}
}
