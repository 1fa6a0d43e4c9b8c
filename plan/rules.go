package plan

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Rules are the bounds a shared server puts on the plans it stores and
// runs, on top of each plan's own. The zero value bounds nothing: a plan
// run by its author on their own machine (`headroom run`) keeps every
// freedom the plan format gives.
type Rules struct {
	// Shared turns the rules on. Then target.env may name only Env, data
	// files are only local paths read under DataDir, every URL load goes
	// to is on Load, every observe URL on Observe, no endpoint is Denied,
	// and a step's absolute URL or a Host header is never a template.
	Shared bool
	// Load is where load may go (host[:port] entries).
	Load HostList
	// Observe is where the observe URLs (Prometheus, Jaeger, Tempo,
	// Grafana) may point.
	Observe HostList
	// Env are the environment variables target.env may read.
	Env []string
	// MaxVUs caps load.max_vus and a closed model's users; 0 = no cap.
	// An open plan that does not set max_vus gets MaxVUs.
	MaxVUs int
	// Deny refuses endpoints whatever the lists say (the server's own
	// address); nil denies none.
	Deny func(Endpoint) bool
	// Files bound the data files of a shared plan.
	Files Files
}

// Files are where and how much of the data files a shared plan may read.
type Files struct {
	Dir      string // data files are local paths under it; "" is the working directory
	MaxBytes int64  // largest data file; default 16 MiB
	MaxRows  int    // most rows in one data file; default 1,000,000
}

// withDefaults fills the zero limits.
func (f Files) withDefaults() Files {
	if f.Dir == "" {
		f.Dir = "."
	}
	if f.MaxBytes <= 0 {
		f.MaxBytes = 16 << 20
	}
	if f.MaxRows <= 0 {
		f.MaxRows = 1_000_000
	}
	return f
}

// ParseWith is Parse under rules: a plan that breaks them gets an *Error
// (or Errors) naming the field and its line, like any other problem.
func ParseWith(file string, data []byte, r Rules) (*Plan, error) {
	return parse(file, data, r)
}

// CheckURL checks a URL that load goes to from outside the plan (a job's
// settings.base_url or verify_url) against the rules; field names it.
func (r Rules) CheckURL(field, raw string) error {
	if raw == "" || !r.Shared {
		return nil
	}
	e, err := URLEndpoint(raw)
	if err != nil {
		return &Error{Field: field, Msg: err.Error()}
	}
	if msg := r.loadProblem(e); msg != "" {
		return &Error{Field: field, Msg: msg}
	}
	return nil
}

// loadProblem says why load may not go to e, "" when it may.
func (r Rules) loadProblem(e Endpoint) string {
	if r.Deny != nil && r.Deny(e) {
		return fmt.Sprintf("%s is this server's own address", e)
	}
	if !r.Load.Allows(e) {
		return fmt.Sprintf("%s is outside this server's allow-list (%s); start the server with --allow to add it", e, r.Load)
	}
	return ""
}

// TargetKey is the one normalised endpoint a job's load goes to (the base
// URL's, or override's when it is set): one load job per target at a time.
func (p *Plan) TargetKey(override string) string {
	raw := p.Target.BaseURL
	if override != "" {
		raw = override
	}
	e, err := URLEndpoint(raw)
	if err != nil {
		return strings.ToLower(raw)
	}
	return e.String()
}

