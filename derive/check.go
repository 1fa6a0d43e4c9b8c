package derive

import (
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// Expectation is what a plan will send: its request mix by route and its
// rates, computed from its weights, chances, stages and think times.
type Expectation struct {
	Shares      map[string]float64 // comparable route key (see RouteKey) → share of requests
	Names       map[string]string  // comparable key → the key as the plan writes it
	PerIter     float64            // requests per iteration
	PeakRPS     float64            // requests/s at the load profile's highest target
	MeanRPS     float64            // requests/s averaged over the profile
	MeanPause   time.Duration      // mean think between two requests of an iteration
	Estimated   bool               // rates of a closed model are estimates (think times, 100 ms a request)
	Description string             // how the rates were computed
}

var tmplExpr = regexp.MustCompile(`\{\{.*?\}\}`)

// RouteKey is the comparable form of a route: "METHOD /template" with
// every placeholder written {}, so a plan's /v1/cart/{{ .vars.id }} and a
// log's /v1/cart/{hash} compare equal.
func RouteKey(method, path string) string {
	if u, err := url.Parse(path); err == nil && u.Host != "" {
		path = u.Path
	}
	path = tmplExpr.ReplaceAllString(path, "1")
	t := Template(path)
	segs := strings.Split(t, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "{}"
		}
	}
	return strings.ToUpper(method) + " " + strings.Join(segs, "/")
}

// Expect computes what plan p will send.
func Expect(p *plan.Plan) Expectation {
	e := Expectation{Shares: map[string]float64{}, Names: map[string]string{}}
	var wsum float64
	for _, j := range p.Journeys {
		wsum += float64(j.Weight)
	}
	var pauses, pauseN float64
	for _, j := range p.Journeys {
		w := float64(j.Weight) / wsum
		var thinkAfter time.Duration
		seen := false
		for _, st := range j.Steps {
			ch := st.Chance
			if ch == 0 {
				ch = 1
			}
			if st.Method != "" {
				if seen {
					pauses += w * ch * float64(thinkAfter)
					pauseN += w * ch
				}
				seen, thinkAfter = true, 0
				k := RouteKey(st.Method, st.Path)
				e.Shares[k] += w * ch
				if _, ok := e.Names[k]; !ok {
					e.Names[k] = st.Method + " " + Template(tmplExpr.ReplaceAllString(st.Path, "1"))
				}
				e.PerIter += w * ch
			}
			if st.Think.Max > 0 {
				thinkAfter += (st.Think.Min + st.Think.Max) / 2
			}
		}
	}
	for k := range e.Shares {
		e.Shares[k] /= e.PerIter
	}
	if pauseN > 0 {
		e.MeanPause = time.Duration(pauses / pauseN)
	}
	peak, mean := stageTargets(p.Load)
	switch p.Load.Model {
	case plan.ModelClosed:
		iter := e.PerIter*0.1 + e.MeanPause.Seconds()*math.Max(e.PerIter-1, 0)
		iter = math.Max(iter, 0.1)
		e.PeakRPS, e.MeanRPS = peak/iter*e.PerIter, mean/iter*e.PerIter
		e.Estimated = true
		e.Description = fmt.Sprintf("closed model: %.0f users at most, an iteration ≈ %.1fs (think times + 100 ms a request)", peak, iter)
	default:
		e.PeakRPS, e.MeanRPS = peak*e.PerIter, mean*e.PerIter
		e.Description = fmt.Sprintf("open model: %.4g iterations/s at most × %.2f requests an iteration", peak, e.PerIter)
	}
	return e
}

// stageTargets returns the highest target and the time-weighted mean.
func stageTargets(l plan.Load) (peak, mean float64) {
	prev := l.Start
	peak = prev
	var area, total float64
	for _, s := range l.Stages {
		d := s.Duration.Seconds()
		area += d * (prev + s.Target) / 2
		total += d
		peak = math.Max(peak, s.Target)
		prev = s.Target
	}
	if total > 0 {
		mean = area / total
	}
	return peak, mean
}

// Warning is one place where a plan and production part.
type Warning struct {
	Route string // the route it is about; "" for rates and think times
	Msg   string
}

func (w Warning) String() string { return w.Msg }

// CheckOptions set how far a plan may part from production before a warning.
type CheckOptions struct {
	Points   float64 // share difference per route in percentage points; default 5
	MinShare float64 // a production route this common must be in the plan; default 1%
}

// Comparison is a plan against production, route by route.
type Comparison struct {
	Rows     []Row
	Expected Expectation
	Warnings []Warning
}

// Row is one route's share in the plan and in production.
type Row struct {
	Route      string
	Plan, Prod float64 // shares, 0..1
}

