package capacity

import (
	"fmt"
	"math"
	"time"
)

// Steadiness says whether a step held one level of concurrency over its
// measured seconds, as a point of the USL must: not stopped early, not
// generator-limited, and no trend in the in-flight count.
type Steadiness struct {
	Steady       bool    `json:"steady"`
	Seconds      int     `json:"seconds"`        // measured seconds judged
	InFlightMean float64 `json:"in_flight_mean"` // over those seconds
	// InFlightRise is how far the least-squares line through the in-flight
	// count of those seconds climbs (or, negative, falls) from the first
	// of them to the last.
	InFlightRise float64 `json:"in_flight_rise"`
	Why          string  `json:"why,omitempty"` // why the step is not steady
}

// Rules of steadiness.
const (
	minSteadySeconds = 2    // fewer measured seconds show no trend; with 2, the rise alone decides
	steadyRise       = 0.25 // a rise above this × the mean in-flight is a trend…
	steadyRiseFloor  = 1.0  // …and above this many requests, so a low level's jitter is not…
	steadyT          = 3.0  // …and this many standard errors from zero, so noise is not (from 3 seconds)
)

// inFlightSeries keeps the in-flight count of a step's measured seconds
// as the step's Watch sees them.
type inFlightSeries struct {
	warmup time.Duration
	values []float64
}

// add takes one tick; seconds of the warm-up are left out.
func (s *inFlightSeries) add(t Tick) {
	// A tick ends at Elapsed and lasts about a second; it is measured
	// when it starts at or after the warm-up (50 ms of slack for timers).
	if t.Elapsed-time.Second >= s.warmup-50*time.Millisecond {
		s.values = append(s.values, t.InFlight)
	}
}

// judge decides the steadiness of a step from its measured seconds and
// its verdict.
func (s *inFlightSeries) judge(st Step) Steadiness {
	d := trendOf(s.values)
	switch {
	case st.Stopped:
		d.Steady, d.Why = false, "stopped early"
	case st.Verdict == GeneratorLimited:
		d.Steady, d.Why = false, "generator-limited"
	}
	return d
}

// trendOf fits a line to values (one a second) and judges its rise.
func trendOf(values []float64) Steadiness {
	n := len(values)
	d := Steadiness{Seconds: n}
	if n < minSteadySeconds {
		d.Why = fmt.Sprintf("only %d measured seconds (need %d to see a trend)", n, minSteadySeconds)
		return d
	}
	var mx, my float64
	for i, v := range values {
		mx += float64(i)
		my += v
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i, v := range values {
		dx := float64(i) - mx
		sxx += dx * dx
		sxy += dx * (v - my)
	}
	slope := sxy / sxx
	var sse float64
	for i, v := range values {
		r := v - (my + slope*(float64(i)-mx))
		sse += r * r
	}
	d.InFlightMean = my
	d.InFlightRise = slope * float64(n-1)
	se := math.Sqrt(sse/float64(max(n-2, 1))/sxx) * float64(n-1) // standard error of the rise
	big := math.Abs(d.InFlightRise) > math.Max(steadyRise*my, steadyRiseFloor)
	significant := n < 3 || math.Abs(d.InFlightRise) > steadyT*se // two points fit any line
	d.Steady = !(big && significant)
	if !d.Steady {
		dir := "rose"
		if d.InFlightRise < 0 {
			dir = "fell"
		}
		d.Why = fmt.Sprintf("in-flight %s by %.1f over the %d measured seconds (mean %.1f): not one level of concurrency",
			dir, math.Abs(d.InFlightRise), n, my)
	}
	return d
}
