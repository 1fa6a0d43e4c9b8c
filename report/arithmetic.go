package report

import (
	"fmt"
	"math"

	"github.com/headroom-sre/headroom/capacity"
)

// studyArithmetic shows every figure of a study with its formula and the
// numbers that went in, so a reader can re-derive it from the page.
func studyArithmetic(s *source) []section {
	st := s.study
	var out []section
	c := st.Capacity
	capSec := section{Title: "Single-instance capacity"}
	if at := capacityStep(st); at != nil {
		capSec.Lines = append(capSec.Lines,
			fmt.Sprintf("highest acceptable step: step %d at %s iterations/s (%s phase)", at.Index, fmtFloat(at.Rate), at.Phase))
	}
	capSec.Lines = append(capSec.Lines,
		fmt.Sprintf("requests per iteration = %s (the journeys' requests, weighted by journey weight and step chance)", fmtFloat(c.RequestsPerIteration)),
		figureLine("capacity", c.SingleInstanceRPS, c.SingleInstanceSource, c.SingleInstanceRate, c.RequestsPerIteration, capacityStep(st)))
	if c.CappedAtUnacceptable {
		capSec.Lines = append(capSec.Lines, "capacity capped at the unacceptable point: a capacity is never above it")
	}
	if c.UnacceptableRate > 0 {
		capSec.Lines = append(capSec.Lines,
			figureLine("unacceptable point", c.UnacceptableRPS, c.UnacceptableSource, c.UnacceptableRate, c.RequestsPerIteration, unacceptableStep(st)))
	}
	if c.RequiredMet != nil {
		verdict := "met"
		if !*c.RequiredMet {
			verdict = "not met"
		}
		capSec.Lines = append(capSec.Lines, fmt.Sprintf("required: %s ≥ %s? %s", fmtRPS(c.SingleInstanceRPS), fmtRPS(c.RequiredRPS), verdict))
	}
	out = append(out, capSec)

	if l := st.LittlesLaw; l.Throughput > 0 {
		sec := section{Title: "Little's Law at capacity"}
		sec.Lines = append(sec.Lines,
			fmt.Sprintf("X = throughput measured at the capacity step = %s", fmtRPS(l.Throughput)),
			fmt.Sprintf("W = mean latency there = %s = %s s", fmtMs(l.MeanLatency), fmtFloat(l.MeanLatency/1000)),
			fmt.Sprintf("L = X × W = %s × %s = %s requests in flight (the generator measured %s)",
				fmtFloat(l.Throughput), fmtFloat(l.MeanLatency/1000), fmtFloat(l.Concurrency), fmtFloat(l.InFlight)),
			fmt.Sprintf("so each instance must hold at least ⌈L⌉ = %.0f concurrent requests: worker threads, DB connections and other pools sized to that", math.Ceil(l.Concurrency)))
		if l.ThinkTime > 0 {
			sec.Lines = append(sec.Lines, fmt.Sprintf("closed model: N = X × (R + Z) = %s × (%s + %s) = %s users",
				fmtFloat(l.Throughput), fmtMs(l.MeanLatency), fmtMs(l.ThinkTime), fmtFloat(l.Users)))
		}
		out = append(out, sec)
	}

	u := st.USL
	usl := section{Title: "Universal Scalability Law"}
	usl.Lines = append(usl.Lines, "X(N) = λN ÷ (1 + σ(N − 1) + κN(N − 1)), fitted to each step's mean concurrency N and goodput X (generator-limited steps left out)")
	if u.Reported {
		usl.Lines = append(usl.Lines,
			fmt.Sprintf("λ = %s req/s per unit of concurrency; σ = %s (contention); κ = %s (coherency); R² = %.3f over %d points",
				fmtFloat(u.Lambda), fmtSci(u.Sigma), fmtSci(u.Kappa), u.R2, u.Points))
		switch {
		case u.PeakN > 0:
			usl.Lines = append(usl.Lines, fmt.Sprintf("peak: N* = √((1 − σ) ÷ κ) = √((1 − %s) ÷ %s) = %s; X(N*) = %s — more concurrency than that lowers throughput",
				fmtSci(u.Sigma), fmtSci(u.Kappa), fmtFloat(u.PeakN), fmtRPS(u.PeakX)))
		case u.Ceiling > 0:
			usl.Lines = append(usl.Lines, fmt.Sprintf("no peak (κ = 0): throughput approaches λ ÷ σ = %s ÷ %s = %s",
				fmtFloat(u.Lambda), fmtSci(u.Sigma), fmtRPS(u.Ceiling)))
		default:
			usl.Lines = append(usl.Lines, "σ = κ = 0: linear scaling over the measured range")
		}
		if l := st.LittlesLaw; l.Concurrency > 0 {
			usl.Lines = append(usl.Lines, fmt.Sprintf("check at capacity: X(%s) = %s predicted vs %s measured",
				fmtFloat(l.Concurrency), fmtRPS(u.Throughput(l.Concurrency)), fmtRPS(l.Throughput)))
		}
	} else {
		reason := u.Refused
		if reason == "" {
			reason = "no fit (no capacity was found)"
		}
		usl.Lines = append(usl.Lines, "not reported: "+reason)
	}
	out = append(out, usl)

	if pr := st.Prediction; pr.Instances > 0 {
		sec := section{Title: fmt.Sprintf("%d instances", pr.Instances)}
		sec.Lines = append(sec.Lines, fmt.Sprintf("predicted = N × capacity = %d × %s = %s",
			pr.Instances, fmtFloat(c.SingleInstanceRPS), fmtRPS(pr.PredictedRPS)))
		if pr.MeasuredRPS != nil && pr.Ratio != nil {
			sec.Lines = append(sec.Lines, fmt.Sprintf("measured at %s = %s; ratio = measured ÷ predicted = %s ÷ %s = %.2f",
				pr.VerifyURL, fmtRPS(*pr.MeasuredRPS), fmtFloat(*pr.MeasuredRPS), fmtFloat(pr.PredictedRPS), *pr.Ratio))
		} else {
			sec.Lines = append(sec.Lines, "not verified: no capacity.verify_url")
		}
		out = append(out, sec)
	}
	if r := st.Recommendation; len(r.Arithmetic) > 0 {
		sec := section{Title: "Autoscaling and instance counts", Lines: append([]string(nil), r.Arithmetic...)}
		if r.CPU != nil {
			cores := "of one core"
			if r.CPUCores > 0 {
				cores = "of " + fmtFloat(r.CPUCores) + " cores"
			}
			sec.Lines = append(sec.Lines, fmt.Sprintf("CPU at the threshold = %s %s: a CPU-based autoscaler targets that", fmtPct(*r.CPU), cores))
		}
		out = append(out, sec)
	}
	if r := st.Stress; r.Statement != "" || r.Skipped != "" {
		sec := section{Title: "Stress and recovery"}
		if r.Skipped != "" {
			sec.Lines = append(sec.Lines, "skipped: "+r.Skipped)
		} else {
			sec.Lines = append(sec.Lines, r.Statement)
		}
		out = append(out, sec)
	}
	return out
}

