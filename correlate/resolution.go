package correlate

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// scrapeHealth reads up{selector} over the degraded window: no series
// means the selector matches no scrape target; gaps mean the service's own
// metrics are incomplete there. It returns a note, or "".
func scrapeHealth(ctx context.Context, m Metrics, ms []Matcher, w Window, step time.Duration) (string, bool) {
	q, err := expand(`avg(up)`, ms, step)
	if err != nil {
		return "", false
	}
	ss, err := m.QueryRange(ctx, q, w.Onset, w.End, step)
	if err != nil {
		return "", false
	}
	samples := sumSeries(ss)
	if len(samples) == 0 {
		return fmt.Sprintf("no scrape target matches the selector (%s has no series): check observe.selector", q), true
	}
	up, _ := meanBetween(samples, w.Onset, w.End)
	if up < 0.9 {
		return fmt.Sprintf("Prometheus failed %.0f%% of its scrapes of the service in the degraded window (%s): an overloaded process often cannot answer /metrics, so its signals there are incomplete", 100*(1-up), q), false
	}
	return "", false
}

// Resolution is how finely the signals resolve time: one sample per scrape
// interval, each the increase between two consecutive scrapes.
type Resolution struct {
	ScrapeIntervalS float64 `json:"scrape_interval_s"`
	Source          string  `json:"source"`        // how the interval was found
	StepS           float64 `json:"step_s"`        // range query step
	RateWindowS     float64 `json:"rate_window_s"` // the range of irate()
}

// String is the resolution in words, for a finding's facts.
func (r Resolution) String() string {
	return fmt.Sprintf("%s s samples (irate over %s s; scrape interval %s s, %s)",
		fmtSeconds(r.StepS), fmtSeconds(r.RateWindowS), fmtSeconds(r.ScrapeIntervalS), r.Source)
}

func fmtSeconds(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// intervalQuery is the time of each target's latest scrape: evaluated
// finely, its value changes at every scrape.
const intervalQuery = `timestamp(up)`

// scrapeInterval measures the scrape interval of the selector's targets:
// the median gap between the scrape times up shows in the minute before
// at, read at a 250 ms step. 0 when there is no answer (no target
// matches, or fewer than three scrapes).
func scrapeInterval(ctx context.Context, m Metrics, ms []Matcher, at time.Time) (time.Duration, string) {
	q, err := InjectSelector(intervalQuery, ms)
	if err != nil {
		return 0, ""
	}
	ss, err := m.QueryRange(ctx, q, at.Add(-time.Minute), at, 250*time.Millisecond)
	if err != nil {
		return 0, ""
	}
	var gaps []float64
	for _, s := range ss {
		last := math.NaN()
		for _, v := range finite(s.Samples) {
			if v.Value != last {
				if !math.IsNaN(last) {
					gaps = append(gaps, v.Value-last)
				}
				last = v.Value
			}
		}
	}
	if len(gaps) < 2 {
		return 0, ""
	}
	sort.Float64s(gaps)
	d := time.Duration(gaps[len(gaps)/2] * float64(time.Second))
	if d < 10*time.Second {
		d = d.Round(100 * time.Millisecond)
	} else {
		d = d.Round(time.Second)
	}
	return max(d, 100*time.Millisecond), fmt.Sprintf("measured: the median of %d gaps between the scrape times of %s before %s", len(gaps), q, at.UTC().Format("15:04:05"))
}

// resolve picks the query step: Options.Step when set, else the measured
// scrape interval, else 1 s.
func resolve(ctx context.Context, m Metrics, ms []Matcher, w Window, set time.Duration) Resolution {
	step, how := set, "set by options"
	if step <= 0 && m != nil {
		step, how = scrapeInterval(ctx, m, ms, w.End)
	}
	if step <= 0 {
		step, how = time.Second, "not measured (no up samples for the selector): 1 s assumed"
	}
	return Resolution{ScrapeIntervalS: step.Seconds(), Source: how, StepS: step.Seconds(), RateWindowS: rateSpan(step).Seconds()}
}
