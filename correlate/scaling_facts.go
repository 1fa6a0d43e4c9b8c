package correlate

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// facts are the readings in words: each instance's share, latency and
// CPU, and the shared components, at the step the fleet fell short at.
func (d decision) facts() []string {
	var out []string
	if loads, shares, over := d.shares(); len(loads) > 0 {
		if len(loads) != d.n {
			out = append(out, fmt.Sprintf("Prometheus showed %d instances under the service component's selector; the prediction is for %d", len(loads), d.n))
		}
		parts := make([]string, len(loads))
		for i, l := range loads {
			parts[i] = fmt.Sprintf("%s %.0f%%", l.Instance, 100*shares[i])
		}
		out = append(out, "share of the requests over "+over+": "+strings.Join(parts, ", "))
	}
	if w := d.worst; w != nil {
		var parts []string
		ils := append([]InstanceLoad(nil), w.Instances...)
		sort.Slice(ils, func(i, j int) bool { return ils[i].Instance < ils[j].Instance })
		for _, il := range ils {
			p := fmt.Sprintf("%s %s req/s", il.Instance, fmtRPS(il.RPS))
			if il.LatencyMs > 0 {
				p += fmt.Sprintf(", mean %.1f ms", il.LatencyMs)
			}
			if !math.IsNaN(il.CPU) {
				p += fmt.Sprintf(", %.2f cores", il.CPU)
			}
			parts = append(parts, p)
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("at step %d (%s req/s): %s", w.Step, fmtRPS(w.RPS), strings.Join(parts, "; ")))
		}
		if u, ok := hostUtil(*w); ok {
			out = append(out, fmt.Sprintf("%s: %.2f of %s busy (%s) at step %d", component(plan.KindHost, d.r.Shared.Host), w.HostBusy, coresText(w.HostCores), pctCapped(u), w.Step))
		}
		var per []string
		for _, s := range d.r.Steps {
			if u, ok := hostUtil(s); ok {
				per = append(per, fmt.Sprintf("step %d (%s req/s) %s", s.Step, fmtRPS(s.RPS), pctCapped(u)))
			}
		}
		if len(per) > 1 {
			out = append(out, "host CPU per verify step (75th percentile of its seconds): "+strings.Join(per, ", "))
		}
		if !math.IsNaN(w.DBCPU) {
			out = append(out, fmt.Sprintf("%s: %.2f cores of CPU at step %d", component(plan.KindDatabase, d.r.Shared.Database), w.DBCPU, w.Step))
		}
		if !math.IsNaN(w.PoolWait) || !math.IsNaN(w.PoolWaitS) {
			out = append(out, fmt.Sprintf("%s: %s clients waiting on average, %s s waited per second at step %d",
				component(plan.KindPooler, d.r.Shared.Pooler), nanText(w.PoolWait, "%.1f"), nanText(w.PoolWaitS, "%.3f"), w.Step))
		}
	}
	for _, st := range d.in.Steps {
		if st.Dropped > 0 || st.Verdict == capacity.GeneratorLimited {
			out = append(out, fmt.Sprintf("generator at step %d: %s of %s it/s started, %s it/s dropped, %.0f busy virtual users (%s)",
				st.Index, fmtRPS(st.Achieved), fmtRPS(st.Offered), fmtRPS(st.Dropped), st.Busy, st.Verdict))
		}
	}
	return out
}

// pctCapped is a utilisation as a percentage, at most 100% (a rate's
// extrapolation over a short span can read a little above the cores).
func pctCapped(u float64) string {
	return fmt.Sprintf("%.0f%%", 100*math.Min(u, 1))
}

// component names a shared component in a fact: "database postgres", or
// "host" for a host component called host (or unnamed).
func component(kind plan.ComponentKind, name string) string {
	if name == "" || name == string(kind) {
		return string(kind)
	}
	return string(kind) + " " + name
}

func sumCPU(ils []InstanceLoad) float64 {
	if len(ils) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, il := range ils {
		if math.IsNaN(il.CPU) {
			return math.NaN()
		}
		s += il.CPU
	}
	return s
}

func medianOfValues(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func coresText(c float64) string {
	if c == 1 {
		return "1 core"
	}
	return fmt.Sprintf("%s cores", strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", c), "0"), "."))
}

func fmtRPS(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func nanText(v float64, format string) string {
	if math.IsNaN(v) {
		return "?"
	}
	return fmt.Sprintf(format, v)
}
