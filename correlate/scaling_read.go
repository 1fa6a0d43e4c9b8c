package correlate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// instanceRequests are the per-instance request-rate queries, the first
// with data wins, each with its latency sum (scale turns the sum's unit
// into milliseconds; 0: no latency).
var instanceRequests = []struct {
	count, sum string
	scale      float64
}{
	{`sum by (instance) (rate(http_request_duration_seconds_count[$rate]))`, `sum by (instance) (rate(http_request_duration_seconds_sum[$rate]))`, 1000},
	{`sum by (instance) (rate(http_server_request_duration_seconds_count[$rate]))`, `sum by (instance) (rate(http_server_request_duration_seconds_sum[$rate]))`, 1000},
	{`sum by (instance) (rate(http_server_duration_milliseconds_count[$rate]))`, `sum by (instance) (rate(http_server_duration_milliseconds_sum[$rate]))`, 1},
	{`sum by (instance) (rate(http_requests_total[$rate]))`, "", 0},
}

// instanceCPU are the per-instance CPU queries (cores), the first with
// data wins.
var instanceCPU = []string{
	`sum by (instance) (rate(process_cpu_seconds_total[$rate]))`,
	`sum by (instance) (rate(container_cpu_usage_seconds_total{container!=""}[$rate]))`,
}

// scalingMinSpan is the shortest part of a step read: two scrapes at 1 s.
const scalingMinSpan = 2 * time.Second

// ReadScaling reads, over each verify step (trimmed at both ends, as the
// CPU gauge does), each instance of the plan's
// service components (observe.components of kind service, by their
// Prometheus instance label: request rate, mean latency, CPU) and the
// components they share: the host's busy cores, the database's CPU, the
// pooler's waiting clients. What cannot be read is NaN in the readings
// and a line of NotAvailable; nothing here fails.
func ReadScaling(ctx context.Context, m Metrics, o plan.Observe, steps []capacity.Step) ScalingReadings {
	rd := scalingReader{m: m}
	var out ScalingReadings
	var services [][]Matcher
	for _, c := range o.Components {
		ms, err := ParseSelector(c.Selector)
		if err != nil {
			out.NotAvailable = append(out.NotAvailable, fmt.Sprintf("component %s (%s): not available: selector: %v", c.Name, c.Kind, err))
			continue
		}
		switch c.Kind {
		case plan.KindService:
			services = append(services, ms)
		case plan.KindHost:
			if out.Shared.Host == "" {
				out.Shared.Host, rd.host = c.Name, ms
			}
		case plan.KindDatabase:
			if out.Shared.Database == "" {
				out.Shared.Database, rd.db = c.Name, ms
			}
		case plan.KindPooler:
			if out.Shared.Pooler == "" {
				out.Shared.Pooler, rd.pool = c.Name, ms
			}
		}
	}
	if len(services) == 0 {
		out.NotAvailable = append(out.NotAvailable, `instances: not available: observe.components names no component of kind service; name the fleet's instances, e.g. { name: fleet, kind: service, selector: '{job="shop"}' }, to read each one's share, latency and CPU`)
	}
	if m == nil {
		out.NotAvailable = append(out.NotAvailable, "scaling: not available: no Prometheus to read the fleet from")
		return out
	}
	for _, st := range steps {
		w, ok := scalingWindow(st)
		if !ok {
			continue
		}
		sl := rd.step(ctx, st, w, services)
		if rd.down != nil {
			out.NotAvailable = append(out.NotAvailable, fmt.Sprintf("scaling: not available: %v", rd.down))
			return out
		}
		out.Steps = append(out.Steps, sl)
	}
	if len(out.Steps) == 0 {
		out.NotAvailable = append(out.NotAvailable, fmt.Sprintf("scaling: not available: no verify step with a measured span of at least %s to read", scalingMinSpan))
	}
	out.NotAvailable = append(out.NotAvailable, rd.missing()...)
	return out
}

// stepWindow is where one step is read: [from, to], and its measured
// part [busyFrom, busyTo] for the busy readings.
type stepWindow struct {
	from, to         time.Time
	span             time.Duration
	busyFrom, busyTo time.Time
}

// busyRate is the rate window of a busy reading's per-second samples.
const busyRate = "5s"

