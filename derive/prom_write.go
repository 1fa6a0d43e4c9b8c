package derive

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// PromPlanOptions shape the plan WritePromPlan writes.
type PromPlanOptions struct {
	Name    string
	BaseURL string
	Command string
	// RequestsPerUserPerMinute is the golden path's figure the business
	// section divides the sustained rate by to state active users;
	// default 2 (a PLACEHOLDER the comment marks).
	RequestsPerUserPerMinute float64
	MaxJourneys              int // routes kept, most requests first; default 20
}

// WritePromPlan writes a plan from Prometheus' figures: one single-request
// journey per route weighted by its requests (counters know no sessions),
// stages at the sustained and peak rates, and the business section from
// them; the comments show the queries.
func WritePromPlan(w io.Writer, p *PromProfile, opts PromPlanOptions) error {
	if opts.Name == "" {
		opts.Name = "derived-from-prometheus"
	}
	if opts.BaseURL == "" {
		opts.BaseURL = "http://127.0.0.1:8080"
	}
	if opts.MaxJourneys <= 0 {
		opts.MaxJourneys = 20
	}
	rpupm := opts.RequestsPerUserPerMinute
	rpupmNote := ""
	if rpupm <= 0 {
		rpupm, rpupmNote = 2, "   # PLACEHOLDER: your golden path's figure (counters know no users)"
	}
	b := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if opts.Command != "" {
		pf("# Derived by `%s`\n", opts.Command)
	}
	pf("# from %s.\n", p.Source)
	pf("# The mix:  %s\n", p.MixQuery)
	pf("# The rate: %s  (range query, step %s, %d samples)\n", p.RateQuery, p.Step, p.Samples)
	sustained, peak := p.Rates.P50, p.Rates.PeakMinute
	pf("# requests/s: mean %s, median %s (sustained), p90 %s, p95 %s, p99 %s, peak %s (at %s).\n",
		num(p.Rates.Mean), num(sustained), num(p.Rates.P90), num(p.Rates.P95), num(p.Rates.P99), num(peak), p.Rates.PeakMinAt.Format(time.RFC3339))
	pf("# Counters know no sessions: each journey is one request of one route, weighted by its requests.\n")
	pf("version: 1\nname: %s\n", yq(opts.Name))
	pf("description: %s\n\n", yq(fmt.Sprintf("Request mix and rates of %s requests from Prometheus.", count(p.Requests))))
	pf("target:\n  base_url: %s   # PLACEHOLDER: the service under test\n  timeout: 10s\n\n", yq(opts.BaseURL))
	pf("load:\n  model: open   # one request an iteration: iterations/s are requests/s\n  max_vus: %d\n  stages:\n", max(10, int(math.Ceil(peak*2))))
	pf("    - { duration: 1m, target: %s }   # ramp to the sustained rate\n", rate(sustained))
	pf("    - { duration: 5m, target: %s }\n", rate(sustained))
	pf("    - { duration: 1m, target: %s }   # ramp to the peak\n", rate(peak))
	pf("    - { duration: 5m, target: %s }\n", rate(peak))
	pf("    - { duration: 30s, target: 0 }\n\njourneys:\n")
	for i, r := range p.Routes {
		if i == opts.MaxJourneys {
			pf("# ... %d more routes left out\n", len(p.Routes)-i)
			break
		}
		pf("  - name: %s\n", yq(r.Key()))
		pf("    weight: %d   # %s of %s requests (%.1f%%)\n", max(1, int(math.Round(1000*p.Share(r)))), count(r.Count), count(p.Requests), 100*p.Share(r))
		pf("    steps:\n      - name: %s\n        %s: %s\n", yq(r.Key()), strings.ToLower(r.Method), yq(stepPath(&r)))
		switch r.Method {
		case "POST", "PUT", "PATCH":
			pf("        # PLACEHOLDER: the request body; counters do not record it\n")
		}
	}
	if sustained > 0 {
		pf("\nbusiness:   # sustained = active_users × requests_per_user_per_minute ÷ 60 = %s req/s\n", num(sustained))
		pf("  active_users: %s\n", num(math.Max(1, math.Round(sustained*60/rpupm))))
		pf("  requests_per_user_per_minute: %s%s\n", num(rpupm), rpupmNote)
		pf("  peak_factor: %s   # peak %s ÷ sustained %s req/s\n", num(math.Max(1, peak/sustained)), num(peak), num(sustained))
	}
	return b.Flush()
}
