package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/plan"
)

// correlateTimeout bounds the correlation that follows a run or a study:
// an unreachable Prometheus or trace store must not hold the answer back.
const correlateTimeout = 90 * time.Second

// observes reports whether the plan names any telemetry to correlate with.
func observes(p *plan.Plan) bool {
	o := p.Observe
	return o.Prometheus != "" || o.Tempo != "" || o.Jaeger != ""
}

// explainAfter correlates a finished run or study when the plan names
// telemetry, prints the top findings under a heading, and returns the
// report to attach to the JSON result (nil when nothing was correlated).
// A failure degrades the result; it never fails it.
func explainAfter(ctx context.Context, p *plan.Plan, w, stderr io.Writer, name string,
	explain func(context.Context) (correlate.Report, error)) *correlate.Report {
	if !observes(p) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, correlateTimeout)
	defer cancel()
	rep, err := explain(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "headroom %s: findings not available: %s\n", name, oneLine(err.Error()))
		return nil
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Findings (Prometheus metrics and traces of the degradation window):")
	printReport(w, rep)
	return &rep
}