// scalingWindow is the whole step, warm-up included (the instances got
// the same rate then, and a step stopped early keeps a readable span),
// trimmed at both ends.
func scalingWindow(st capacity.Step) (stepWindow, bool) {
	if st.End.IsZero() || st.Elapsed <= 0 {
		return stepWindow{}, false
	}
	start := st.End.Add(-time.Duration(st.Elapsed * float64(time.Second)))
	trim := time.Duration(cpuEdgeTrim * float64(st.End.Sub(start)))
	from := start.Add(trim)
	span := st.End.Add(-trim).Sub(from).Truncate(time.Second)
	if span < scalingMinSpan {
		return stepWindow{}, false
	}
	w := stepWindow{from: from, to: from.Add(span), span: span, busyFrom: st.Start, busyTo: st.End}
	if st.Start.IsZero() || st.End.Sub(st.Start) < scalingMinSpan {
		w.busyFrom, w.busyTo = w.from, w.to
	}
	return w, true
}

// scalingReader reads one study's verify steps, remembering which query
// answered and the first failure of Prometheus itself.
type scalingReader struct {
	m              Metrics
	host, db, pool []Matcher
	down           error           // Prometheus could not be reached: stop reading
	unread         map[string]bool // signals no step could read
	read           map[string]bool
}

func (rd *scalingReader) step(ctx context.Context, st capacity.Step, w stepWindow, services [][]Matcher) StepLoad {
	sl := StepLoad{Step: st.Index, RPS: st.Throughput, Seconds: w.span.Seconds(),
		HostBusy: math.NaN(), HostCores: math.NaN(), DBCPU: math.NaN(), PoolWait: math.NaN(), PoolWaitS: math.NaN(), PoolSize: math.NaN()}
	loads := map[string]*InstanceLoad{}
	var order []string
	get := func(name string) *InstanceLoad {
		if il, ok := loads[name]; ok {
			return il
		}
		il := &InstanceLoad{Instance: name, CPU: math.NaN()}
		loads[name], order = il, append(order, name)
		return il
	}
	for _, ms := range services {
		for _, q := range instanceRequests {
			counts := rd.byInstance(ctx, q.count, ms, w)
			if len(counts) == 0 {
				continue
			}
			var sums map[string]float64
			if q.sum != "" {
				sums = rd.byInstance(ctx, q.sum, ms, w)
			}
			for inst, c := range counts {
				il := get(inst)
				il.RPS += c
				if s, ok := sums[inst]; ok && c > 0 {
					il.LatencyMs = q.scale * s / c
				}
			}
			break
		}
		for _, q := range instanceCPU {
			cpu := rd.byInstance(ctx, q, ms, w)
			for inst, v := range cpu {
				il := get(inst)
				il.CPU = v
			}
			if len(cpu) > 0 {
				break
			}
		}
	}
	if len(services) > 0 {
		rd.note("instances", len(loads) > 0)
	}
	for _, name := range order {
		sl.Instances = append(sl.Instances, *loads[name])
	}
	if rd.host != nil {
		sl.HostBusy = rd.signal(ctx, plan.KindHost, sigHostBusy, rd.host, w, true)
		sl.HostCores = rd.signal(ctx, plan.KindHost, sigHostCores, rd.host, w, false)
	}
	if rd.db != nil {
		sl.DBCPU = rd.signal(ctx, plan.KindDatabase, sigDBCPU, rd.db, w, true)
	}
	if rd.pool != nil {
		sl.PoolWait = rd.signal(ctx, plan.KindPooler, sigPoolWaiting, rd.pool, w, false)
		sl.PoolWaitS = rd.signal(ctx, plan.KindPooler, sigPoolWaitTime, rd.pool, w, false)
		sl.PoolSize = rd.signal(ctx, plan.KindPooler, sigPoolSize, rd.pool, w, false)
	}
	return sl
}

