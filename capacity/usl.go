package capacity

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Point is one (concurrency, throughput) observation for the USL.
type Point struct {
	N float64 // mean concurrency
	X float64 // throughput, requests/s
}

// USL is a fit of the Universal Scalability Law
// X(N) = λN / (1 + σ(N−1) + κN(N−1)).
type USL struct {
	Lambda float64 `json:"lambda"` // throughput of one unit of concurrency, req/s
	Sigma  float64 `json:"sigma"`  // contention, ≥ 0
	Kappa  float64 `json:"kappa"`  // coherency (crosstalk), ≥ 0
	R2     float64 `json:"r2"`     // coefficient of determination over the points
	Points int     `json:"points"` // observations fitted
	// PeakN is the concurrency of the highest throughput, √((1−σ)/κ), and
	// PeakX that throughput; both 0 when κ is 0 or σ ≥ 1 (no peak: X
	// approaches Ceiling).
	PeakN   float64 `json:"peak_concurrency,omitempty"`
	PeakX   float64 `json:"peak_throughput_rps,omitempty"`
	Ceiling float64 `json:"ceiling_rps,omitempty"` // λ/σ when there is no peak
}

// Fit quality the study requires before it reports a USL.
const (
	MinUSLPoints = 4   // distinct concurrencies
	MinUSLR2     = 0.8 // coefficient of determination
)

// Reasons FitUSL refuses a fit; test with errors.Is.
var (
	ErrTooFewPoints = errors.New("too few distinct concurrencies for a USL fit")
	ErrPoorFit      = errors.New("the USL does not fit the measurements")
)

// Throughput is the model's throughput at concurrency n.
func (u USL) Throughput(n float64) float64 {
	return u.Lambda * n / (1 + u.Sigma*(n-1) + u.Kappa*n*(n-1))
}

// FitUSL fits the USL to points by non-linear least squares on the
// throughput, with σ, κ ≥ 0. It refuses (ErrTooFewPoints) with fewer than
// MinUSLPoints distinct concurrencies, and returns the fit with ErrPoorFit
// when R² is below MinUSLR2.
func FitUSL(points []Point) (USL, error) {
	var pts []Point
	for _, p := range points {
		if p.N > 0 && p.X > 0 && !math.IsInf(p.N+p.X, 0) && !math.IsNaN(p.N+p.X) {
			pts = append(pts, p)
		}
	}
	if d := distinctN(pts); d < MinUSLPoints {
		return USL{Points: len(pts)}, fmt.Errorf("%w: %d, need %d", ErrTooFewPoints, d, MinUSLPoints)
	}
	nMax := 0.0
	for _, p := range pts {
		nMax = math.Max(nMax, p.N)
	}
	sst := 0.0
	mean := 0.0
	for _, p := range pts {
		mean += p.X / float64(len(pts))
	}
	for _, p := range pts {
		sst += (p.X - mean) * (p.X - mean)
	}
	if sst == 0 {
		sst = 1
	}
	// Parameters: σ = u², κ = v²/nMax keep both non-negative and of a
	// similar scale; λ is solved exactly for each (σ, κ).
	decode := func(x []float64) (sigma, kappa float64) { return x[0] * x[0], x[1] * x[1] / nMax }
	loss := func(x []float64) float64 {
		s, k := decode(x)
		_, sse := bestLambda(pts, s, k)
		return sse / sst
	}
	s0, k0 := linearGuess(pts)
	starts := [][]float64{
		{math.Sqrt(s0), math.Sqrt(k0 * nMax)},
		{0.3, 0.3},
		{0.05, 0.01},
	}
	best := []float64{0, 0}
	bestLoss := loss(best)
	for _, x0 := range starts {
		if x, f := minimize(loss, x0, 0.1, 4000); f < bestLoss {
			best, bestLoss = x, f
		}
	}
	u := USL{Points: len(pts)}
	u.Sigma, u.Kappa = decode(best)
	// Snap coefficients too small to change any fitted value to zero.
	if u.Kappa*nMax*nMax < 1e-9 {
		u.Kappa = 0
	}
	if u.Sigma*nMax < 1e-9 {
		u.Sigma = 0
	}
	var sse float64
	u.Lambda, sse = bestLambda(pts, u.Sigma, u.Kappa)
	u.R2 = 1 - sse/sst
	if u.Kappa > 0 && u.Sigma < 1 {
		u.PeakN = math.Sqrt((1 - u.Sigma) / u.Kappa)
		u.PeakX = u.Throughput(u.PeakN)
	} else if u.Sigma > 0 {
		u.Ceiling = u.Lambda / u.Sigma
	}
	if u.R2 < MinUSLR2 {
		return u, fmt.Errorf("%w: R² %.2f below %.1f", ErrPoorFit, u.R2, MinUSLR2)
	}
	return u, nil
}

// bestLambda is the least-squares λ for fixed σ and κ, and its squared error.
func bestLambda(pts []Point, sigma, kappa float64) (lambda, sse float64) {
	var xf, ff float64
	for _, p := range pts {
		f := p.N / (1 + sigma*(p.N-1) + kappa*p.N*(p.N-1))
		xf += p.X * f
		ff += f * f
	}
	if ff > 0 {
		lambda = xf / ff
	}
	for _, p := range pts {
		r := p.X - lambda*p.N/(1+sigma*(p.N-1)+kappa*p.N*(p.N-1))
		sse += r * r
	}
	return lambda, sse
}

// linearGuess estimates σ and κ from the linear form
// N/X = (1−σ)/λ + (σ−κ)/λ·N + κ/λ·N², clamped at zero.
func linearGuess(pts []Point) (sigma, kappa float64) {
	// Normal equations of y = a + bN + cN².
	var s [3][4]float64
	for _, p := range pts {
		y := p.N / p.X
		row := [3]float64{1, p.N, p.N * p.N}
		for i := 0; i < 3; i++ {
			for j := 0; j < 3; j++ {
				s[i][j] += row[i] * row[j]
			}
			s[i][3] += row[i] * y
		}
	}
	coef, ok := solve3(s)
	if !ok {
		return 0, 0
	}
	inv := coef[0] + coef[1] + coef[2]
	if inv <= 0 {
		return 0, 0
	}
	lambda := 1 / inv
	kappa = math.Max(0, coef[2]*lambda)
	sigma = math.Max(0, coef[1]*lambda+kappa)
	return sigma, kappa
}

// solve3 solves a 3×3 augmented system by Gaussian elimination.
func solve3(m [3][4]float64) ([3]float64, bool) {
	for c := 0; c < 3; c++ {
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-300 {
			return [3]float64{}, false
		}
		m[c], m[p] = m[p], m[c]
		for r := 0; r < 3; r++ {
			if r == c {
				continue
			}
			f := m[r][c] / m[c][c]
			for k := c; k < 4; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	return [3]float64{m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]}, true
}

// distinctN counts concurrencies that differ from their neighbour by more
// than 2%, so repeated measurements of one level count once.
func distinctN(pts []Point) int {
	ns := make([]float64, len(pts))
	for i, p := range pts {
		ns[i] = p.N
	}
	sort.Float64s(ns)
	d := 0
	for i, n := range ns {
		if i == 0 || n-ns[i-1] > 0.02*n {
			d++
		}
	}
	return d
}
