package plan

import (
	"cmp"

	"go.yaml.in/yaml/v3"
)

// plan decodes the document's root map into p.
func (d *decoder) plan(root *yaml.Node, p *Plan) error {
	d.lines[""] = root.Line
	return d.object(root, "", fields{
		"version":     func(n *yaml.Node, f string) error { return d.setInt(n, f, &p.Version) },
		"name":        func(n *yaml.Node, f string) error { return d.setString(n, f, &p.Name) },
		"description": func(n *yaml.Node, f string) error { return d.setString(n, f, &p.Description) },
		"target":      func(n *yaml.Node, f string) error { return d.target(n, f, &p.Target) },
		"slo":         func(n *yaml.Node, f string) error { return d.slo(n, f, &p.SLO) },
		"thresholds":  func(n *yaml.Node, f string) error { return d.thresholds(n, f, &p.Thresholds) },
		"load":        func(n *yaml.Node, f string) error { return d.load(n, f, &p.Load) },
		"data":        func(n *yaml.Node, f string) error { return d.data(n, f, &p.Data) },
		"journeys":    func(n *yaml.Node, f string) error { return d.journeys(n, f, &p.Journeys) },
		"abort":       func(n *yaml.Node, f string) error { return d.abort(n, f, &p.Abort) },
		"observe":     func(n *yaml.Node, f string) error { return d.observe(n, f, &p.Observe) },
		"capacity":    func(n *yaml.Node, f string) error { return d.capacity(n, f, &p.Capacity) },
		"business":    func(n *yaml.Node, f string) error { return d.business(n, f, &p.Business) },
		"soak":        func(n *yaml.Node, f string) error { return d.soak(n, f, &p.Soak) },
		"spike":       func(n *yaml.Node, f string) error { return d.spike(n, f, &p.Spike) },
	})
}

func (d *decoder) target(n *yaml.Node, field string, t *Target) error {
	return d.object(n, field, fields{
		"base_url":    func(n *yaml.Node, f string) error { return d.setString(n, f, &t.BaseURL) },
		"environment": func(n *yaml.Node, f string) error { return d.setString(n, f, &t.Environment) },
		"allow":       func(n *yaml.Node, f string) error { return d.setStringList(n, f, &t.Allow) },
		"timeout":     func(n *yaml.Node, f string) error { return d.setDuration(n, f, &t.Timeout, positive, maxTimeout) },
		"headers":     func(n *yaml.Node, f string) error { return d.setStringMap(n, f, &t.Headers) },
		"env":         func(n *yaml.Node, f string) error { return d.setStringList(n, f, &t.Env) },
		"max_conns":   func(n *yaml.Node, f string) error { return d.setInt(n, f, &t.MaxConns, nonNegative, maxUsers) },
		"insecure_tls": func(n *yaml.Node, f string) error {
			return d.setBool(n, f, &t.Insecure)
		},
		"ca_pem": func(n *yaml.Node, f string) error {
			if err := d.setString(n, f, &t.CAPEM); err != nil {
				return err
			}
			if _, err := ParseCAPEM(t.CAPEM); err != nil {
				return d.errorf(n, f, "%v", err)
			}
			return nil
		},
	})
}

func (d *decoder) slo(n *yaml.Node, field string, s *SLO) error {
	return d.object(n, field, fields{
		"p50":            func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.P50, positive, maxWait) },
		"p95":            func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.P95, positive, maxWait) },
		"p99":            func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.P99, positive, maxWait) },
		"max":            func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Max, positive, maxWait) },
		"error_rate":     func(n *yaml.Node, f string) error { return d.setFractionPtr(n, f, &s.ErrorRate) },
		"min_throughput": func(n *yaml.Node, f string) error { return d.setRate(n, f, &s.MinThroughput, maxMeasured) },
	})
}

func (d *decoder) load(n *yaml.Node, field string, l *Load) error {
	return d.object(n, field, fields{
		"model":   func(n *yaml.Node, f string) error { return d.setString(n, f, (*string)(&l.Model)) },
		"max_vus": func(n *yaml.Node, f string) error { return d.setInt(n, f, &l.MaxVUs, positive, maxUsers) },
		"start":   func(n *yaml.Node, f string) error { return d.setFloat(n, f, &l.Start, nonNegative, maxRate) },
		"stages":  func(n *yaml.Node, f string) error { return d.stages(n, f, &l.Stages) },
	})
}

func (d *decoder) stages(n *yaml.Node, field string, dst *[]Stage) error {
	items, err := d.list(n, field)
	if err != nil {
		return err
	}
	stages := make([]Stage, 0, len(items))
	var problem error
	for i, it := range items {
		path := indexPath(field, i)
		d.lines[path] = it.Line
		s := Stage{Target: -1}
		problem = cmp.Or(problem, d.object(it, path, fields{
			"duration": func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Duration, positive, maxLong) },
			"target":   func(n *yaml.Node, f string) error { return d.setFloat(n, f, &s.Target, nonNegative, maxRate) },
		}))
		if at := joinPath(path, "duration"); s.Duration == 0 && d.settled(at) {
			problem = cmp.Or(problem, d.errorf(it, at, "required"))
		}
		if at := joinPath(path, "target"); s.Target < 0 && d.settled(at) {
			problem = cmp.Or(problem, d.errorf(it, at, "required"))
		}
		s.Target = max(s.Target, 0)
		stages = append(stages, s) // kept when broken, so indexes match the file
	}
	*dst = stages
	return problem
}

