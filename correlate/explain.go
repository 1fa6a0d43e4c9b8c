package correlate

import (
	"context"
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Report is the explanation of one degradation: the window, the ranked
// findings and everything measured on the way.
type Report struct {
	Window       Window      `json:"window"`
	Findings     []Finding   `json:"findings"`
	Resolution   *Resolution `json:"resolution,omitempty"` // how finely the signals resolve the window
	Signals      []Reading   `json:"signals,omitempty"`
	Spans        *Breakdown  `json:"spans,omitempty"`
	Repeats      []Repeat    `json:"repeats,omitempty"`
	Serial       []Serial    `json:"serial,omitempty"`
	SlowTraces   []TraceLink `json:"slow_traces,omitempty"`
	Traces       []KeptTrace `json:"traces,omitempty"`        // the traces it read, kept: Input.Kept explains again without the store
	NotAvailable []string    `json:"not_available,omitempty"` // "<source or signal>: not available: <reason>"
	Notes        []string    `json:"notes,omitempty"`
}

// Top returns the first n findings (all when there are fewer).
func (r Report) Top(n int) []Finding { return r.Findings[:min(n, len(r.Findings))] }

// Sources are where the service's telemetry is read from. A nil source is
// not available; Missing says why.
type Sources struct {
	Metrics Metrics
	Traces  Traces
	Missing []string
	// DSN is observe.database's connection string, for EXPLAIN and
	// hypothetical indexes: the caller resolves the variable
	// observe.database.dsn_env names (correlate reads no environment).
	// Empty: not available. It is never stored or shown.
	DSN string
}

// SourcesFor builds the Prometheus and trace-store clients a plan's observe
// section names (Jaeger when observe.jaeger is set, else Tempo). An empty or malformed URL leaves its source nil and says
// so in Missing.
func SourcesFor(o plan.Observe, timeout time.Duration) Sources {
	var s Sources
	if o.Prometheus == "" {
		s.Missing = append(s.Missing, "prometheus: not available: observe.prometheus is not set in the plan")
	} else if _, err := checkBaseURL(o.Prometheus); err != nil {
		s.Missing = append(s.Missing, fmt.Sprintf("prometheus: not available: observe.prometheus %q: %v", o.Prometheus, err))
	} else if p, err := NewPrometheus(o.Prometheus, timeout); err != nil {
		s.Missing = append(s.Missing, "prometheus: not available: "+err.Error())
	} else {
		s.Metrics = p
	}
	switch {
	case o.Jaeger != "":
		if j, err := NewJaeger(o.Jaeger, timeout); err != nil {
			s.Missing = append(s.Missing, "jaeger: not available: "+err.Error())
		} else {
			s.Traces = j
		}
	case o.Tempo == "":
		s.Missing = append(s.Missing, "tempo: not available: observe.tempo is not set in the plan (nor observe.jaeger)")
	default:
		if t, err := NewTempo(o.Tempo, timeout); err != nil {
			s.Missing = append(s.Missing, "tempo: not available: "+err.Error())
		} else {
			s.Traces = t
		}
	}
	return s
}

// Explain finds where the input degraded, reads the signals and traces of
// that window and ranks the candidate bottlenecks. An unreachable or
// misconfigured source becomes a "not available" entry and the
// correlation completes without it; the error is for bad input (or a
// cancelled ctx, with what was found so far).
func Explain(ctx context.Context, in Input, src Sources) (Report, error) {
	opts := in.Options.withDefaults()
	in.Options = opts
	ms, err := ParseSelector(in.Observe.Selector)
	if err != nil {
		return Report{}, err
	}
	w, err := FindWindow(in)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Window: w, NotAvailable: append([]string(nil), src.Missing...), Findings: []Finding{}}
	if !w.Found {
		rep.Notes = append(rep.Notes, fmt.Sprintf("p99 never stayed above %.1f ms: nothing to explain", w.ThresholdMs))
		return rep, nil
	}
	if !w.HasBaseline() {
		rep.Notes = append(rep.Notes, "no acceptable load before the degradation: signals are shown without a baseline")
	}
	slots, _ := inputSlots(in)

	var (
		readings []Reading
		promErr  error
		traces   traceSets
		done     = make(chan struct{})
	)
	if len(in.Kept) > 0 {
		src.Traces = newKeptSource(in.Kept, src.Traces)
	}
	if src.Traces != nil {
		go func() {
			defer close(done)
			traces = collectTraces(ctx, src.Traces, in, w, opts)
		}()
	} else {
		close(done)
	}
	if src.Metrics != nil {
		res := resolve(ctx, src.Metrics, ms, w, opts.Step)
		rep.Resolution = &res
		mopts := opts // the trace goroutine reads opts
		mopts.Step = time.Duration(res.StepS * float64(time.Second))
		readings, promErr = measure(ctx, src.Metrics, Catalog(in.Observe.Signals), ms, w, slots, mopts)
		if promErr == nil {
			if note, missing := scrapeHealth(ctx, src.Metrics, ms, w, mopts.Step); missing {
				rep.NotAvailable = append(rep.NotAvailable, "prometheus: "+note)
			} else if note != "" {
				rep.Notes = append(rep.Notes, note)
			}
		}
	}
	<-done
	if promErr != nil && ctx.Err() == nil {
		rep.NotAvailable = append(rep.NotAvailable, "prometheus: not available: "+promErr.Error())
		readings = nil
	}
	for _, r := range readings {
		if !r.Available {
			rep.NotAvailable = append(rep.NotAvailable, fmt.Sprintf("signal %s: not available: %s", r.Signal, r.Reason))
		}
	}
	rep.Signals = readings
	rep.NotAvailable = append(rep.NotAvailable, traces.problems...)
	rep.Notes = append(rep.Notes, traces.notes...)
	rep.SlowTraces, rep.Traces = traces.slow, traces.kept
	if len(traces.deg) > 0 {
		b := breakdown(traces.base, traces.deg)
		rep.Spans = &b
		rep.Repeats = findRepeats(traces.base, traces.deg)
		rep.Serial = findSerial(traces.deg)
	}
	target := in.TargetRPS
	if target <= 0 {
		target = w.DegradedOffered
	}
	sz := sizing{rate: target, baselineRate: w.BaselineRate, degradedRate: w.DegradedRate, util: opts.Utilisation, spans: rep.Spans, fleet: in.Fleet}
	rep.Findings = rank(withSystem(ctx, in, src, &rep, buildFindings(rep, sz)))
	return rep, ctx.Err()
}
