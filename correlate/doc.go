// Package correlate explains why a run or a capacity study degraded. It
// finds the degradation window in the generator's latency (the onset where
// p99 breaks the SLO, or doubles against the baseline, for at least three
// seconds or one step), reads a catalog of named Prometheus signals over
// that window and a baseline before it, fetches the slow requests' traces
// from Tempo (or Jaeger), and ranks candidate bottlenecks by evidence: how
// far a signal moved, whether it led the latency knee, its correlation
// with p99, and the share of the added latency its spans explain. Each
// finding carries its numbers, queries and trace links and a specific
// recommendation (a pool size from Little's Law, an instance count or CPU
// limit, a GOGC change, index candidates, the repeated span of an N+1).
//
// A source that cannot be reached becomes a "not available" entry; the
// correlation still completes with what it has.
//
//	in := correlate.Input{Seconds: points, Exemplars: ex, SLOP99Ms: 400, Observe: p.Observe}
//	rep, err := correlate.Explain(ctx, in, correlate.SourcesFor(p.Observe, 10*time.Second))
//	if err != nil {
//		return err
//	}
//	for _, f := range rep.Top(3) {
//		fmt.Printf("%d. %s\n   %s\n", f.Rank, f.Title, f.Recommendation)
//	}
//
// Signals are read at the scrape interval (measured from up's scrape
// times): irate over three intervals, window means from the samples whose
// data lies inside the window, and a lead or lag only where the samples
// resolve one. A study's slow traces are kept while they are fresh: wrap
// its prober with a TraceKeeper and explain with what it kept.
//
//	k := correlate.TraceKeeperFor(p.Observe, 0)
//	study, err := capacity.Run(ctx, p, k.Prober(capacity.NewProber(p, warn)), opts)
//	…
//	rep, err := correlate.ExplainStudyWith(ctx, *study, p, k)
//
// Tempo's trace-by-ID protobuf is decoded with OTLP's TracesData (it is
// wire-compatible), and its search JSON with this package's own structs,
// so the module does not depend on Tempo's code.
package correlate
