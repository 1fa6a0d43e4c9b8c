package capacity

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// RecoverySeconds is how many consecutive good seconds count as recovered.
const RecoverySeconds = 10

// Surge describes a stress test: Rate held for Hold, then RecoveryRate
// for at most Window while recovery is watched.
type Surge struct {
	URL          string        // "" = the plan's target
	Rate         float64       // iterations/s of the stress hold
	Hold         time.Duration // whole seconds
	RecoveryRate float64       // iterations/s after the drop
	Window       time.Duration // recovery is watched this long at most
	// Baseline is the baseline step's latency and BaselineErrorRate its
	// error rate; what the SLOs leave out (all of it in a plan without
	// SLOs) is judged against twice these. A zero Baseline is none.
	Baseline          Latency
	BaselineErrorRate float64
}

// Recovery is the outcome of a stress test.
type Recovery struct {
	Rate         float64 `json:"rate"` // stress iterations/s
	HoldS        float64 `json:"hold_s"`
	Throughput   float64 `json:"throughput_rps"`      // over the hold
	ErrorRate    float64 `json:"error_rate"`          // over the hold
	WorstP99     float64 `json:"worst_second_p99_ms"` // the slowest second's p99 during the hold
	RecoveryRate float64 `json:"recovery_rate"`       // iterations/s after the drop
	Criterion    string  `json:"criterion"`           // what a good second is: back within every SLO, error rate included
	Recovered    bool    `json:"recovered"`           // RecoverySeconds good seconds in a row were seen
	RecoveryS    *int    `json:"recovery_s"`          // seconds from the drop to the first of them; nil when not recovered
	WindowS      float64 `json:"window_s"`            // how long recovery was watched at most
	ElapsedS     float64 `json:"elapsed_s"`           // the whole run
	Sent         int64   `json:"requests_sent"`       // requests completed over the run
	Statement    string  `json:"statement"`
	Skipped      string  `json:"skipped,omitempty"` // why no stress test ran
	// LastMiss is what the last second that was not back missed (its p99,
	// its error rate); "" when none missed after the drop.
	LastMiss string `json:"last_miss,omitempty"`
}

// Stress runs a surge as one run: it holds the stress rate, drops to the
// recovery rate, and counts the seconds until the service is back within
// every SLO a second can show — latency and error rate, so fast errors
// are not a recovery — for RecoverySeconds consecutive seconds. What the
// plan has no SLO for is judged against twice the baseline. The run ends
// as soon as it recovers.
func Stress(ctx context.Context, p *plan.Plan, prober Prober, s Surge) (Recovery, error) {
	if s.Rate <= 0 || s.RecoveryRate <= 0 || s.Hold < time.Second || s.Window < RecoverySeconds*time.Second {
		return Recovery{}, fmt.Errorf("stress: rate %g/s for %s then %g/s for %s: rates must be positive, the hold ≥ 1s and the window ≥ %ds",
			s.Rate, s.Hold, s.RecoveryRate, s.Window, RecoverySeconds)
	}
	var objs []plan.Objective
	if p != nil {
		objs = objectivesOf(p)
	}
	j := newJudge(objs, 0)
	if s.Baseline.P99 > 0 {
		j.baseline = &reference{P99: s.Baseline.P99, ErrorRate: s.BaselineErrorRate}
	}
	r := Recovery{Rate: s.Rate, HoldS: s.Hold.Seconds(), RecoveryRate: s.RecoveryRate, WindowS: s.Window.Seconds()}
	r.Criterion = j.criterion()
	var reqs, errs int64
	holdSecs := 0
	streak, streakStart := 0, 0
	watch := func(t Tick) bool {
		if t.Elapsed <= s.Hold {
			holdSecs++
			reqs += t.Requests
			errs += t.Errors
			r.WorstP99 = math.Max(r.WorstP99, t.Latency.P99)
			return true
		}
		after := int((t.Elapsed - s.Hold - time.Second) / time.Second) // 0 for the first second after the drop
		if ok, why := j.withinSLOs(t); !ok {
			streak, r.LastMiss = 0, fmt.Sprintf("%ds after the drop: %s", after, why)
			return true
		}
		if streak == 0 {
			streakStart = after
		}
		streak++
		return streak < RecoverySeconds
	}
	sum, err := prober.Probe(ctx, Probe{
		URL:   s.URL,
		Holds: []Hold{{Rate: s.Rate, Duration: s.Hold}, {Rate: s.RecoveryRate, Duration: s.Window}},
		Watch: watch,
	})
	r.ElapsedS, r.Sent = sum.Elapsed.Seconds(), sum.Sent
	if err != nil {
		return r, fmt.Errorf("stress at %.4g/s: %w", s.Rate, err)
	}
	if holdSecs > 0 {
		r.Throughput = float64(reqs) / float64(holdSecs)
	}
	r.ErrorRate = ratio(errs, reqs)
	if streak >= RecoverySeconds {
		r.Recovered = true
		r.RecoveryS = &streakStart
		r.Statement = fmt.Sprintf("after %.0fs at %.4g it/s (worst second p99 %.1fms, %.1f%% errors), dropping to %.4g it/s: %s %ds after the drop, and held for %d consecutive seconds",
			r.HoldS, r.Rate, r.WorstP99, r.ErrorRate*100, r.RecoveryRate, r.Criterion, streakStart, RecoverySeconds)
	} else {
		r.Statement = fmt.Sprintf("after %.0fs at %.4g it/s (worst second p99 %.1fms, %.1f%% errors), dropping to %.4g it/s: did not recover within %.0fs (%s for %d consecutive seconds)",
			r.HoldS, r.Rate, r.WorstP99, r.ErrorRate*100, r.RecoveryRate, r.WindowS, r.Criterion, RecoverySeconds)
		if r.LastMiss != "" {
			r.Statement += "; last second not back: " + r.LastMiss
		}
	}
	return r, nil
}