// signal reads a component signal of the catalog (its alternatives in
// order) as one number over the window; NaN when none answered. A busy
// reading (CPU) is the 75th percentile of its per-second samples over
// the step's measured part: a step's first seconds ramp up, and a step
// stopped early is mostly ramp, so a mean would hide a saturated
// resource.
func (rd *scalingReader) signal(ctx context.Context, kind plan.ComponentKind, name string, ms []Matcher, w stepWindow, busy bool) float64 {
	for _, sig := range componentSignals(kind) {
		if sig.Name != name {
			continue
		}
		for _, tmpl := range sig.Queries {
			v := math.NaN()
			if busy {
				v = rd.busy(ctx, tmpl, ms, w)
			}
			if math.IsNaN(v) {
				v = rd.value(ctx, tmpl, ms, w)
			}
			if !math.IsNaN(v) {
				rd.note(string(kind)+" "+name, true)
				return v
			}
		}
	}
	rd.note(string(kind)+" "+name, false)
	return math.NaN()
}

// value is tmpl over the window: a rate over the whole span for a
// template with $rate, else the mean of its 1 s samples; NaN without data.
func (rd *scalingReader) value(ctx context.Context, tmpl string, ms []Matcher, w stepWindow) float64 {
	if strings.Contains(tmpl, "$rate") {
		ss := rd.query(ctx, overSpan(tmpl, w.span), ms, w.to, w.to)
		if s := sumSeries(ss); len(s) > 0 {
			return s[len(s)-1].Value
		}
		return math.NaN()
	}
	s := sumSeries(rd.query(ctx, tmpl, ms, w.from, w.to))
	if len(s) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, v := range s {
		sum += v.Value
	}
	return sum / float64(len(s))
}

// busy is the 75th percentile of tmpl's per-second samples over the
// measured part; NaN with fewer than two samples (a slow scrape).
func (rd *scalingReader) busy(ctx context.Context, tmpl string, ms []Matcher, w stepWindow) float64 {
	if !strings.Contains(tmpl, "$rate") {
		return math.NaN()
	}
	s := sumSeries(rd.query(ctx, strings.ReplaceAll(tmpl, "$rate", busyRate), ms, w.busyFrom, w.busyTo))
	if len(s) < 2 {
		return math.NaN()
	}
	vs := make([]float64, len(s))
	for i, v := range s {
		vs[i] = v.Value
	}
	sort.Float64s(vs)
	return vs[int(math.Ceil(0.75*float64(len(vs))))-1]
}

// byInstance is tmpl (grouped by instance) over the whole span, per
// instance label.
func (rd *scalingReader) byInstance(ctx context.Context, tmpl string, ms []Matcher, w stepWindow) map[string]float64 {
	out := map[string]float64{}
	for _, s := range rd.query(ctx, overSpan(tmpl, w.span), ms, w.to, w.to) {
		inst := s.Labels["instance"]
		if vs := finite(s.Samples); inst != "" && len(vs) > 0 {
			out[inst] += vs[len(vs)-1].Value
		}
	}
	return out
}

// query runs one query with the selector injected; a rejected query or an
// empty answer is nil, an unreachable Prometheus is remembered in down.
func (rd *scalingReader) query(ctx context.Context, tmpl string, ms []Matcher, from, to time.Time) []Series {
	if rd.down != nil {
		return nil
	}
	q, err := InjectSelector(tmpl, ms)
	if err != nil {
		return nil
	}
	ss, err := rd.m.QueryRange(ctx, q, from, to, time.Second)
	var qe *QueryError
	switch {
	case errors.As(err, &qe):
		return nil
	case err != nil:
		rd.down = err
		return nil
	}
	return ss
}

// note records whether a signal answered at a step.
func (rd *scalingReader) note(name string, ok bool) {
	if rd.read == nil {
		rd.read, rd.unread = map[string]bool{}, map[string]bool{}
	}
	if ok {
		rd.read[name] = true
		return
	}
	rd.unread[name] = true
}

// missing lists the signals no step could read.
func (rd *scalingReader) missing() []string {
	var out []string
	for _, name := range []string{"instances", "host " + sigHostBusy, "host " + sigHostCores, "database " + sigDBCPU,
		"pooler " + sigPoolWaiting, "pooler " + sigPoolWaitTime, "pooler " + sigPoolSize} {
		if rd.unread[name] && !rd.read[name] {
			out = append(out, fmt.Sprintf("scaling: %s: not available: no series during the verify steps", name))
		}
	}
	return out
}