func (d *decoder) data(n *yaml.Node, field string, dst *map[string]DataSource) error {
	es, problem := d.entries(n, field)
	out := make(map[string]DataSource, len(es))
	for _, e := range es {
		path := joinPath(field, e.key)
		d.lines[path] = e.keyAt.Line
		if !isIdentifier(e.key) {
			problem = cmp.Or(problem, d.errorf(e.keyAt, path,
				"a data name must be letters, digits and _ (templates read it as .data.%s)", e.key))
		}
		var ds DataSource
		problem = cmp.Or(problem, d.object(e.value, path, fields{
			"csv": func(n *yaml.Node, f string) error { return d.setString(n, f, &ds.CSV) },
		}))
		if at := joinPath(path, "csv"); ds.CSV == "" && d.settled(at) {
			problem = cmp.Or(problem, d.errorf(e.keyAt, at, "required (the path of a CSV file)"))
		}
		out[e.key] = ds
	}
	*dst = out
	return problem
}

func (d *decoder) abort(n *yaml.Node, field string, a *Abort) error {
	return d.object(n, field, fields{
		"error_rate": func(n *yaml.Node, f string) error { return d.setFractionPtr(n, f, &a.ErrorRate) },
		"for":        func(n *yaml.Node, f string) error { return d.setDuration(n, f, &a.For, positive, maxWait) },
		"max_rate":   func(n *yaml.Node, f string) error { return d.setRate(n, f, &a.MaxRate, maxRate) },
		"p99":        func(n *yaml.Node, f string) error { return d.setDuration(n, f, &a.P99, positive, maxWait) },
	})
}

func (d *decoder) observe(n *yaml.Node, field string, o *Observe) error {
	return d.object(n, field, fields{
		"prometheus": func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Prometheus) },
		"selector":   func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Selector) },
		"tempo":      func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Tempo) },
		"jaeger":     func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Jaeger) },
		"service":    func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Service) },
		"grafana":    func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Grafana) },
		"signals":    func(n *yaml.Node, f string) error { return d.setStringMap(n, f, &o.Signals) },
		"components": func(n *yaml.Node, f string) error { return d.components(n, f, &o.Components) },
		"database":   func(n *yaml.Node, f string) error { return d.database(n, f, &o.Database) },
		"pprof":      func(n *yaml.Node, f string) error { return d.setString(n, f, &o.Pprof) },
	})
}

func (d *decoder) capacity(n *yaml.Node, field string, c *Capacity) error {
	lessThanOne := rule{func(v float64) bool { return v < 1 }, "must be below 100%"}
	return d.object(n, field, fields{
		"start_rate":    func(n *yaml.Node, f string) error { return d.setRate(n, f, &c.StartRate, positive, maxRate) },
		"step_duration": func(n *yaml.Node, f string) error { return d.setDuration(n, f, &c.StepDuration, positive, maxWait) },
		"warmup":        func(n *yaml.Node, f string) error { return d.setFraction(n, f, &c.Warmup, lessThanOne) },
		"precision":     func(n *yaml.Node, f string) error { return d.setFraction(n, f, &c.Precision, positive, lessThanOne) },
		"cooldown":      func(n *yaml.Node, f string) error { return d.setDuration(n, f, &c.Cooldown, maxWait) },
		"instances":     func(n *yaml.Node, f string) error { return d.setInt(n, f, &c.Instances, atLeastOne, maxCount) },
		"verify_url":    func(n *yaml.Node, f string) error { return d.setString(n, f, &c.VerifyURL) },
		"stress_factor": func(n *yaml.Node, f string) error { return d.setFloat(n, f, &c.StressFactor, atLeastOne, maxCount) },
		"autoscale_at":  func(n *yaml.Node, f string) error { return d.setFraction(n, f, &c.AutoscaleAt, positive) },
		"required_rps":  func(n *yaml.Node, f string) error { return d.setRate(n, f, &c.RequiredRPS, maxMeasured) },
		"assess_url":    func(n *yaml.Node, f string) error { return d.setString(n, f, &c.AssessURL) },
	})
}

func (d *decoder) business(n *yaml.Node, field string, b *Business) error {
	return d.object(n, field, fields{
		"active_users": func(n *yaml.Node, f string) error { return d.setFloat(n, f, &b.ActiveUsers, nonNegative, maxMeasured) },
		"requests_per_user_per_minute": func(n *yaml.Node, f string) error {
			return d.setFloat(n, f, &b.RequestsPerUserPerMinute, nonNegative, maxMeasured)
		},
		"peak_factor":       func(n *yaml.Node, f string) error { return d.setFloat(n, f, &b.PeakFactor, nonNegative, maxCount) },
		"launch_multiplier": func(n *yaml.Node, f string) error { return d.setFloat(n, f, &b.LaunchMultiplier, positive, maxCount) },
		"ha_min_instances":  func(n *yaml.Node, f string) error { return d.setInt(n, f, &b.HAMinInstances, atLeastOne, maxCount) },
	})
}

// isIdentifier reports whether s can be read by a template as .x.<s>.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		digit := r >= '0' && r <= '9'
		if !letter && !(digit && i > 0) {
			return false
		}
	}
	return true
}