// checkRules records every way p breaks r.
func (d *decoder) checkRules(p *Plan, r Rules) {
	if !r.Shared {
		return
	}
	files := r.Files.withDefaults()
	p.Sandbox = &files
	for i, name := range p.Target.Env {
		if !slices.Contains(r.Env, name) {
			d.errorAt(d.lineOf("target.env"), indexPath("target.env", i),
				"%q is not on this server's --plan-env list (%s)", name, listOrNone(r.Env))
		}
	}
	// The database DSN is a server secret like any other: a plan may name
	// only a variable the server lets plans read.
	if db := p.Observe.Database; db != nil && db.DSNEnv != "" && !slices.Contains(r.Env, db.DSNEnv) {
		d.errorAt(d.lineOf("observe.database.dsn_env"), "observe.database.dsn_env",
			"%q is not on this server's --plan-env list (%s)", db.DSNEnv, listOrNone(r.Env))
	}
	for name, ds := range p.Data {
		field := joinPath(joinPath("data", name), "csv")
		if ds.CSV != "" && !filepath.IsLocal(filepath.FromSlash(ds.CSV)) {
			d.errorAt(d.lineOf(field), field, "%q: on this server a data file is a relative path inside --data-dir, without ..", ds.CSV)
		}
	}
	d.checkMaxVUs(p, r.MaxVUs)
	d.checkLoadURL(r, "target.base_url", p.Target.BaseURL)
	d.checkLoadURL(r, "capacity.verify_url", p.Capacity.VerifyURL)
	d.checkLoadURL(r, "capacity.assess_url", p.Capacity.AssessURL)
	for i, a := range p.Target.Allow {
		if e, err := ParseEndpoint(a, 0); err == nil && !r.Load.allowsHost(e.Host) {
			d.errorAt(d.lineOf("target.allow"), indexPath("target.allow", i),
				"host %s is outside this server's allow-list (%s)", e.Host, r.Load)
		}
	}
	d.checkHostHeader(p, r, "target.headers", p.Target.Headers)
	for i, j := range p.Journeys {
		for k, s := range j.Steps {
			step := fmt.Sprintf("journeys[%d].steps[%d]", i, k)
			if isAbsolute(s.Path) {
				field := orField(d.requestKey[step], step)
				if strings.Contains(authority(s.Path), "{{") {
					d.errorAt(s.Line, field, "on this server the host of an absolute URL cannot be a template")
				} else {
					d.checkLoadURL(r, field, scheme(s.Path)+authority(s.Path))
				}
			}
			d.checkHostHeader(p, r, step+".headers", s.Headers)
		}
	}
	for _, o := range []struct{ field, url string }{
		{"observe.prometheus", p.Observe.Prometheus}, {"observe.tempo", p.Observe.Tempo},
		{"observe.jaeger", p.Observe.Jaeger}, {"observe.grafana", p.Observe.Grafana},
		{"observe.pprof", p.Observe.Pprof},
	} {
		if o.url == "" || !d.settled(o.field) {
			continue
		}
		e, err := URLEndpoint(o.url)
		if err != nil {
			continue // checkURLs said so
		}
		switch {
		case r.Deny != nil && r.Deny(e):
			d.errorAt(d.lineOf(o.field), o.field, "%s is this server's own address", e)
		case !r.Observe.Allows(e):
			d.errorAt(d.lineOf(o.field), o.field, "%s is outside this server's observe allow-list (%s); start the server with --observe-allow to add it", e, r.Observe)
		}
	}
}

// checkMaxVUs caps load.max_vus at max: an explicit larger value, or a
// closed model's larger target, is refused at its line.
func (d *decoder) checkMaxVUs(p *Plan, max int) {
	if max <= 0 {
		return
	}
	l := &p.Load
	_, explicit := d.lines["load.max_vus"]
	if l.MaxVUs > max && explicit {
		d.errorAt(d.lineOf("load.max_vus"), "load.max_vus", "%d is above this server's --max-vus %d", l.MaxVUs, max)
	}
	if l.Model == ModelClosed {
		if l.Start > float64(max) {
			d.errorAt(d.lineOf("load.start"), "load.start", "%v virtual users is above this server's --max-vus %d", l.Start, max)
		}
		for i, s := range l.Stages {
			if field := indexPath("load.stages", i) + ".target"; s.Target > float64(max) {
				d.errorAt(d.lineOf(field), field, "%v virtual users is above this server's --max-vus %d", s.Target, max)
			}
		}
	}
	l.MaxVUs = min(l.MaxVUs, max)
}

// checkLoadURL records why load may not go to raw's endpoint.
func (d *decoder) checkLoadURL(r Rules, field, raw string) {
	if raw == "" || !d.settled(field) {
		return
	}
	e, err := URLEndpoint(raw)
	if err != nil {
		return // checkURLs said so
	}
	if msg := r.loadProblem(e); msg != "" {
		d.errorAt(d.lineOf(field), field, "%s", msg)
	}
}

// checkHostHeader checks a Host header override like a host load goes to:
// a literal, on the server's allow-list and the plan's.
func (d *decoder) checkHostHeader(p *Plan, r Rules, field string, headers map[string]string) {
	for k, v := range headers {
		if !strings.EqualFold(strings.TrimSpace(k), "host") {
			continue
		}
		f := joinPath(field, k)
		if strings.Contains(v, "{{") {
			d.errorAt(d.lineOf(f), f, "on this server a Host header cannot be a template")
			continue
		}
		port := 80
		if be, err := URLEndpoint(p.Target.BaseURL); err == nil {
			port = be.Port
		}
		e, err := ParseEndpoint(v, port)
		if err != nil {
			d.errorAt(d.lineOf(f), f, "Host header %s", err)
			continue
		}
		if msg := r.loadProblem(e); msg != "" {
			d.errorAt(d.lineOf(f), f, "Host header: %s", msg)
		} else if !p.Allowed(e.Host) {
			d.errorAt(d.lineOf(f), f, "Host header: host %q is not in target.allow", e.Host)
		}
	}
}

// allowsHost reports whether some entry allows host on some port.
func (l HostList) allowsHost(host string) bool {
	h := canonicalHost(host)
	for _, a := range l.entries {
		if a.Host == "*" || a.Host == h || (strings.HasPrefix(a.Host, "*.") && strings.HasSuffix(h, a.Host[1:])) {
			return true
		}
	}
	return false
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "empty"
	}
	return strings.Join(names, ", ")
}

func orField(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
