package capacity

import (
	"fmt"
	"math"

	"github.com/headroom-sre/headroom/plan"
)

// LittlesLaw is Little's Law at one step: L = X × W, the mean number of
// requests in the system, next to what the generator measured, and the
// closed-model population N = X × (R + Z) with think time Z.
type LittlesLaw struct {
	Throughput  float64 `json:"throughput_rps"`     // X, requests/s
	MeanLatency float64 `json:"mean_latency_ms"`    // W (= R), ms
	Concurrency float64 `json:"concurrency"`        // L = X × W
	InFlight    float64 `json:"measured_in_flight"` // mean in-flight the generator saw
	ThinkTime   float64 `json:"think_time_ms"`      // Z per request, from the journeys
	Users       float64 `json:"users"`              // N = X × (R + Z)
	Statement   string  `json:"statement"`
}

// Concurrency is Little's Law, L = X × W, with X in requests/s and W in ms.
func Concurrency(throughput, meanLatencyMs float64) float64 {
	return throughput * meanLatencyMs / 1000
}

// Users is the closed-model population N = X × (R + Z) that produces
// throughput X with response time R and think time Z (both ms).
func Users(throughput, responseMs, thinkMs float64) float64 {
	return throughput * (responseMs + thinkMs) / 1000
}

// LittleAt applies Little's Law to a step, with think time thinkMs per
// request, and states what concurrency the SUT must hold there.
func LittleAt(st Step, thinkMs float64) LittlesLaw {
	l := LittlesLaw{
		Throughput:  st.Throughput,
		MeanLatency: st.Latency.Mean,
		Concurrency: Concurrency(st.Throughput, st.Latency.Mean),
		InFlight:    st.InFlight,
		ThinkTime:   thinkMs,
		Users:       Users(st.Throughput, st.Latency.Mean, thinkMs),
	}
	l.Statement = fmt.Sprintf(
		"at %.1f req/s with a mean latency of %.1f ms, L = X × W = %.1f requests are in flight (the generator measured %.1f): "+
			"each instance must hold at least %.0f concurrent requests — worker threads, DB connections and other pools sized to that",
		l.Throughput, l.MeanLatency, l.Concurrency, l.InFlight, math.Ceil(l.Concurrency))
	if thinkMs > 0 {
		l.Statement += fmt.Sprintf("; in the closed model, N = X × (R + Z) = %.1f × (%.1f ms + %.0f ms) = %.0f users produce this load",
			l.Throughput, l.MeanLatency, thinkMs, l.Users)
	}
	return l
}

// ThinkPerRequest is the mean think time per request (ms) of p's
// journeys: each journey's expected think time over its expected request
// count, weighted by journey weight.
func ThinkPerRequest(p *plan.Plan) float64 {
	var think, reqs float64
	for _, j := range p.Journeys {
		w := float64(j.Weight)
		if w <= 0 {
			w = 1
		}
		for _, st := range j.Steps {
			chance := st.Chance
			if chance <= 0 {
				chance = 1
			}
			think += w * chance * ms(st.Think.Min+st.Think.Max) / 2
			if st.Method != "" {
				reqs += w * chance
			}
		}
	}
	if reqs == 0 {
		return 0
	}
	return think / reqs
}
