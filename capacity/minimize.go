package capacity

import "sort"

// minimize finds a local minimum of f near x0 with the Nelder–Mead
// simplex method: step is the size of the first simplex, and it stops
// after iters iterations or when the simplex's values agree to 1e-15.
func minimize(f func([]float64) float64, x0 []float64, step float64, iters int) ([]float64, float64) {
	n := len(x0)
	type vertex struct {
		x []float64
		f float64
	}
	at := func(x []float64) vertex { return vertex{x, f(x)} }
	simplex := make([]vertex, n+1)
	simplex[0] = at(append([]float64(nil), x0...))
	for i := 0; i < n; i++ {
		x := append([]float64(nil), x0...)
		x[i] += step
		simplex[i+1] = at(x)
	}
	// move returns c + t·(x − c).
	move := func(c, x []float64, t float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = c[i] + t*(x[i]-c[i])
		}
		return out
	}
	for it := 0; it < iters; it++ {
		sort.Slice(simplex, func(i, j int) bool { return simplex[i].f < simplex[j].f })
		best, worst := simplex[0], simplex[n]
		if worst.f-best.f <= 1e-15*(1+abs(best.f)) && it > 0 {
			break
		}
		centroid := make([]float64, n)
		for _, v := range simplex[:n] {
			for i := range centroid {
				centroid[i] += v.x[i] / float64(n)
			}
		}
		reflected := at(move(centroid, worst.x, -1))
		switch {
		case reflected.f < best.f:
			if expanded := at(move(centroid, worst.x, -2)); expanded.f < reflected.f {
				simplex[n] = expanded
			} else {
				simplex[n] = reflected
			}
		case reflected.f < simplex[n-1].f:
			simplex[n] = reflected
		default:
			if contracted := at(move(centroid, worst.x, 0.5)); contracted.f < worst.f {
				simplex[n] = contracted
				continue
			}
			for i := 1; i <= n; i++ {
				simplex[i] = at(move(best.x, simplex[i].x, 0.5))
			}
		}
	}
	sort.Slice(simplex, func(i, j int) bool { return simplex[i].f < simplex[j].f })
	return simplex[0].x, simplex[0].f
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
