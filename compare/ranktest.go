package compare

import (
	"math"
	"sort"
)

// minSample is the fewest values a side needs for the rank test to say
// anything; with fewer, MannWhitney answers p = 1.
const minSample = 3

// MannWhitney is the two-sided Mann–Whitney U test of whether a and b come
// from the same distribution: the normal approximation with the tie
// correction and a continuity correction. It returns U for a and the
// p-value; with fewer than three values on a side, or no spread at all, p
// is 1 (no evidence of a shift).
func MannWhitney(a, b []float64) (u, p float64) {
	n1, n2 := len(a), len(b)
	if n1 < minSample || n2 < minSample {
		return 0, 1
	}
	type obs struct {
		v    float64
		side int
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range a {
		all = append(all, obs{v, 0})
	}
	for _, v := range b {
		all = append(all, obs{v, 1})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })

	n := float64(n1 + n2)
	var rankA, ties float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].side == 0 {
				rankA += rank
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	f1, f2 := float64(n1), float64(n2)
	u = rankA - f1*(f1+1)/2
	mean := f1 * f2 / 2
	variance := f1 * f2 / 12 * ((n + 1) - ties/(n*(n-1)))
	if variance <= 0 {
		return u, 1
	}
	d := math.Abs(u-mean) - 0.5
	if d < 0 {
		d = 0
	}
	z := d / math.Sqrt(variance)
	return u, math.Erfc(z / math.Sqrt2)
}
