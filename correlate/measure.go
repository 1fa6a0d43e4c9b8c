package correlate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxPoints keeps a range query under Prometheus's 11,000-point limit.
const maxPoints = 10000

// queryWorkers bounds the concurrent queries to one Prometheus.
const queryWorkers = 4

// measure reads every signal over the whole input span. A failure of the
// server (refused, 5xx, bad answer, timeout) stops all queries and is
// returned; a query the server rejects or finds nothing for makes only
// its signal not available.
func measure(ctx context.Context, m Metrics, sigs []Signal, ms []Matcher, w Window, slots []slot, opts Options) ([]Reading, error) {
	start, end := w.Start, w.End
	if w.HasBaseline() && w.BaselineStart.Before(start) {
		start = w.BaselineStart
	}
	if len(slots) > 0 {
		start = minTime(start, slots[0].start)
		end = maxTime(end, slots[len(slots)-1].end)
	}
	step := opts.Step
	if step <= 0 {
		step = time.Second
	}
	if n := end.Sub(start) / step; n > maxPoints {
		step = (end.Sub(start)/maxPoints + time.Second).Truncate(time.Second)
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu        sync.Mutex
		sourceErr error
	)
	ask := func(tmpls []string) (string, []Sample, error) {
		var lastErr error
		for _, tmpl := range tmpls {
			q, err := expand(tmpl, ms, step)
			if err != nil {
				lastErr = err
				continue
			}
			ss, err := m.QueryRange(qctx, q, start, end, step)
			var qe *QueryError
			switch {
			case errors.As(err, &qe):
				lastErr = err
				continue
			case err != nil:
				mu.Lock()
				if sourceErr == nil && ctx.Err() == nil {
					sourceErr = err
				}
				mu.Unlock()
				cancel()
				return "", nil, err
			}
			if samples := sumSeries(ss); len(samples) > 0 {
				return q, samples, nil
			}
			lastErr = fmt.Errorf("no series for %s", q)
		}
		return "", nil, lastErr
	}
	out := make([]Reading, len(sigs))
	g := new(errgroup.Group)
	g.SetLimit(queryWorkers)
	for i, sig := range sigs {
		g.Go(func() error {
			r := Reading{Signal: sig.Name, Title: sig.Title, Unit: sig.Unit, Resource: sig.Resource}
			q, samples, err := ask(sig.Queries)
			if err != nil {
				r.Reason = err.Error()
				out[i] = r
				return nil
			}
			r.Available, r.Query, r.Samples = true, q, samples
			r.ResolutionS = step.Seconds()
			for _, aux := range sig.Context {
				q, samples, err := ask(aux.Queries)
				if err != nil {
					continue
				}
				if r.Context == nil {
					r.Context = map[string]Pair{}
				}
				// Levels and rates: means of the samples, as the signal's
				// own, so every ratio built from them divides means. A
				// setting (a limit, a pool's size, GOGC) is the value in
				// force: the median, so one changed at the knee is not a
				// blend of the old and the new.
				cv := coverFor(q, step)
				stat := meanOrZero
				if settings[aux.Name] {
					stat = medianOf
				}
				var b float64
				if w.HasBaseline() {
					b = stat(loadedSamples(samples, w.BaselineStart, w.BaselineEnd, slots, cv))
				}
				deg := degradedSamples(samples, w, slots, cv)
				pr := Pair{Baseline: b, Degraded: stat(deg), Peak: peakOf(deg), Query: q}
				if f, ok := fitSteps(stepLevels(samples, w, slots, cv)); ok {
					pr.Fit = &f
				}
				r.Context[aux.Name] = pr
			}
			summarise(&r, w, slots, step)
			out[i] = r
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, sourceErr
}

// settings are the context values that are a setting in force rather
// than a level: read as the median of their samples.
var settings = map[string]bool{
	AuxLimit: true, AuxGOMAXPROCS: true, AuxQuota: true, AuxPeriod: true, AuxGOGC: true, AuxGOMEMLIMIT: true, AuxMax: true,
}

// possibleSlack is how far above the cores a process may use a CPU rate
// may read before it counts as impossible (rounding, a late scrape).
const possibleSlack = 1.1

// checkPossible smooths a CPU rate that reads above the cores the process
// may use (its CPU limit, else GOMAXPROCS): irate over jittered scrapes
// divides one interval's CPU by a shorter one. Each sample becomes the
// mean of itself and its neighbours (a rate over three scrapes); what is
// still impossible after that is flagged.
func checkPossible(r *Reading, step time.Duration) {
	if r.Signal != SignalCPU {
		return
	}
	most, what := 0.0, ""
	for _, name := range []string{AuxLimit, AuxGOMAXPROCS} {
		p, ok := r.Context[name]
		if v := math.Max(p.Peak, math.Max(p.Baseline, p.Degraded)); ok && v > 0 {
			most, what = v, name
			break
		}
	}
	if most <= 0 {
		return
	}
	peak := peakOf(r.Samples)
	if peak <= possibleSlack*most {
		return
	}
	n := 0
	for _, v := range r.Samples {
		if v.Value > possibleSlack*most {
			n++
		}
	}
	smooth := make([]Sample, len(r.Samples))
	for i := range r.Samples {
		lo, hi := max(i-1, 0), min(i+1, len(r.Samples)-1)
		sum := 0.0
		for j := lo; j <= hi; j++ {
			sum += r.Samples[j].Value
		}
		smooth[i] = Sample{At: r.Samples[i].At, Value: sum / float64(hi-lo+1)}
	}
	r.Samples = smooth
	flag := fmt.Sprintf("%d samples read above the %.2f cores of its %s (up to %.2f): scrape jitter under irate over %s s scrapes; smoothed to the mean of three consecutive samples",
		n, most, what, peak, fmtSeconds(step.Seconds()))
	if still := peakOf(smooth); still > possibleSlack*most {
		flag += fmt.Sprintf(", still up to %.2f cores: treat its peak as unreliable", still)
	}
	r.Flags = append(r.Flags, flag)
}
