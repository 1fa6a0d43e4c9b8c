package plan

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"
)

// newPlan returns the plan a file is decoded into: it already holds the
// defaults whose zero value is also a valid setting (capacity.warmup,
// capacity.cooldown), so that an explicit 0 in the file survives.
func newPlan(file string) *Plan {
	return &Plan{
		File:     file,
		Capacity: Capacity{Warmup: 0.2, Cooldown: 10 * time.Second},
	}
}

// withDefaults fills every unset field whose zero value is not a valid
// setting. A zero capacity.warmup, capacity.cooldown or step chance is a
// real setting (no warm-up, no cool-down, never) and is left alone.
func (p *Plan) withDefaults() {
	if p.Name == "" && p.File != "" {
		p.Name = strings.TrimSuffix(filepath.Base(p.File), filepath.Ext(p.File))
	}
	if p.Target.Timeout == 0 {
		p.Target.Timeout = 10 * time.Second
	}
	if len(p.Target.Allow) == 0 {
		p.Target.Allow = p.allowList()
	}
	if p.Load.Model == "" {
		p.Load.Model = "open"
	}
	if p.Load.MaxVUs == 0 {
		p.Load.MaxVUs = 1000
		if p.Load.Model == "closed" {
			p.Load.MaxVUs = max(1, int(math.Ceil(p.Load.peak())))
		}
	}
	if p.Abort.For == 0 {
		p.Abort.For = 10 * time.Second
	}
	c := &p.Capacity
	setIfZero(&c.StartRate, 10)
	if c.StepDuration == 0 {
		c.StepDuration = 30 * time.Second
	}
	setIfZero(&c.Precision, 0.05)
	if c.Instances == 0 {
		c.Instances = 3
	}
	setIfZero(&c.StressFactor, 1.5)
	setIfZero(&c.AutoscaleAt, 0.65)
	setIfZero(&p.Business.LaunchMultiplier, 2)
	if p.Business.HAMinInstances == 0 {
		p.Business.HAMinInstances = 3
	}
	for i := range p.Journeys {
		if p.Journeys[i].Weight == 0 {
			p.Journeys[i].Weight = 1
		}
	}
}

func setIfZero(v *float64, def float64) {
	if *v == 0 {
		*v = def
	}
}

// peak is the highest target the load profile reaches.
func (l Load) peak() float64 {
	peak := l.Start
	for _, s := range l.Stages {
		peak = max(peak, s.Target)
	}
	return peak
}

// validate checks what spans several fields, after defaults are applied.
// It records every problem it finds and leaves out the checks whose inputs
// could not be read, so that a bad value is not reported again as one of
// its consequences.
func (d *decoder) validate(p *Plan) {
	d.checkVersion(p)
	d.checkTarget(p)
	d.checkLoad(p)
	d.checkJourneys(p)
	d.checkURLs(p)
	d.checkSoak(p)
}

func (d *decoder) checkVersion(p *Plan) {
	if !d.settled("version") {
		return
	}
	if _, set := d.lines["version"]; !set {
		d.errorAt(d.lineOf(""), "version", "required (this parser reads version: 1)")
	} else if p.Version != 1 {
		d.errorAt(d.lineOf("version"), "version", "must be 1, got %d", p.Version)
	}
}

func (d *decoder) checkTarget(p *Plan) {
	t := p.Target
	if t.BaseURL == "" && d.settled("target.base_url") {
		d.errorAt(d.lineOf("target.base_url"), "target.base_url", "required (e.g. http://127.0.0.1:8080)")
	}
	for i, a := range t.Allow {
		field := indexPath("target.allow", i)
		if !d.settled(field) {
			continue
		}
		if strings.Contains(a, "/") || strings.TrimSpace(a) == "" || strings.ContainsAny(a, " \t{}") {
			d.errorAt(d.lineOf("target.allow"), field, "%q is not a host name (list hosts only, e.g. 127.0.0.1)", a)
		}
	}
	for i, name := range t.Env {
		if field := indexPath("target.env", i); d.settled(field) && !isIdentifier(name) {
			d.errorAt(d.lineOf("target.env"), field, "%q is not an environment variable name", name)
		}
	}
}

