package soak

import (
	"errors"
	"math"
	"sort"
)

// Trend is a Theil–Sen fit: the median of the slopes between every pair
// of points, with Sen's distribution-free confidence interval for it.
type Trend struct {
	Slope     float64 // units of y per unit of x
	Intercept float64 // median of y − Slope·x
	Low, High float64 // the 95% confidence interval of Slope
	Points    int     // points fitted (after thinning)
}

// At is the fitted value at x.
func (t Trend) At(x float64) float64 { return t.Intercept + t.Slope*x }

// maxFitPoints bounds the points a fit uses: more are thinned into that
// many bins (median of each), so a fit over hours costs what one over
// minutes does (the pairs grow with the square of the points).
const maxFitPoints = 400

// z975 is the standard normal's 97.5% quantile.
const z975 = 1.959963984540054

// ErrTooFewPoints is returned by TheilSen for fewer than three points.
var ErrTooFewPoints = errors.New("fewer than 3 points")

// TheilSen fits y against x (same length, x not all equal). Points beyond
// maxFitPoints are thinned first: the x range is cut into equal bins and
// each bin is replaced by its median x and median y.
func TheilSen(xs, ys []float64) (Trend, error) {
	if len(xs) != len(ys) {
		return Trend{}, errors.New("x and y differ in length")
	}
	xs, ys = thin(xs, ys, maxFitPoints)
	n := len(xs)
	if n < 3 {
		return Trend{}, ErrTooFewPoints
	}
	slopes := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if dx := xs[j] - xs[i]; dx != 0 {
				slopes = append(slopes, (ys[j]-ys[i])/dx)
			}
		}
	}
	if len(slopes) == 0 {
		return Trend{}, errors.New("every point has the same x")
	}
	sort.Float64s(slopes)
	t := Trend{Slope: median(slopes), Points: n}
	rest := make([]float64, n)
	for i := range xs {
		rest[i] = ys[i] - t.Slope*xs[i]
	}
	sort.Float64s(rest)
	t.Intercept = median(rest)
	t.Low, t.High = senInterval(slopes, n)
	return t, nil
}

// senInterval is Sen's (1968) confidence interval: with N sorted pairwise
// slopes and Kendall's S variance n(n−1)(2n+5)/18 (no correction for
// ties), C = z·√Var(S), and the bounds are the ((N−C)/2)-th and
// ((N+C)/2 + 1)-th slopes (1-based), clamped to the ends.
func senInterval(sorted []float64, n int) (float64, float64) {
	N := float64(len(sorted))
	fn := float64(n)
	c := z975 * math.Sqrt(fn*(fn-1)*(2*fn+5)/18)
	lo := int(math.Round((N - c) / 2)) // 1-based rank
	hi := int(math.Round((N+c)/2)) + 1 // 1-based rank
	lo = min(max(lo, 1), len(sorted))
	hi = min(max(hi, 1), len(sorted))
	return sorted[lo-1], sorted[hi-1]
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// thin returns at most k points: the input when it has no more, otherwise
// the median x and y of each of k equal bins of x (empty bins dropped).
// xs must be in increasing order.
func thin(xs, ys []float64, k int) ([]float64, []float64) {
	n := len(xs)
	if n <= k {
		return xs, ys
	}
	lo, hi := xs[0], xs[n-1]
	width := (hi - lo) / float64(k)
	if width <= 0 {
		return xs[:k], ys[:k]
	}
	outX, outY := make([]float64, 0, k), make([]float64, 0, k)
	var bx, by []float64
	flush := func() {
		if len(bx) == 0 {
			return
		}
		sort.Float64s(bx)
		sort.Float64s(by)
		outX, outY = append(outX, median(bx)), append(outY, median(by))
		bx, by = bx[:0], by[:0]
	}
	bin := 0
	for i := range xs {
		b := min(int((xs[i]-lo)/width), k-1)
		if b != bin {
			flush()
			bin = b
		}
		bx, by = append(bx, xs[i]), append(by, ys[i])
	}
	flush()
	return outX, outY
}
