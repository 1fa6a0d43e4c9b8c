package plan

import "strings"

// suggest returns the known word closest to word when it is close enough to
// be a likely typo ("gett" → "get", "URL" → "url", "abortOnFial" →
// "abortOnFail"), or "". Case is ignored.
func suggest(word string, known []string) string {
	lower := strings.ToLower(word)
	best, bestDist := "", 0
	for _, k := range known {
		dist := editDistance(lower, strings.ToLower(k))
		if best == "" || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	limit := 2
	if len(word) <= 3 {
		limit = 1
	}
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance counts the single-byte insertions, deletions, substitutions
// and swaps of neighbours that turn a into b (optimal string alignment).
// Keys are short; hostile input is cut off at maxKeyLen.
func editDistance(a, b string) int {
	const maxKeyLen = 64
	if len(a) > maxKeyLen || len(b) > maxKeyLen {
		return maxKeyLen
	}
	// rows[i][j] is the distance between a[:i] and b[:j].
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(a)][len(b)]
}
