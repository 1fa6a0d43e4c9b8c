package correlate

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// spanFindingShare is the share of the added latency a span must take to
// become a finding of its own.
const spanFindingShare = 0.25

// buildFindings turns readings, spans and patterns into findings.
func buildFindings(rep Report, sz sizing) []Finding {
	var out []Finding
	slow := rep.SlowTraces[:min(3, len(rep.SlowTraces))]
	haveSpans := rep.Spans != nil && rep.Spans.BaselineTraces > 0

	gc := gcPart(rep.Signals, sz)
	for _, r := range rep.Signals {
		if r.Available && r.Signal == SignalThrottling && assess(r).saturated {
			sz.throttled = true
		}
	}
	byResource := map[string]int{}
	for _, r := range rep.Signals {
		if !r.Available || r.Resource == "" {
			continue
		}
		a := assess(r)
		if r.Signal == SignalGC && gc.cause {
			a.saturated = true
			a.util = math.Max(a.util, clamp01(gc.share))
		}
		if !a.saturated {
			continue
		}
		share := spanShareFor(r.Resource, rep.Spans)
		f := Finding{
			Kind:           FindingKind(r.Signal),
			Title:          fmt.Sprintf("%s: %s", r.Signal, r.Title),
			Score:          score(r, a, share, haveSpans),
			Recommendation: recommendSignal(r, sz, gc),
			Evidence: Evidence{
				Facts: append(a.facts, signalFacts(r)...), Signal: ptr(r), Utilisation: a.util,
				Queries: signalQueries(r), Traces: slow,
			},
		}
		if r.Signal == SignalGC || (r.Signal == SignalCPU && gc.known && gc.share >= 0.1) {
			f.Evidence.Facts = append(f.Evidence.Facts, gc.facts()...)
		}
		if r.Resource == ResourcePool && rep.Spans != nil && rep.Spans.HoldTraces > 0 {
			b := rep.Spans
			f.Evidence.Facts = append(f.Evidence.Facts, fmt.Sprintf("traces: a request held a connection %.1f ms and waited %.1f ms for one (%.1f and %.1f ms at baseline, %d traces)",
				b.DegradedHoldMs, b.DegradedWaitMs, b.BaselineHoldMs, b.BaselineWaitMs, b.HoldTraces))
		}
		if rep.Resolution != nil {
			f.Evidence.Facts = append(f.Evidence.Facts, "read at "+rep.Resolution.String())
		}
		if haveSpans {
			f.Evidence.SpanShare = share
			if share > 0 {
				f.Evidence.Facts = append(f.Evidence.Facts, fmt.Sprintf("its spans explain %.0f%% of the added latency", 100*share))
			}
		}
		// One finding per resource: the first saturated signal in catalog
		// order speaks for it, with the strongest score of the group.
		if i, ok := byResource[r.Resource]; ok {
			out[i].Evidence.Related = append(out[i].Evidence.Related, r)
			out[i].Score = math.Max(out[i].Score, f.Score)
			continue
		}
		byResource[r.Resource] = len(out)
		out = append(out, f)
	}

	orderCauses(out, gc, rep.Resolution, poolHoldGrowth(rep, sz))

	explained := false
	if rep.Spans != nil {
		for _, s := range topSpans(rep.Spans) {
			if _, pool := byResource[ResourcePool]; pool && s.Name == poolWaitSpan {
				continue // the pool finding holds the wait, with the spans' numbers
			}
			f := spanFinding(s, rep.Spans, byResource, slow)
			out = append(out, f)
			explained = true
		}
	}
	explained = explained || len(rep.Repeats) > 0 || len(rep.Serial) > 0
	for i, r := range rep.Repeats[:min(2, len(rep.Repeats))] {
		share := 0.0
		if rep.Spans != nil {
			for _, s := range rep.Spans.Spans {
				if s.Name == r.Span {
					share = clamp01(s.Share)
				}
			}
		}
		out = append(out, Finding{
			Kind:  KindNPlusOne,
			Title: fmt.Sprintf("N+1: %q repeats %d times under %q", r.Span, r.MaxCount, r.Parent),
			Score: 0.35 + 0.3*math.Min(1, float64(r.MaxCount)/20) + 0.2*share,
			Recommendation: fmt.Sprintf("Fetch the rows of %q in one query (WHERE … IN (…) or a join) instead of once per item: it ran up to %d times under one %q span (%.1f per parent in degraded traces, %.1f at baseline).",
				r.Span, r.MaxCount, r.Parent, r.DegradedCount, r.BaselineCount),
			Evidence: Evidence{
				Facts: []string{fmt.Sprintf("%q ran %d times under one %q", r.Span, r.MaxCount, r.Parent),
					fmt.Sprintf("%.1f per parent in degraded traces, %.1f at baseline", r.DegradedCount, r.BaselineCount)},
				Repeat: &rep.Repeats[i], SpanShare: share, Traces: slow,
			},
		})
	}
	if len(rep.Serial) > 0 {
		s := rep.Serial[0]
		saving := s.SumMs - s.LongestMs
		out = append(out, Finding{
			Kind:  KindSerialCalls,
			Title: fmt.Sprintf("Serial calls under %q: %s", s.Parent, strings.Join(s.Spans, ", ")),
			Score: 0.3 + 0.3*clamp01(saving/math.Max(s.ParentMs, 1e-9)),
			Recommendation: fmt.Sprintf("Run %s concurrently under %q if they do not depend on each other: together they take %.1f ms one after another, the longest %.1f ms, so up to %.1f ms per request can be saved.",
				strings.Join(s.Spans, " and "), s.Parent, s.SumMs, s.LongestMs, saving),
			Evidence: Evidence{
				Facts:  []string{fmt.Sprintf("seen in %d degraded traces; %.1f ms of %.1f ms in the parent", s.Traces, s.SumMs, s.ParentMs)},
				Serial: &rep.Serial[0], Traces: slow,
			},
		})
	}
	if len(byResource) == 0 && !explained {
		out = append(out, unexplained(rep, slow))
	}
	if haveSpans {
		belowSpans(out)
	}
	if q, ok := byResource[ResourceQuota]; ok {
		quotaFirst(out, q)
	}
	return out
}

