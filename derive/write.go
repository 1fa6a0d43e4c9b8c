package derive

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"
)

// PlanOptions shape the plan WritePlan writes.
type PlanOptions struct {
	Name    string // plan name; default "derived"
	BaseURL string // target.base_url; default a placeholder on 127.0.0.1:8080
	// Coverage is the share of sessions the journeys should cover, most
	// frequent first (default 0.9), with at most MaxJourneys (default 8).
	Coverage    float64
	MaxJourneys int
	// Command is how the plan was made, for its first comment.
	Command string
}

func (o PlanOptions) withDefaults() PlanOptions {
	if o.Name == "" {
		o.Name = "derived"
	}
	if o.BaseURL == "" {
		o.BaseURL = "http://127.0.0.1:8080"
	}
	if o.Coverage <= 0 || o.Coverage > 1 {
		o.Coverage = 0.9
	}
	if o.MaxJourneys <= 0 {
		o.MaxJourneys = 8
	}
	return o
}

// Selected returns the journeys a plan keeps: the most frequent first,
// until they cover opts.Coverage of the sessions or number MaxJourneys.
func Selected(p *Profile, opts PlanOptions) []Journey {
	opts = opts.withDefaults()
	var out []Journey
	var covered int64
	for _, j := range p.Journeys {
		if !sendable(j) {
			continue
		}
		if len(out) >= opts.MaxJourneys || (p.Sessions > 0 && float64(covered) >= opts.Coverage*float64(p.Sessions)) {
			break
		}
		out = append(out, j)
		covered += j.Count
	}
	return out
}

// WritePlan writes p as a plan YAML whose comments carry the evidence.
// What the source cannot know (bodies, credentials, the target) is marked
// PLACEHOLDER.
func WritePlan(w io.Writer, p *Profile, opts PlanOptions) error {
	opts = opts.withDefaults()
	if p.Requests == 0 {
		return fmt.Errorf("no requests were read: nothing to derive a plan from")
	}
	b := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	routes := map[string]*Route{}
	for i := range p.Routes {
		routes[p.Routes[i].Key()] = &p.Routes[i]
	}
	journeys := Selected(p, opts)
	if len(journeys) == 0 {
		return fmt.Errorf("no session holds a request a plan can send (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)")
	}
	var kept int64
	var keptReqs float64
	for _, j := range journeys {
		kept += j.Count
		keptReqs += float64(j.Count) * float64(len(j.Steps))
	}
	perIter := 1.0
	if kept > 0 {
		perIter = keptReqs / float64(kept)
	}

	if opts.Command != "" {
		pf("# Derived by `%s`\n", opts.Command)
	}
	pf("# from %s:\n", p.Source)
	pf("# %s requests from %s to %s (%s); %s sessions rebuilt.\n", count(p.Requests),
		p.First.UTC().Format(time.RFC3339), p.Last.UTC().Format(time.RFC3339), p.Span().Round(time.Second), count(p.Sessions))
	pf("# Logs do not know request bodies, credentials or the target: every PLACEHOLDER below needs you.\n")
	pf("version: 1\n")
	pf("name: %s\n", yq(opts.Name))
	pf("description: %s\n\n", yq(fmt.Sprintf("Request mix, journeys, think times and rates of %s requests (%s).", count(p.Requests), p.Source)))

	pf("target:\n  base_url: %s   # PLACEHOLDER: the service under test\n  timeout: 10s\n\n", yq(opts.BaseURL))

	pf("# The request mix, as production served it:\n")
	for i, r := range p.Routes {
		if i == 30 {
			pf("#   ... %d more routes\n", len(p.Routes)-30)
			break
		}
		pf("#   %-44s %12s  %5.1f%%\n", r.Key(), count(r.Count), 100*p.Share(r))
	}
	if p.NoRoute > 0 {
		pf("#   (not counted: %s lines whose request named no route, e.g. \"-\" or a TLS handshake)\n", count(p.NoRoute))
	}
	if p.OtherRoutes > 0 {
		pf("#   (beyond %d routes) %s requests\n", MaxRoutes, count(p.OtherRoutes))
	}
	rt := p.Rates
	mean, peak := rt.Mean/perIter, rt.PeakMinute/perIter
	pf("\n# Rates (requests/s): mean %s, peak minute %s (from %s), peak second %s (at %s);\n",
		num(rt.Mean), num(rt.PeakMinute), rt.PeakMinAt.Format("2006-01-02 15:04"), num(rt.PeakSecond), rt.PeakAt.Format("2006-01-02 15:04:05"))
	pf("# per-minute rate over %d whole minutes: p50 %s, p90 %s, p95 %s, p99 %s.\n", rt.Minutes, num(rt.P50), num(rt.P90), num(rt.P95), num(rt.P99))
	pf("# An iteration is one session: %s requests each on average in the journeys below,\n", num(perIter))
	pf("# so the mean is %s iterations/s and the peak minute %s iterations/s.\n", num(mean), num(peak))
	iterSeconds := perIter*0.2 + meanThink(journeys, routes).Seconds()
	vus := int(math.Ceil(2 * max(peak, 1) * max(iterSeconds, 1)))
	pf("load:\n  model: open\n  max_vus: %d   # twice the peak's concurrent sessions (%s/s × %s each, 200 ms a request assumed)\n",
		max(vus, 10), num(peak), time.Duration(iterSeconds*float64(time.Second)).Round(100*time.Millisecond))
	pf("  stages:\n")
	pf("    - { duration: 1m, target: %s }   # ramp to the mean\n", rate(mean))
	pf("    - { duration: 5m, target: %s }   # hold the mean\n", rate(mean))
	pf("    - { duration: 1m, target: %s }   # ramp to the peak minute\n", rate(peak))
	pf("    - { duration: 5m, target: %s }   # hold the peak\n", rate(peak))
	pf("    - { duration: 30s, target: 0 }\n\n")

	pf("# Journeys: the %d most frequent session paths cover %s of %s sessions (%.1f%%);\n",
		len(journeys), count(kept), count(p.Sessions), pct(kept, p.Sessions))
	pf("# pauses between requests: p10 %s, p50 %s, p90 %s (%s pauses).\n", dur(p.Think.P10), dur(p.Think.P50), dur(p.Think.P90), count(p.Think.Count))
	pf("journeys:\n")
	for i, j := range journeys {
		weight := max(1, int(math.Round(1000*float64(j.Count)/float64(max(kept, 1)))))
		pf("  - name: %s\n", yq(journeyName(i, j)))
		pf("    weight: %d   # %s of %s sessions (%.1f%%)\n", weight, count(j.Count), count(p.Sessions), pct(j.Count, p.Sessions))
		pf("    steps:\n")
		for k, key := range j.Steps {
			r := routes[key]
			if r == nil || !planMethod(r.Method) { // requests beyond MaxRoutes, or a method plans do not send
				continue
			}
			writeStep(b, r, p)
			if k < len(j.Steps)-1 && r.Think.Count > 0 && r.Think.P75 > 0 {
				pf("      - think: %s..%s   # p25..p75 of %s pauses after it (p50 %s, p90 %s)\n",
					dur(r.Think.P25), dur(max(r.Think.P75, r.Think.P25)), count(r.Think.Count), dur(r.Think.P50), dur(r.Think.P90))
			}
		}
	}
	writeBusiness(b, p, perIter)
	return b.Flush()
}

