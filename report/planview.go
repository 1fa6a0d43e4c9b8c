package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// planView is the test plan as the stakeholders signed it.
type planView struct {
	Name, Description string
	Service           []pair // target and environment
	Objectives        []pair
	Load              []pair
	Stages            []stageRow
	Journeys          []journeyRow
	Observability     []pair
	BlastRadius       []pair
	Capacity          []pair
	Business          []pair
}

type pair struct{ Key, Value string }

type stageRow struct {
	N                int
	Duration, Target string
}

type journeyRow struct {
	Name   string
	Weight int
	Share  string // of the iterations
	Steps  []string
}

func newPlanView(p *plan.Plan) *planView {
	v := &planView{Name: p.Name, Description: p.Description}
	t := p.Target
	v.Service = pairs("base URL", t.BaseURL, "environment", t.Environment, "allowed hosts", strings.Join(t.Allow, ", "),
		"request timeout", durOr(t.Timeout), "plan file", p.File)
	for _, o := range p.Objectives() {
		v.Objectives = append(v.Objectives, pair{o.Name, o.Threshold})
	}
	unit := "iterations/s"
	if p.Load.Model == "closed" {
		unit = "virtual users"
	}
	v.Load = pairs("model", string(p.Load.Model)+" ("+unit+")", "max concurrent iterations", intOr(p.Load.MaxVUs))
	for i, s := range p.Load.Stages {
		v.Stages = append(v.Stages, stageRow{N: i + 1, Duration: fmtDur(s.Duration), Target: fmtFloat(s.Target) + " " + unit})
	}
	total := 0
	for _, j := range p.Journeys {
		total += max(j.Weight, 1)
	}
	for _, j := range p.Journeys {
		w := max(j.Weight, 1)
		row := journeyRow{Name: j.Name, Weight: w, Share: fmtPct(float64(w) / float64(max(total, 1)))}
		for _, s := range j.Steps {
			switch {
			case s.Method != "":
				step := s.Method + " " + s.Path
				if s.Name != "" {
					step = s.Name + ": " + step
				}
				if s.Chance > 0 && s.Chance < 1 {
					step += fmt.Sprintf(" (%s of iterations)", fmtPct(s.Chance))
				}
				row.Steps = append(row.Steps, step)
			case s.Think.Max > 0:
				row.Steps = append(row.Steps, fmt.Sprintf("think %s–%s", fmtDur(s.Think.Min), fmtDur(s.Think.Max)))
			}
		}
		v.Journeys = append(v.Journeys, row)
	}
	o := p.Observe
	signals := make([]string, 0, len(o.Signals))
	for k := range o.Signals {
		signals = append(signals, k)
	}
	sort.Strings(signals)
	traces := o.Tempo
	if o.Jaeger != "" {
		traces = o.Jaeger + " (Jaeger)"
	} else if traces != "" {
		traces += " (Tempo API)"
	}
	v.Observability = pairs("Prometheus", o.Prometheus, "selector", o.Selector, "traces", traces,
		"service", o.Service, "Grafana", o.Grafana, "signal overrides", strings.Join(signals, ", "))
	a := p.Abort
	errRate := ""
	if a.ErrorRate != nil {
		errRate = fmtPct(*a.ErrorRate) + " for " + durOr(a.For)
	}
	p99 := ""
	if a.P99 > 0 {
		p99 = fmtDur(a.P99) + " for " + durOr(a.For)
	}
	maxRate := ""
	if a.MaxRate > 0 {
		maxRate = fmtFloat(a.MaxRate) + "/s"
	}
	v.BlastRadius = pairs("stop when the error rate exceeds", errRate, "stop when p99 exceeds", p99,
		"never offer more than", maxRate, "load only to", strings.Join(t.Allow, ", "))
	c := p.Capacity
	v.Capacity = pairs("start rate", nonZero(c.StartRate, "/s"), "step duration", durOr(c.StepDuration),
		"warm-up excluded", nonZeroPct(c.Warmup), "precision", nonZeroPct(c.Precision), "cooldown", durOr(c.Cooldown),
		"instances to extrapolate to", intOr(c.Instances), "verify URL", c.VerifyURL, "stress factor", nonZero(c.StressFactor, "×"),
		"autoscale at", nonZeroPct(c.AutoscaleAt), "required", nonZero(c.RequiredRPS, " req/s"))
	b := p.Business
	v.Business = pairs("active users", nonZero(b.ActiveUsers, ""), "requests per user per minute", nonZero(b.RequestsPerUserPerMinute, ""),
		"peak factor", nonZero(b.PeakFactor, "×"), "launch multiplier", nonZero(b.LaunchMultiplier, "×"), "HA minimum instances", intOr(b.HAMinInstances))
	return v
}

// pairs keeps the key/value pairs whose value is set.
func pairs(kv ...string) []pair {
	var out []pair
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			out = append(out, pair{kv[i], kv[i+1]})
		}
	}
	return out
}

func durOr(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmtDur(d)
}

func intOr(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprint(n)
}

func nonZero(v float64, unit string) string {
	if v == 0 {
		return ""
	}
	return fmtFloat(v) + unit
}

func nonZeroPct(v float64) string {
	if v == 0 {
		return ""
	}
	return fmtPct(v)
}