// belowSpans ranks a saturated signal whose spans hold under 10% of the
// added latency below a span finding that holds 80% or more of it: the
// traces say where the time went, and it was not there. A named cause of
// another finding (its holders short of CPU, say) keeps its place.
func belowSpans(fs []Finding) {
	top := -1
	for i, f := range fs {
		if f.Evidence.Span != nil && f.Evidence.SpanShare >= 0.8 && (top < 0 || f.Evidence.SpanShare > fs[top].Evidence.SpanShare) {
			top = i
		}
	}
	if top < 0 {
		return
	}
	for i := range fs {
		f := &fs[i]
		if f.Evidence.Signal == nil || f.cause || f.Evidence.SpanShare >= 0.1 || f.Score < fs[top].Score {
			continue
		}
		f.Score = fs[top].Score - 0.01
		f.Evidence.Facts = append(f.Evidence.Facts, fmt.Sprintf("it ranks below %s: the traces put %.0f%% of the added latency in %q and %.0f%% in its own spans",
			fs[top].Kind, 100*fs[top].Evidence.SpanShare, fs[top].Evidence.Span.Name, 100*f.Evidence.SpanShare))
	}
}

// topSpans are the (at most two) spans that took a large share of the
// added latency.
func topSpans(b *Breakdown) []SpanDelta {
	var out []SpanDelta
	for _, s := range b.Spans {
		if len(out) == 2 || s.AddedMs <= 0 || s.Share < spanFindingShare {
			break
		}
		out = append(out, s)
	}
	return out
}

// spanFinding is the finding for one slow span; it weighs less when a
// saturated resource already explains that kind of span.
func spanFinding(s SpanDelta, b *Breakdown, blamed map[string]int, slow []TraceLink) Finding {
	kind, title := KindSlowSpan, fmt.Sprintf("Span %q added %.1f ms per request", s.Name, s.AddedMs)
	var hint *IndexHint
	switch {
	case s.DB:
		kind, title = KindSlowQuery, fmt.Sprintf("Query span %q added %.1f ms per request", s.Name, s.AddedMs)
		h := IndexCandidates(s.Statement)
		hint = &h
	case s.Client:
		title = fmt.Sprintf("Downstream call %q added %.1f ms per request", s.Name, s.AddedMs)
	case s.Root:
		title = fmt.Sprintf("%q's own code added %.1f ms per request", s.Name, s.AddedMs)
	}
	facts := []string{fmt.Sprintf("self-time %.1f ms per trace in the degraded window vs %.1f ms at baseline (%d vs %d traces)", s.DegradedMs, s.BaselineMs, b.DegradedTraces, b.BaselineTraces),
		fmt.Sprintf("%.0f%% of the %.1f ms added to the request", 100*s.Share, b.AddedMs)}
	sc := 0.2 + 0.5*clamp01(s.Share)
	_, pool := blamed[ResourcePool]
	_, cpu := blamed[ResourceCPU]
	_, gc := blamed[ResourceGC]
	switch {
	case s.DB && pool:
		sc *= 0.6
		facts = append(facts, "consistent with the connection pool wait: the span includes waiting for a connection")
	case !s.DB && !s.Client && (cpu || gc):
		sc *= 0.6
		facts = append(facts, "consistent with the CPU finding: the span's own code is what runs short of CPU")
	}
	return Finding{Kind: kind, Title: title, Score: sc, Recommendation: recommendSpan(s, derefHint(hint)),
		Evidence: Evidence{Facts: facts, Span: ptr(s), SpanShare: s.Share, Index: hint, Traces: slow}}
}

