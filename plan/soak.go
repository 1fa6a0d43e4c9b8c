package plan

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Soak makes `headroom run` a soak: the load profile's last stage with a
// target above zero is held for Duration (the stages after it, such as a
// ramp-down, follow), and the hold is judged for trends — memory, heap,
// goroutines, open files, pooled connections, p99 and error rate.
type Soak struct {
	Duration    time.Duration // soak.duration: how long the hold lasts; 0: no soak
	Warmup      float64       // soak.warmup: share of the hold not judged (caches filling); default 10%
	MemoryLimit float64       // soak.memory_limit: bytes ("512MiB"); 0: read from Prometheus when it knows one
}

// Spike is a sudden jump of load: Baseline for Before, up to Factor ×
// Baseline in Ramp, held for Hold, back to Baseline in Ramp, then After
// at Baseline to see it recover.
type Spike struct {
	Baseline float64       // spike.baseline: iterations/s (open) or users (closed); default the load's first non-zero target
	Factor   float64       // spike.factor: the jump, × the baseline; default 10
	Ramp     time.Duration // spike.ramp: how long the jump takes; default 5s
	Hold     time.Duration // spike.hold: how long the spike lasts; default 30s
	Before   time.Duration // spike.before: baseline before the jump; default 30s
	After    time.Duration // spike.after: baseline after it, to see recovery; default 60s
}

// Enabled reports whether the plan has a spike: section.
func (s Spike) Enabled() bool { return s.Factor > 0 }

func (d *decoder) soak(n *yaml.Node, field string, s *Soak) error {
	s.Warmup = 0.1
	lessThanOne := rule{func(v float64) bool { return v < 1 }, "must be below 100%"}
	return d.object(n, field, fields{
		"duration":     func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Duration, positive) },
		"warmup":       func(n *yaml.Node, f string) error { return d.setFraction(n, f, &s.Warmup, lessThanOne) },
		"memory_limit": func(n *yaml.Node, f string) error { return d.setBytes(n, f, &s.MemoryLimit) },
	})
}

func (d *decoder) spike(n *yaml.Node, field string, s *Spike) error {
	*s = Spike{Factor: 10, Ramp: 5 * time.Second, Hold: 30 * time.Second, Before: 30 * time.Second, After: time.Minute}
	return d.object(n, field, fields{
		"baseline": func(n *yaml.Node, f string) error { return d.setFloat(n, f, &s.Baseline, positive) },
		"factor": func(n *yaml.Node, f string) error {
			return d.setFloat(n, f, &s.Factor, rule{func(v float64) bool { return v > 1 }, "must be > 1"})
		},
		"ramp":   func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Ramp, positive) },
		"hold":   func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Hold, positive) },
		"before": func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Before, positive) },
		"after":  func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.After, positive) },
	})
}

// byteUnits are the suffixes setBytes accepts, longest first.
var byteUnits = []struct {
	suffix string
	scale  float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// setBytes decodes a size: "512MiB", "1.5GB", "1048576" (bytes).
func (d *decoder) setBytes(n *yaml.Node, field string, dst *float64) error {
	s, ok, err := d.scalar(n, field, "a size")
	if !ok {
		return err
	}
	text := strings.TrimSpace(s.Value)
	scale := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(text, u.suffix) {
			text, scale = strings.TrimSpace(strings.TrimSuffix(text, u.suffix)), u.scale
			break
		}
	}
	v, perr := strconv.ParseFloat(text, 64)
	if perr != nil || v <= 0 || v != v {
		return d.errorf(s, field, "%q is not a size (e.g. 512MiB, 2GB)", s.Value)
	}
	*dst = v * scale
	return nil
}

// SoakLoad is the load profile of a soak: the stages up to the last one
// with a target above zero, a hold of Soak.Duration at that target, then
// the stages after it. hold is when the hold starts and ends, from the
// run's start. Without a soak it returns l unchanged and zero times.
func (p *Plan) SoakLoad() (l Load, from, to time.Duration, target float64) {
	l = p.Load
	if p.Soak.Duration <= 0 {
		return l, 0, 0, 0
	}
	last := -1
	for i, s := range l.Stages {
		if s.Target > 0 {
			last = i
		}
	}
	for _, s := range l.Stages[:last+1] {
		from += s.Duration
	}
	if last >= 0 {
		target = l.Stages[last].Target
	} else {
		target = l.Start
	}
	stages := append([]Stage(nil), l.Stages[:last+1]...)
	stages = append(stages, Stage{Duration: p.Soak.Duration, Target: target})
	l.Stages = append(stages, l.Stages[last+1:]...)
	return l, from, from + p.Soak.Duration, target
}

// checkSoak: a soak needs a target above zero to hold.
func (d *decoder) checkSoak(p *Plan) {
	if p.Soak.Duration > 0 && p.Spike.Enabled() && d.settled("spike") {
		d.errorAt(d.lineOf("spike"), "spike", "a plan with soak: is a soak; run the spike from a plan of its own")
	}
	if p.Soak.Duration <= 0 || p.Load.peak() > 0 || !d.settled("soak.duration") {
		return
	}
	d.errorAt(d.lineOf("soak.duration"), "soak.duration", "the load has no stage with a target above zero to hold")
}
