package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseWeights reads --weights of `headroom demo front`: "" is nil (plain
// round-robin), otherwise one whole number from 1 to 100 per backend.
func parseWeights(raw string, backends int) ([]int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	if len(parts) != backends {
		return nil, fmt.Errorf("%q has %d weights for %d backends; give one per backend", raw, len(parts), backends)
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		w, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || w < 1 || w > 100 {
			return nil, fmt.Errorf("weight %d %q is not a whole number from 1 to 100", i+1, strings.TrimSpace(p))
		}
		out[i] = w
	}
	return out, nil
}

// balancing says how the front spreads requests, for its start line.
func balancing(weights []int) string {
	if len(weights) == 0 {
		return "round-robin"
	}
	ws := make([]string, len(weights))
	for i, w := range weights {
		ws[i] = strconv.Itoa(w)
	}
	return "weighted round-robin (" + strings.Join(ws, ",") + ")"
}