// unexplained says no signal explains the latency and points at the
// slowest spans instead of guessing.
func unexplained(rep Report, slow []TraceLink) Finding {
	f := Finding{Kind: KindUnexplained, Title: "No signal explains the added latency", Score: 0.1,
		Evidence: Evidence{Traces: slow}}
	f.Evidence.Facts = append(f.Evidence.Facts, "no Prometheus signal reached its saturation rule in the degraded window")
	if rep.Spans == nil {
		f.Recommendation = "No resource signal saturated and no traces were available: add tracing (or exemplars) to see where requests spend their time, and check dependencies outside this service."
		return f
	}
	spans := append([]SpanDelta(nil), rep.Spans.Spans...)
	sort.Slice(spans, func(i, j int) bool { return spans[i].DegradedMs > spans[j].DegradedMs })
	var names []string
	for _, s := range spans[:min(3, len(spans))] {
		names = append(names, fmt.Sprintf("%q %.1f ms", s.Name, s.DegradedMs))
	}
	f.Evidence.Facts = append(f.Evidence.Facts, "slowest spans by self-time per trace: "+strings.Join(names, ", "))
	f.Recommendation = "No signal moved enough to blame a resource: start from the slowest spans (" + strings.Join(names, ", ") + ") in the linked traces."
	return f
}

// ladderShown is how many steps a finding's ladder fact lists.
const ladderShown = 24

// ladderFact is the signal at every step of the ladder: its mean over each
// step's measured part against the step's throughput, unacceptable steps
// marked; "" for a run.
func ladderFact(r Reading) string {
	if len(r.Steps) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s against load (mean of samples in each step's measured part; ✗ unacceptable):", r.Signal)
	for i, l := range r.Steps {
		if i == ladderShown {
			fmt.Fprintf(&b, " … and %d more steps", len(r.Steps)-ladderShown)
			break
		}
		mark := ""
		if !l.Acceptable {
			mark = " ✗"
		}
		fmt.Fprintf(&b, " %s %.1f req/s %.4g%s;", l.Phase, l.ThroughputRPS, l.Level, mark)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// fitFact states a signal's cost per request across the steps.
func fitFact(r Reading) string {
	f := r.Fit
	if f == nil {
		return ""
	}
	per := fmt.Sprintf("%.4g %s per req/s", f.PerRequest, r.Unit)
	switch r.Unit {
	case "cores":
		per = fmt.Sprintf("%.2f ms of CPU per request", 1000*f.PerRequest)
	case "count":
		per = fmt.Sprintf("%.4g per req/s (Little's Law: %.2f ms held per request)", f.PerRequest, 1000*f.PerRequest)
	}
	return fmt.Sprintf("least-squares fit against throughput over %d steps: %s plus %.4g at no load, R² %.2f", f.Steps, per, f.Intercept, f.R2)
}

func signalFacts(r Reading) []string {
	var f []string
	if l := ladderFact(r); l != "" {
		f = append(f, l)
	}
	if l := fitFact(r); l != "" {
		f = append(f, l)
	}
	f = append(f, r.Flags...)
	if r.HasBaseline {
		f = append(f, fmt.Sprintf("%s: %.4g %s at baseline, %.4g in the degraded window (means of samples; peak %.4g)", r.Signal, r.Baseline, r.Unit, r.Degraded, r.Peak))
	} else {
		f = append(f, fmt.Sprintf("%s: %.4g %s in the degraded window (mean of samples; peak %.4g); no baseline", r.Signal, r.Degraded, r.Unit, r.Peak))
	}
	if r.LeadSeconds != nil {
		switch l := *r.LeadSeconds; {
		case l == 0:
			f = append(f, fmt.Sprintf("it moved with the latency knee (as far as samples %s s apart tell)", fmtSeconds(r.ResolutionS)))
		case l > 0:
			f = append(f, fmt.Sprintf("it moved %.0f s before the latency knee", l))
		default:
			f = append(f, fmt.Sprintf("it moved %.0f s after the latency knee", -l))
		}
	}
	if r.Pearson != nil {
		f = append(f, fmt.Sprintf("Pearson r with p99: %.2f", *r.Pearson))
	}
	return f
}

func signalQueries(r Reading) []string {
	q := []string{r.Query}
	names := make([]string, 0, len(r.Context))
	for n := range r.Context {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		q = append(q, r.Context[n].Query)
	}
	return q
}

func ptr[T any](v T) *T { return &v }

func derefHint(h *IndexHint) IndexHint {
	if h == nil {
		return IndexHint{}
	}
	return *h
}
