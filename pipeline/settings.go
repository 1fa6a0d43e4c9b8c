package pipeline

import (
	"fmt"
	"net/url"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/plan"
)

// check validates the settings against the plan: each problem is a
// *plan.Error whose Field is the setting's JSON name (base_url, …).
func (s Settings) check(p *plan.Plan, kind Kind) error {
	var problems []*plan.Error
	bad := func(field, format string, args ...any) {
		problems = append(problems, &plan.Error{File: p.File, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	urls := []struct{ field, raw string }{{"base_url", s.BaseURL}}
	if kind == KindStudy {
		urls = append(urls, struct{ field, raw string }{"verify_url", s.VerifyURL})
		if s.VerifyURL == "" {
			urls = append(urls, struct{ field, raw string }{"capacity.verify_url", p.Capacity.VerifyURL})
		}
	}
	for _, u := range urls {
		if u.raw == "" {
			continue
		}
		parsed, err := url.Parse(u.raw)
		switch {
		case err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "":
			bad(u.field, "%q is not an http(s) URL", u.raw)
		case !p.Allowed(parsed.Hostname()):
			bad(u.field, "host %q is not allowed by the plan (target.allow)", parsed.Hostname())
		}
	}
	if s.Instances < 0 {
		bad("instances", "%d is not a whole number ≥ 1", s.Instances)
	}
	if s.StepDuration != 0 && s.StepDuration < time.Second {
		bad("step_duration", "%s is shorter than 1s", s.StepDuration)
	}
	if s.MaxRate < 0 {
		bad("max_rate", "%g is negative", s.MaxRate)
	}
	if s.Agents < 0 {
		bad("agents", "%d is negative", s.Agents)
	}
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return problems[0]
	}
	return plan.Errors(problems)
}

// capped returns p with abort.max_rate lowered to s.MaxRate when that is
// the lower cap (p itself when nothing changes).
func (s Settings) capped(p *plan.Plan) *plan.Plan {
	if s.MaxRate <= 0 || (p.Abort.MaxRate > 0 && p.Abort.MaxRate <= s.MaxRate) {
		return p
	}
	q := *p
	q.Abort.MaxRate = s.MaxRate
	return &q
}

// studyOptions are the capacity options the settings ask for.
func (s Settings) studyOptions() capacity.Options {
	return capacity.Options{
		URL:          s.BaseURL,
		VerifyURL:    s.VerifyURL,
		Instances:    s.Instances,
		StepDuration: s.StepDuration,
	}
}
