package plan

import "strings"

// suggest returns the known word closest to word when it is close enough to
// be a likely typo ("gett" → "get", "URL" → "url"), or "".
func suggest(word string, known []string) string {
	lower := strings.ToLower(word)
	best, bestDist := "", 0
	for _, k := range known {
		dist := editDistance(lower, k)
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

// editDistance is the Levenshtein distance between a and b, in bytes.
// Keys are short; the cost is bounded by maxKeyLen for hostile input.
func editDistance(a, b string) int {
	const maxKeyLen = 64
	if len(a) > maxKeyLen || len(b) > maxKeyLen {
		return maxKeyLen
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
