package capacity

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// uslPoints samples X(N) of a known USL at n = 1..max, with multiplicative
// noise of the given relative size (deterministic seed).
func uslPoints(truth USL, ns []float64, noise float64, seed uint64) []Point {
	r := rand.New(rand.NewPCG(seed, seed+1))
	pts := make([]Point, len(ns))
	for i, n := range ns {
		x := truth.Throughput(n) * (1 + noise*r.NormFloat64())
		pts[i] = Point{N: n, X: x}
	}
	return pts
}

func TestFitUSLRecoversKnownCoefficients(t *testing.T) {
	ns := []float64{1, 2, 4, 8, 12, 16, 24, 32, 48, 64}
	cases := []struct {
		name      string
		truth     USL
		noise     float64
		sigmaTol  float64 // absolute
		kappaTol  float64 // relative
		lambdaTol float64 // relative
	}{
		{"exact contention and coherency", USL{Lambda: 100, Sigma: 0.05, Kappa: 0.001}, 0, 1e-4, 1e-3, 1e-3},
		{"exact strong coherency", USL{Lambda: 250, Sigma: 0.1, Kappa: 0.005}, 0, 1e-4, 1e-3, 1e-3},
		{"noisy 2%", USL{Lambda: 100, Sigma: 0.05, Kappa: 0.001}, 0.02, 0.02, 0.3, 0.05},
		{"noisy 3% strong coherency", USL{Lambda: 250, Sigma: 0.1, Kappa: 0.005}, 0.03, 0.03, 0.3, 0.06},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := FitUSL(uslPoints(c.truth, ns, c.noise, 7))
			if err != nil {
				t.Fatalf("FitUSL: %v", err)
			}
			if math.Abs(got.Sigma-c.truth.Sigma) > c.sigmaTol {
				t.Errorf("σ = %.5f, want %.5f ± %.5f", got.Sigma, c.truth.Sigma, c.sigmaTol)
			}
			if math.Abs(got.Kappa-c.truth.Kappa) > c.kappaTol*c.truth.Kappa {
				t.Errorf("κ = %.6f, want %.6f ± %.0f%%", got.Kappa, c.truth.Kappa, c.kappaTol*100)
			}
			if math.Abs(got.Lambda-c.truth.Lambda) > c.lambdaTol*c.truth.Lambda {
				t.Errorf("λ = %.2f, want %.2f", got.Lambda, c.truth.Lambda)
			}
			wantPeak := math.Sqrt((1 - c.truth.Sigma) / c.truth.Kappa)
			if math.Abs(got.PeakN-wantPeak) > 0.25*wantPeak {
				t.Errorf("peak N = %.1f, want about %.1f", got.PeakN, wantPeak)
			}
			if c.noise == 0 && got.R2 < 0.9999 {
				t.Errorf("R² = %.5f on exact data", got.R2)
			}
		})
	}
}

func TestFitUSLWithoutCoherencyHasCeilingNotPeak(t *testing.T) {
	truth := USL{Lambda: 50, Sigma: 0.2}
	got, err := FitUSL(uslPoints(truth, []float64{1, 2, 4, 8, 16, 32}, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kappa > 1e-6 || got.PeakN != 0 {
		t.Errorf("κ = %g, peak N = %g; want no coherency and no peak", got.Kappa, got.PeakN)
	}
	if math.Abs(got.Ceiling-250) > 2.5 {
		t.Errorf("ceiling = %.1f, want λ/σ = 250", got.Ceiling)
	}
}

func TestFitUSLRefusesTooFewDistinctConcurrencies(t *testing.T) {
	pts := []Point{{1, 10}, {2, 19}, {2.01, 19.2}, {4, 35}, {4.02, 35.5}}
	_, err := FitUSL(pts)
	if !errors.Is(err, ErrTooFewPoints) {
		t.Fatalf("err = %v, want ErrTooFewPoints", err)
	}
}

func TestFitUSLRefusesPoorFit(t *testing.T) {
	// Throughput that zigzags with concurrency: no USL explains it.
	pts := []Point{{1, 100}, {2, 10}, {3, 100}, {4, 10}, {5, 100}, {6, 10}, {7, 100}}
	got, err := FitUSL(pts)
	if !errors.Is(err, ErrPoorFit) {
		t.Fatalf("err = %v (R² %.2f), want ErrPoorFit", err, got.R2)
	}
	if got.Sigma < 0 || got.Kappa < 0 {
		t.Errorf("σ = %g, κ = %g; must not be negative", got.Sigma, got.Kappa)
	}
}