func writeStep(b *bufio.Writer, r *Route, p *Profile) {
	fmt.Fprintf(b, "      - name: %s\n", yq(r.Key()))
	fmt.Fprintf(b, "        %s: %s   # %s requests, %.1f%% of all; e.g. %s\n", strings.ToLower(r.Method), yq(stepPath(r)),
		count(r.Count), 100*p.Share(*r), r.Example)
	for _, prm := range r.Params {
		if prm.Kind != ParamID && prm.Kind != ParamUUID {
			fmt.Fprintf(b, "        # PLACEHOLDER: %s is one value seen (%s); an id from an earlier response goes here (extract it)\n", prm.Kind, prm.Example)
		}
	}
	switch r.Method {
	case "POST", "PUT", "PATCH":
		fmt.Fprintf(b, "        # PLACEHOLDER: the request body (json: {...}); logs do not record it\n")
	}
	st, n := 0, int64(0)
	for s, c := range r.Statuses {
		if c > n || (c == n && s < st) {
			st, n = s, c
		}
	}
	if st >= 100 && st < 400 {
		fmt.Fprintf(b, "        expect: { status: %d }   # %.1f%% of its responses\n", st, pct(n, r.Count))
	}
}

// stepPath turns a route template back into a request path template.
func stepPath(r *Route) string {
	segs := strings.Split(r.Template, "/")
	k := 0
	for i, s := range segs {
		if !isPlaceholder(s) {
			segs[i] = literal(s)
			continue
		}
		var prm Param
		if k < len(r.Params) {
			prm = r.Params[k]
		}
		k++
		switch {
		case s == ParamID && prm.Max >= prm.Min && prm.Kind == ParamID:
			segs[i] = fmt.Sprintf("{{ randInt %d %d }}", prm.Min, prm.Max)
		case s == ParamUUID:
			segs[i] = "{{ uuid }}"
		case s == ParamID && prm.Kind == "":
			segs[i] = "{{ randInt 1 1000 }}" // no values seen (Prometheus): a guess
		case s == ParamToken || prm.Example == "":
			segs[i] = "PLACEHOLDER"
		default:
			segs[i] = literal(prm.Example)
		}
	}
	path := strings.Join(segs, "/")
	var qs []string
	for _, q := range r.Query {
		if float64(q.Count) < 0.5*float64(r.Count) {
			continue // an optional parameter: leave it out
		}
		v := url.QueryEscape(q.Example)
		name := url.QueryEscape(q.Name)
		switch {
		case q.Numeric && q.Max == q.Min:
			v = fmt.Sprint(q.Min)
		case q.Numeric && q.Max > q.Min:
			v = fmt.Sprintf("{{ randInt %d %d }}", q.Min, q.Max)
		case secretName(q.Name):
			v = "PLACEHOLDER"
		}
		qs = append(qs, name+"="+v)
	}
	if len(qs) > 0 {
		path += "?" + strings.Join(qs, "&")
	}
	return path
}

