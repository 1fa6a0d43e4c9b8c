package compare

import (
	"math"
	"testing"
)

func TestMannWhitneyKnownAnswers(t *testing.T) {
	tests := []struct {
		name  string
		a, b  []float64
		wantU float64
		pLow  float64 // p must lie in [pLow, pHigh]
		pHigh float64
	}{
		// Fully separated samples of 10: U = 0, z = (50-0.5)/sqrt(175) = 3.742, p = 0.000183.
		{"separated", seq(1, 10), seq(11, 20), 0, 0.00017, 0.00019},
		// The same values on both sides: no shift at all.
		{"identical", seq(1, 10), seq(1, 10), 50, 0.99, 1},
		// Interleaved: 1,3,5,… against 2,4,6,… — U = 45 of 100, no evidence.
		{"interleaved", odd(10), even(10), 45, 0.5, 1},
		{"too few", []float64{1, 2}, []float64{3, 4, 5}, 0, 1, 1},
		{"no spread", []float64{5, 5, 5, 5}, []float64{5, 5, 5}, 6, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, p := MannWhitney(tc.a, tc.b)
			if math.Abs(u-tc.wantU) > 1e-9 {
				t.Errorf("U = %v, want %v", u, tc.wantU)
			}
			if p < tc.pLow || p > tc.pHigh {
				t.Errorf("p = %.6f, want in [%v, %v]", p, tc.pLow, tc.pHigh)
			}
		})
	}
}

func TestMannWhitneyIsSymmetric(t *testing.T) {
	a := []float64{3, 7, 7, 9, 12, 15, 15, 18}
	b := []float64{1, 2, 7, 8, 8, 10, 11}
	ua, pa := MannWhitney(a, b)
	ub, pb := MannWhitney(b, a)
	if math.Abs(ua+ub-float64(len(a)*len(b))) > 1e-9 {
		t.Errorf("U_a + U_b = %v, want n1·n2 = %d", ua+ub, len(a)*len(b))
	}
	if math.Abs(pa-pb) > 1e-12 {
		t.Errorf("p differs by side: %v vs %v", pa, pb)
	}
}

func seq(from, to int) []float64 {
	var s []float64
	for i := from; i <= to; i++ {
		s = append(s, float64(i))
	}
	return s
}

func odd(n int) []float64 {
	var s []float64
	for i := 0; i < n; i++ {
		s = append(s, float64(2*i+1))
	}
	return s
}

func even(n int) []float64 {
	var s []float64
	for i := 0; i < n; i++ {
		s = append(s, float64(2*i+2))
	}
	return s
}
