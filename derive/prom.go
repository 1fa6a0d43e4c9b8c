package derive

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PromOptions say where a service's request counters are and over what range.
type PromOptions struct {
	URL      string        // Prometheus base URL
	Selector string        // label matchers, e.g. {job="shop"}; "" for all series
	Metric   string        // a request counter; default http_request_duration_seconds_count
	Route    string        // the route label; default "route"
	Method   string        // the method label; "" when the route label holds "GET /path" (the shop's)
	Range    time.Duration // how far back from End; default 7 days
	End      time.Time     // default now
	// Step is the resolution of the rate series; default Range/500,
	// at least a minute (or Scrape×4 when that is shorter).
	Step   time.Duration
	Scrape time.Duration // the scrape interval, for the rate window; default 15s
	// Transport is the HTTP transport; nil uses http.DefaultTransport.
	Transport http.RoundTripper
}

// PromProfile is what Prometheus said, with the queries that said it.
type PromProfile struct {
	Profile
	MixQuery, RateQuery string
	Step, Window        time.Duration
	Samples             int
}

// FromPrometheus reads the request mix by route (the counter's increase
// over the range) and the request rate's series (its mean, peak and
// percentiles) from Prometheus.
func FromPrometheus(ctx context.Context, o PromOptions) (*PromProfile, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("--prometheus: a Prometheus URL is required")
	}
	if o.Metric == "" {
		o.Metric = "http_request_duration_seconds_count"
	}
	if o.Route == "" {
		o.Route = "route"
	}
	if o.Range <= 0 {
		o.Range = 7 * 24 * time.Hour
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if o.Scrape <= 0 {
		o.Scrape = 15 * time.Second
	}
	if o.Step <= 0 {
		o.Step = max(o.Range/500, min(time.Minute, 4*o.Scrape)).Round(time.Second)
	}
	window := max(o.Step, 4*o.Scrape)
	sel := strings.TrimSpace(o.Selector)
	if sel != "" && (!strings.HasPrefix(sel, "{") || !strings.HasSuffix(sel, "}")) {
		return nil, fmt.Errorf("--selector %q: want label matchers in braces, e.g. {job=\"shop\"}", o.Selector)
	}
	by := o.Route
	if o.Method != "" {
		by += ", " + o.Method
	}
	p := &PromProfile{
		MixQuery:  fmt.Sprintf("sum by (%s) (increase(%s%s[%s]))", by, o.Metric, sel, model.Duration(o.Range)),
		RateQuery: fmt.Sprintf("sum(rate(%s%s[%s]))", o.Metric, sel, model.Duration(window)),
		Step:      o.Step, Window: window,
	}
	c, err := api.NewClient(api.Config{Address: o.URL, RoundTripper: o.Transport})
	if err != nil {
		return nil, fmt.Errorf("--prometheus %q: %w", o.URL, err)
	}
	prom := v1.NewAPI(c)
	v, _, _, err := prom.Query(ctx, p.MixQuery, o.End)
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %s: %w", o.URL, p.MixQuery, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus: %s: want a vector, got %s", p.MixQuery, v.Type())
	}
	var total float64
	for _, s := range vec {
		n := float64(s.Value)
		if n <= 0 || math.IsNaN(n) {
			continue
		}
		route := string(s.Metric[model.LabelName(o.Route)])
		method := ""
		if o.Method != "" {
			method = strings.ToUpper(string(s.Metric[model.LabelName(o.Method)]))
		} else if m, rest, ok := strings.Cut(route, " "); ok && methodRank(strings.ToUpper(m)) < len(methods) {
			method, route = strings.ToUpper(m), rest
		}
		if method == "" {
			method = "GET"
		}
		p.Routes = append(p.Routes, Route{Method: method, Template: promTemplate(route), Count: int64(math.Round(n)),
			Statuses: map[int]int64{}})
		total += n
	}
	if len(p.Routes) == 0 {
		return nil, fmt.Errorf("prometheus: %s: no series with requests (check --selector, --metric and --route)", p.MixQuery)
	}
	sort.Slice(p.Routes, func(i, j int) bool { return p.Routes[i].Count > p.Routes[j].Count })
	for _, r := range p.Routes {
		p.Requests += r.Count
	}
	m, _, _, err := prom.QueryRange(ctx, p.RateQuery, v1.Range{Start: o.End.Add(-o.Range), End: o.End, Step: o.Step})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %s: %w", o.URL, p.RateQuery, err)
	}
	mat, ok := m.(model.Matrix)
	if !ok || len(mat) == 0 || len(mat[0].Values) == 0 {
		return nil, fmt.Errorf("prometheus: %s: no samples over the range", p.RateQuery)
	}
	var xs []float64
	for _, sp := range mat[0].Values {
		x := float64(sp.Value)
		if math.IsNaN(x) {
			continue
		}
		xs = append(xs, x)
		if x > p.Rates.PeakMinute {
			p.Rates.PeakMinute, p.Rates.PeakMinAt = x, sp.Timestamp.Time().UTC()
		}
	}
	p.Samples = len(xs)
	p.First, p.Last = mat[0].Values[0].Timestamp.Time().UTC(), mat[0].Values[len(mat[0].Values)-1].Timestamp.Time().UTC()
	var sum float64
	for _, x := range xs {
		sum += x
	}
	p.Rates.Mean = sum / float64(max(len(xs), 1))
	sort.Float64s(xs)
	p.Rates.P50, p.Rates.P90, p.Rates.P95, p.Rates.P99 = quantile(xs, .5), quantile(xs, .9), quantile(xs, .95), quantile(xs, .99)
	p.Rates.Minutes = len(xs)
	p.Source = fmt.Sprintf("Prometheus %s, %s to %s", o.URL, p.First.Format(time.RFC3339), p.Last.Format(time.RFC3339))
	return p, nil
}

// promTemplate writes a route label's variables ({id}, {cart_id}, :id) as
// placeholders Template knows.
func promTemplate(route string) string {
	segs := strings.Split(route, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"), strings.HasPrefix(s, ":"):
			segs[i] = ParamID
		}
	}
	return Template(strings.Join(segs, "/"))
}