// sendable says whether a plan can send at least one of j's requests.
func sendable(j Journey) bool {
	for _, k := range j.Steps {
		if m, _, ok := strings.Cut(k, " "); ok && planMethod(m) {
			return true
		}
	}
	return false
}

// planMethod says whether a plan step can send method.
func planMethod(m string) bool { return methodRank(m) < len(methods) }

func isPlaceholder(s string) bool {
	switch s {
	case ParamID, ParamUUID, ParamHash, ParamToken, ParamSlug:
		return true
	}
	return false
}

// literal keeps a path part from reading as a template or breaking the URL.
func literal(s string) string {
	if !strings.ContainsAny(s, "{}% \t\"\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c) // already escaped
		case c == '{' || c == '}' || c == '%' || c <= ' ' || c == '"' || c == '\\' || c >= 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func secretName(n string) bool {
	n = strings.ToLower(n)
	for _, s := range []string{"token", "key", "secret", "pass", "auth", "session", "sig", "email", "code"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func meanThink(js []Journey, routes map[string]*Route) time.Duration {
	var total, n float64
	for _, j := range js {
		var t time.Duration
		for k, key := range j.Steps {
			if r := routes[key]; r != nil && k < len(j.Steps)-1 {
				t += r.Think.P50
			}
		}
		total += float64(j.Count) * float64(t)
		n += float64(j.Count)
	}
	if n == 0 {
		return 0
	}
	return time.Duration(total / n)
}

func writeBusiness(b *bufio.Writer, p *Profile, perIter float64) {
	if p.SessionSeconds <= 0 || p.Rates.Mean <= 0 {
		return
	}
	// a session lasts from its first request to its last, plus one median
	// pause after the last (the reading time logs cannot see)
	seconds := p.SessionSeconds + float64(p.Sessions)*p.Think.P50.Seconds()
	perUserMin := float64(p.SessionRequests) / (seconds / 60)
	users := p.Rates.Mean * 60 / perUserMin
	fmt.Fprintf(b, "\n# From the sessions: %s requests over %s of session time (each session's span plus one median pause);\n# active users = the mean rate ÷ a user's rate.\n",
		count(p.SessionRequests), time.Duration(seconds*float64(time.Second)).Round(time.Second))
	fmt.Fprintf(b, "business:\n")
	fmt.Fprintf(b, "  active_users: %s   # %s req/min ÷ %s req/min a user\n", num(math.Max(1, math.Round(users))), num(p.Rates.Mean*60), num(perUserMin))
	fmt.Fprintf(b, "  requests_per_user_per_minute: %s\n", num(perUserMin))
	if p.Rates.P50 > 0 {
		fmt.Fprintf(b, "  peak_factor: %s   # peak minute %s req/s ÷ median minute %s req/s\n",
			num(math.Max(1, p.Rates.PeakMinute/p.Rates.P50)), num(p.Rates.PeakMinute), num(p.Rates.P50))
	}
}

func journeyName(i int, j Journey) string {
	last := "requests"
	if len(j.Steps) > 0 {
		parts := strings.Split(strings.SplitN(j.Steps[len(j.Steps)-1], " ", 2)[1], "/")
		for k := len(parts) - 1; k >= 0; k-- {
			if parts[k] != "" && !strings.HasPrefix(parts[k], "{") {
				last = parts[k]
				break
			}
		}
	}
	return fmt.Sprintf("%d-%s-%d-steps", i+1, last, len(j.Steps))
}

// yq quotes s as a YAML double-quoted scalar.
func yq(s string) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// count formats n with thousands separators: 23,847.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// rate formats a stage target: never 0 for a rate that was not 0.
func rate(v float64) string {
	if v > 0 && v < 0.01 {
		v = 0.01
	}
	return num(v)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
