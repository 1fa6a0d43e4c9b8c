package plan

import (
	"cmp"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The helpers below decode one scalar into *dst. A null value leaves *dst
// as it was, so a default set before decoding survives an empty key.

// rule is a range a number must fall in, with the words that say so.
type rule struct {
	ok   func(float64) bool
	want string
}

var (
	nonNegative = rule{func(v float64) bool { return v >= 0 }, "must be >= 0"}
	positive    = rule{func(v float64) bool { return v > 0 }, "must be > 0"}
	atLeastOne  = rule{func(v float64) bool { return v >= 1 }, "must be >= 1"}
	zeroToOne   = rule{func(v float64) bool { return v >= 0 && v <= 1 }, "must be between 0 and 1"}

	// The ceilings every number a plan sets stays under, so that a typo or
	// a hostile plan cannot ask for what no run can give.
	maxRate     = atMost(1e6, "1000000/s")      // rates offered (iterations/s)
	maxUsers    = atMost(1e5, "100000")         // virtual users, connections
	maxLong     = atMost(24*3600, "24h")        // a stage, a soak
	maxWait     = atMost(3600, "1h")            // step lengths, cool-downs, abort windows, SLO latencies
	maxTimeout  = atMost(600, "10m")            // one request
	maxCount    = atMost(1000, "1000")          // instances, multipliers, weights per mille
	maxMeasured = atMost(1e12, "1000000000000") // business inputs, measured throughput
)

// atMost is a rule with a ceiling; text is the ceiling as a person writes it.
func atMost(limit float64, text string) rule {
	return rule{func(v float64) bool { return v <= limit }, "must be at most " + text}
}

// scalar resolves n and returns it when it is a non-null scalar; ok is
// false for null.
func (d *decoder) scalar(n *yaml.Node, field, want string) (s *yaml.Node, ok bool, err error) {
	n, err = d.resolve(n, field)
	if err != nil {
		return nil, false, err
	}
	if isNull(n) {
		return nil, false, nil
	}
	if n.Kind != yaml.ScalarNode {
		return nil, false, d.errorf(n, field, "expected %s, got %s", want, describe(n))
	}
	return n, true, nil
}

func (d *decoder) setString(n *yaml.Node, field string, dst *string) error {
	s, ok, err := d.scalar(n, field, "text")
	if ok {
		*dst = s.Value
	}
	return err
}

func (d *decoder) setBool(n *yaml.Node, field string, dst *bool) error {
	s, ok, err := d.scalar(n, field, "true or false")
	if !ok {
		return err
	}
	b, perr := strconv.ParseBool(s.Value)
	if perr != nil {
		return d.errorf(s, field, "%q is not true or false", s.Value)
	}
	*dst = b
	return nil
}

// setFloat decodes a plain number and checks it against rules.
func (d *decoder) setFloat(n *yaml.Node, field string, dst *float64, rules ...rule) error {
	s, ok, err := d.scalar(n, field, "a number")
	if !ok {
		return err
	}
	v, ok := parseNumber(s.Value)
	if !ok {
		return d.errorf(s, field, "%q is not a number", s.Value)
	}
	if err := d.check(s, field, v, rules); err != nil {
		return err
	}
	*dst = v
	return nil
}

// setInt decodes a whole number and checks it against rules.
func (d *decoder) setInt(n *yaml.Node, field string, dst *int, rules ...rule) error {
	s, ok, err := d.scalar(n, field, "a whole number")
	if !ok {
		return err
	}
	v, ok := parseNumber(s.Value)
	if !ok || v != math.Trunc(v) || math.Abs(v) > 1<<31 {
		return d.errorf(s, field, "%q is not a whole number", s.Value)
	}
	if err := d.check(s, field, v, rules); err != nil {
		return err
	}
	*dst = int(v)
	return nil
}

// setDuration decodes a Go duration ("500ms", "1m30s"); a bare number is
// refused because its unit would be a guess.
func (d *decoder) setDuration(n *yaml.Node, field string, dst *time.Duration, rules ...rule) error {
	s, ok, err := d.scalar(n, field, "a duration")
	if !ok {
		return err
	}
	v, err := d.duration(s, field, s.Value)
	if err != nil {
		return err
	}
	if err := d.check(s, field, v.Seconds(), append([]rule{nonNegative}, rules...)); err != nil {
		return err
	}
	*dst = v
	return nil
}

// duration parses text as a Go duration, refusing bare numbers.
func (d *decoder) duration(at *yaml.Node, field, text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if _, isNumber := parseNumber(text); isNumber {
		return 0, d.errorf(at, field, "%s is not a duration (add a unit, e.g. %ss or %sms)", text, text, text)
	}
	v, err := time.ParseDuration(text)
	if err != nil {
		return 0, d.errorf(at, field, "%q is not a duration", text)
	}
	return v, nil
}

// setFraction decodes "1%" or "0.01" into 0.01; the result is within 0..1.
func (d *decoder) setFraction(n *yaml.Node, field string, dst *float64, rules ...rule) error {
	s, ok, err := d.scalar(n, field, "a percentage or a fraction")
	if !ok {
		return err
	}
	text := strings.TrimSpace(s.Value)
	if num, isPercent := strings.CutSuffix(text, "%"); isPercent {
		v, ok := parseNumber(strings.TrimSpace(num))
		if !ok {
			return d.errorf(s, field, "%q is not a percentage", text)
		}
		if v < 0 || v > 100 {
			return d.errorf(s, field, "must be between 0%% and 100%%, got %s", text)
		}
		return d.setChecked(s, field, dst, v/100, rules)
	}
	v, ok := parseNumber(text)
	if !ok {
		return d.errorf(s, field, "%q is not a percentage or a fraction", text)
	}
	if v < 0 || v > 1 {
		return d.errorf(s, field, "must be a fraction between 0 and 1 or a percentage like \"5%%\", got %s", text)
	}
	return d.setChecked(s, field, dst, v, rules)
}

// setFractionPtr is setFraction for optional fractions stored as pointers.
func (d *decoder) setFractionPtr(n *yaml.Node, field string, dst **float64) error {
	v := -1.0
	if err := d.setFraction(n, field, &v); err != nil {
		return err
	}
	if v >= 0 {
		*dst = &v
	}
	return nil
}

// setRate decodes a per-second rate: "50/s", "3000/m" or a bare 50.
func (d *decoder) setRate(n *yaml.Node, field string, dst *float64, rules ...rule) error {
	s, ok, err := d.scalar(n, field, "a rate")
	if !ok {
		return err
	}
	text := strings.TrimSpace(s.Value)
	num, per := text, 1.0
	if i := strings.IndexByte(text, '/'); i >= 0 {
		num = strings.TrimSpace(text[:i])
		switch unit := strings.TrimSpace(text[i+1:]); unit {
		case "s":
		case "m", "min":
			per = 60
		default:
			return d.errorf(s, field, "%q is not a rate (use /s or /m)", text)
		}
	}
	v, ok := parseNumber(num)
	if !ok {
		return d.errorf(s, field, "%q is not a rate (e.g. 50/s)", text)
	}
	return d.setChecked(s, field, dst, v/per, append([]rule{nonNegative}, rules...))
}

// setRange decodes a think time: "1s..3s" or a single "1s".
func (d *decoder) setRange(n *yaml.Node, field string, dst *Range) error {
	s, ok, err := d.scalar(n, field, "a duration or a range like 1s..3s")
	if !ok {
		return err
	}
	lo, hi, isRange := strings.Cut(s.Value, "..")
	if !isRange {
		hi = lo
	}
	min, err := d.duration(s, field, lo)
	if err != nil {
		return err
	}
	max, err := d.duration(s, field, hi)
	if err != nil {
		return err
	}
	if min < 0 || max < 0 {
		return d.errorf(s, field, "must not be negative, got %s", s.Value)
	}
	if min > max {
		return d.errorf(s, field, "range %s goes down (write the shorter time first)", s.Value)
	}
	if max > time.Hour {
		return d.errorf(s, field, "must be at most 1h, got %s", s.Value)
	}
	*dst = Range{Min: min, Max: max}
	return nil
}

// setStringMap decodes a map of scalars into text values, e.g. headers.
func (d *decoder) setStringMap(n *yaml.Node, field string, dst *map[string]string) error {
	es, problem := d.entries(n, field)
	if len(es) == 0 {
		return problem
	}
	m := make(map[string]string, len(es))
	for _, e := range es {
		path := joinPath(field, e.key)
		d.lines[path] = e.keyAt.Line
		var v string
		err := d.setString(e.value, path, &v)
		if err == nil {
			err = d.template(e.value, path, v)
		}
		problem = cmp.Or(problem, err)
		m[e.key] = v
	}
	*dst = m
	return problem
}

// setStringList decodes a list of scalars; a single scalar is a list of
// one. An item that cannot be read is kept as "", so indexes match the file.
func (d *decoder) setStringList(n *yaml.Node, field string, dst *[]string) error {
	r, err := d.resolve(n, field)
	if err != nil {
		return err
	}
	if r.Kind == yaml.ScalarNode && !isNull(r) {
		*dst = []string{r.Value}
		return nil
	}
	items, err := d.list(n, field)
	if err != nil {
		return err
	}
	out := make([]string, 0, len(items))
	var problem error
	for i, it := range items {
		var s string
		problem = cmp.Or(problem, d.setString(it, indexPath(field, i), &s))
		out = append(out, s)
	}
	*dst = out
	return problem
}

// template flags a "{{" that is never closed; the generator compiles the
// rest.
func (d *decoder) template(at *yaml.Node, field, s string) error {
	for rest := s; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return nil
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 || strings.Contains(rest[:j], "{{") {
			return d.errorf(at, field, "template %q has \"{{\" without \"}}\"", s)
		}
		rest = rest[j+2:]
	}
}

func (d *decoder) setChecked(at *yaml.Node, field string, dst *float64, v float64, rules []rule) error {
	if err := d.check(at, field, v, rules); err != nil {
		return err
	}
	*dst = v
	return nil
}

func (d *decoder) check(at *yaml.Node, field string, v float64, rules []rule) error {
	for _, r := range rules {
		if !r.ok(v) {
			return d.errorf(at, field, "%s, got %s", r.want, strings.TrimSpace(at.Value))
		}
	}
	return nil
}

// parseNumber parses a finite decimal number ("12", "0.5", "1e3", "1_000").
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