// Check compares plan p's expected mix and rates with production's.
func Check(p *plan.Plan, prod *Profile, opts CheckOptions) Comparison {
	if opts.Points <= 0 {
		opts.Points = 5
	}
	if opts.MinShare <= 0 {
		opts.MinShare = 0.01
	}
	e := Expect(p)
	c := Comparison{Expected: e}
	prodShares := map[string]float64{}
	names := map[string]string{}
	for _, r := range prod.Routes {
		k := RouteKey(r.Method, r.Template)
		prodShares[k] += prod.Share(r)
		if _, ok := names[k]; !ok {
			names[k] = r.Key()
		}
	}
	for k, n := range e.Names {
		names[k] = n
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := math.Max(e.Shares[keys[i]], prodShares[keys[i]]), math.Max(e.Shares[keys[j]], prodShares[keys[j]])
		if a != b {
			return a > b
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		ps, qs := e.Shares[k], prodShares[k]
		c.Rows = append(c.Rows, Row{Route: names[k], Plan: ps, Prod: qs})
		inPlan := e.Names[k] != ""
		switch {
		case !inPlan && qs >= opts.MinShare:
			c.Warnings = append(c.Warnings, Warning{names[k], fmt.Sprintf("%s: %.1f%% of production's requests, not in the plan", names[k], 100*qs)})
		case inPlan && qs == 0:
			c.Warnings = append(c.Warnings, Warning{names[k], fmt.Sprintf("%s: %.1f%% of the plan's requests, never seen in production", names[k], 100*ps)})
		case inPlan && math.Abs(ps-qs)*100 > opts.Points:
			c.Warnings = append(c.Warnings, Warning{names[k], fmt.Sprintf("%s: %.1f%% of the plan's requests, %.1f%% of production's (%+.1f points; at most %.0f allowed)",
				names[k], 100*ps, 100*qs, 100*(ps-qs), opts.Points)})
		}
	}
	r := prod.Rates
	if e.PeakRPS < r.PeakMinute {
		c.Warnings = append(c.Warnings, Warning{"", fmt.Sprintf("rate: the plan's peak is %s requests/s (%s), below production's peak minute of %s requests/s (%s)",
			num(e.PeakRPS), e.Description, num(r.PeakMinute), r.PeakMinAt.Format("2006-01-02 15:04"))})
	}
	if e.PeakRPS > 0 && r.Mean > 0 && e.PeakRPS < r.Mean {
		c.Warnings = append(c.Warnings, Warning{"", fmt.Sprintf("rate: the plan never reaches production's mean of %s requests/s", num(r.Mean))})
	}
	if e.MeanPause > 0 && prod.Think.Count > 0 && prod.Think.P50 > 0 {
		ratio := float64(e.MeanPause) / float64(prod.Think.P50)
		if ratio > 2 || ratio < 0.5 {
			c.Warnings = append(c.Warnings, Warning{"", fmt.Sprintf("think time: the plan pauses %s between requests on average, production's median pause is %s (%.1f×)",
				dur(e.MeanPause), dur(prod.Think.P50), ratio)})
		}
	}
	return c
}

// WriteText prints the comparison: the route table, the rates, the warnings.
func (c Comparison) WriteText(w io.Writer, prod *Profile) {
	fmt.Fprintf(w, "%-46s %8s %8s %8s\n", "route", "plan", "prod", "diff")
	for _, r := range c.Rows {
		fmt.Fprintf(w, "%-46s %7.1f%% %7.1f%% %+7.1f\n", r.Route, 100*r.Plan, 100*r.Prod, 100*(r.Plan-r.Prod))
	}
	est := ""
	if c.Expected.Estimated {
		est = " (estimated)"
	}
	fmt.Fprintf(w, "\nrates (requests/s): plan peak %s, mean %s%s — %s\n", num(c.Expected.PeakRPS), num(c.Expected.MeanRPS), est, c.Expected.Description)
	fmt.Fprintf(w, "                    production peak minute %s, peak second %s, mean %s, per-minute p95 %s\n",
		num(prod.Rates.PeakMinute), num(prod.Rates.PeakSecond), num(prod.Rates.Mean), num(prod.Rates.P95))
	fmt.Fprintf(w, "think (between requests): plan mean %s, production median %s\n", dur(c.Expected.MeanPause), dur(prod.Think.P50))
	if len(c.Warnings) == 0 {
		fmt.Fprintln(w, "\nthe plan matches production")
		return
	}
	fmt.Fprintf(w, "\n%d warning(s):\n", len(c.Warnings))
	for _, x := range c.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", x.Msg)
	}
}