func (d *decoder) checkLoad(p *Plan) {
	l := p.Load
	if l.Model != "open" && l.Model != "closed" && d.settled("load.model") {
		d.errorAt(d.lineOf("load.model"), "load.model", "%q must be open or closed", l.Model)
	}
	if len(l.Stages) == 0 && d.settled("load.stages") {
		d.errorAt(d.lineOf("load.stages"), "load.stages", "at least one stage is required, e.g. - { duration: 1m, target: 10 }")
	}
	if l.Model != "closed" {
		return
	}
	for i, s := range l.Stages {
		field := indexPath("load.stages", i) + ".target"
		if s.Target != math.Trunc(s.Target) && d.settled(field) {
			d.errorAt(d.lineOf(field), field, "the closed model counts virtual users: %v is not a whole number", s.Target)
		}
	}
	if peak := l.peak(); float64(l.MaxVUs) < peak && d.settled("load.max_vus") {
		d.errorAt(d.lineOf("load.max_vus"), "load.max_vus", "%d is below the load profile's %v virtual users", l.MaxVUs, peak)
	}
}

func (d *decoder) checkJourneys(p *Plan) {
	if len(p.Journeys) == 0 && d.settled("journeys") {
		d.errorAt(d.lineOf("journeys"), "journeys", "at least one journey is required")
	}
	for i, j := range p.Journeys {
		hasRequest := false
		for _, s := range j.Steps {
			hasRequest = hasRequest || s.Method != ""
		}
		// A step that could not be read may be the request this journey lacks.
		if field := indexPath("journeys", i) + ".steps"; !hasRequest && d.settled(field) {
			d.errorAt(d.lineOf(field), field, "journey %q needs at least one request step", j.Name)
		}
	}
}

// checkURLs checks that every URL is absolute and that load can only go to
// allowed hosts. Hosts are checked only while target.allow (or the base
// URL it defaults to) could be read.
func (d *decoder) checkURLs(p *Plan) {
	type urlField struct {
		field, url string
		load       bool // load goes there: its host must be allowed
	}
	urls := []urlField{
		{"target.base_url", p.Target.BaseURL, true},
		{"capacity.verify_url", p.Capacity.VerifyURL, true},
		{"capacity.assess_url", p.Capacity.AssessURL, true},
		{"observe.prometheus", p.Observe.Prometheus, false},
		{"observe.tempo", p.Observe.Tempo, false},
		{"observe.jaeger", p.Observe.Jaeger, false},
		{"observe.grafana", p.Observe.Grafana, false},
		{"observe.pprof", p.Observe.Pprof, false},
	}
	for i, j := range p.Journeys {
		for k, s := range j.Steps {
			if isAbsolute(s.Path) && !strings.Contains(authority(s.Path), "{{") {
				step := fmt.Sprintf("journeys[%d].steps[%d]", i, k)
				if field, ok := d.requestKey[step]; ok {
					urls = append(urls, urlField{field, s.Path, true})
				}
			}
		}
	}
	for _, u := range urls {
		if u.url == "" || !d.settled(u.field) {
			continue
		}
		host, problem := "", "must be an absolute http:// or https:// URL"
		if isAbsolute(u.url) {
			host, problem = urlHost(scheme(u.url) + authority(u.url))
		}
		if problem != "" {
			d.errorAt(d.lineOf(u.field), u.field, "%q %s", u.url, problem)
			continue
		}
		allowKnown := d.settled("target.allow") && d.settled("target.base_url")
		if u.load && allowKnown && !p.Allowed(host) {
			d.errorAt(d.lineOf(u.field), u.field, "host %q is not in target.allow", normalHost(host))
		}
	}
}

func isAbsolute(path string) bool {
	return strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://")
}

// scheme returns "http://" or "https://" when raw starts with one, else "".
func scheme(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		return raw[:i+3]
	}
	return ""
}

// authority returns the host[:port] part of an absolute URL, without
// parsing the (possibly templated) rest.
func authority(raw string) string {
	rest := strings.TrimPrefix(raw, scheme(raw))
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}
