package merge

import (
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom-sre/headroom/generator"
)

// merge folds the windows kept for second s into one fleet second. Counts
// are summed; every histogram is added bucket by bucket into a fresh dense
// histogram of the generator's geometry, which is exactly what one
// histogram recording all the agents' samples would hold.
func (m *Merger) merge(s int64, p *pending) Second {
	out := Second{Index: s}
	out.Start = m.opts.Start.Add(time.Duration(s) * time.Second)
	agents := make([]string, 0, len(p.windows))
	for a := range p.windows {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	out.Agents = agents
	out.PerAgent = make([]AgentSecond, 0, len(agents))

	total := newFold("")
	names := map[string]*fold{}
	var dur time.Duration
	for _, a := range agents {
		d := p.windows[a]
		w := d.w
		dur += w.Duration
		out.Offered += w.Offered
		out.Iterations += w.Iterations
		out.Dropped += w.Dropped
		out.InFlight += w.InFlight
		out.Busy += w.Busy
		out.VUs += w.VUs
		total.add(w.Total, d.total)
		for i, n := range w.ByName {
			f := names[n.Name]
			if f == nil {
				f = newFold(n.Name)
				names[n.Name] = f
			}
			f.add(n, d.byName[i])
		}
		out.PerAgent = append(out.PerAgent, AgentSecond{Window: w, Latency: packedLatency(d.total)})
	}
	out.Duration = time.Second
	if len(agents) > 0 {
		out.Duration = dur / time.Duration(len(agents))
	}
	out.Total = total.window()
	if len(names) > 0 {
		out.ByName = make([]generator.Window, 0, len(names))
		for _, f := range names {
			out.ByName = append(out.ByName, f.window())
		}
		sort.Slice(out.ByName, func(i, j int) bool { return out.ByName[i].Name < out.ByName[j].Name })
	}
	return out
}

// fold accumulates one request name (or all) across agents.
type fold struct {
	w generator.Window
}

func newFold(name string) *fold {
	return &fold{w: generator.Window{Name: name, Hist: generator.NewHistogram()}}
}

func (f *fold) add(n Name, h *hdrhistogram.PackedHistogram) {
	f.w.Requests += n.Requests
	f.w.Errors += n.Errors
	f.w.Bytes += n.Bytes
	if len(n.Classes) > 0 && f.w.Classes == nil {
		f.w.Classes = make(map[string]int64, len(n.Classes))
	}
	for k, v := range n.Classes {
		f.w.Classes[k] += v
	}
	if h != nil {
		h.MergeInto(f.w.Hist)
	}
	f.w.Exemplars = slowest(f.w.Exemplars, n.Exemplars)
}

func (f *fold) window() generator.Window {
	f.w.Latency = generator.LatencyOf(f.w.Hist)
	return f.w
}

// slowest keeps the maxExemplars slowest of kept and more, slowest first.
func slowest(kept, more []generator.Exemplar) []generator.Exemplar {
	for _, e := range more {
		if len(kept) == maxExemplars && e.LatencyMs <= kept[len(kept)-1].LatencyMs {
			continue
		}
		if len(kept) < maxExemplars {
			kept = append(kept, e)
		} else {
			kept[len(kept)-1] = e
		}
		for j := len(kept) - 1; j > 0 && kept[j].LatencyMs > kept[j-1].LatencyMs; j-- {
			kept[j], kept[j-1] = kept[j-1], kept[j]
		}
	}
	return kept
}

// packedLatency summarises a sparse µs histogram in ms, as
// generator.LatencyOf does a dense one; nil or empty gives zeros.
func packedLatency(p *hdrhistogram.PackedHistogram) generator.Latency {
	if p == nil || p.TotalCount() == 0 {
		return generator.Latency{}
	}
	q := p.ValueAtPercentilesSlice([]float64{50, 90, 95, 99})
	return generator.Latency{
		P50:  float64(q[0]) / 1000,
		P90:  float64(q[1]) / 1000,
		P95:  float64(q[2]) / 1000,
		P99:  float64(q[3]) / 1000,
		Max:  float64(p.Max()) / 1000,
		Mean: p.Mean() / 1000,
	}
}