// runArithmetic is Little's Law over a run.
func runArithmetic(s *source) []section {
	r := s.run
	sum := r.Summary
	d := r.End.Sub(r.Start).Seconds()
	sec := section{Title: "Little's Law over the run"}
	if d > 0 {
		sec.Lines = append(sec.Lines, fmt.Sprintf("X = requests ÷ duration = %d ÷ %s s = %s", sum.Requests, fmtFloat(d), fmtRPS(sum.ThroughputRPS)))
	}
	sec.Lines = append(sec.Lines,
		fmt.Sprintf("W = mean latency = %s = %s s", fmtMs(sum.Latency.Mean), fmtFloat(sum.Latency.Mean/1000)),
		fmt.Sprintf("L = X × W = %s × %s = %s requests in flight on average",
			fmtFloat(sum.ThroughputRPS), fmtFloat(sum.Latency.Mean/1000), fmtFloat(sum.ThroughputRPS*sum.Latency.Mean/1000)))
	var inflight, n float64
	for _, w := range s.windows {
		inflight += w.InFlight
		n++
	}
	if n > 0 {
		sec.Lines = append(sec.Lines, fmt.Sprintf("the generator measured %s in flight on average over %d seconds", fmtFloat(inflight/n), int(n)))
	}
	errs := section{Title: "Error rate"}
	if sum.Requests > 0 {
		errs.Lines = append(errs.Lines, fmt.Sprintf("error rate = errors ÷ requests = %d ÷ %d = %s", sum.Errors, sum.Requests, fmtPct(sum.ErrorRate)))
	}
	if sum.DroppedIterations > 0 {
		errs.Lines = append(errs.Lines, fmt.Sprintf("%d iterations could not start on time (dropped) out of %d", sum.DroppedIterations, sum.Iterations+sum.DroppedIterations))
	}
	return []section{sec, errs}
}

// figureLine re-derives a capacity figure as it was found: the throughput
// its step measured, or its offered iterations/s × requests per iteration.
func figureLine(what string, rps float64, src capacity.Source, rate, rpi float64, st *capacity.Step) string {
	if src == capacity.Converted || st == nil {
		return fmt.Sprintf("%s = %s iterations/s offered × %s = %s", what, fmtFloat(rate), fmtFloat(rpi), fmtRPS(rps))
	}
	return fmt.Sprintf("%s = the throughput step %d measured = %s (requests completed ÷ %s s measured)", what, st.Index, fmtRPS(rps), fmtFloat(st.Seconds))
}
