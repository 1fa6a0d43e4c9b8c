package plan

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Threshold metrics, as k6 names them.
const (
	MetricDuration = "http_req_duration" // latency; stats p(N), avg, med, min, max; milliseconds
	MetricFailed   = "http_req_failed"   // failed fraction; stat rate
	MetricRequests = "http_reqs"         // requests; stats rate (per second) and count
)

var thresholdMetrics = []string{MetricDuration, MetricFailed, MetricRequests}

// thresholds decodes the k6-style list of single-key maps, each metric
// with one expression or a list of them (http_req_duration: "p(99)<400ms",
// http_req_duration: ["p(95)<200", "max<2s"]), and also k6's own map form
// (metric → expression or list).
func (d *decoder) thresholds(n *yaml.Node, field string, dst *[]Threshold) error {
	r, err := d.resolve(n, field)
	if err != nil {
		return err
	}
	if r.Kind == yaml.MappingNode {
		return d.thresholdMap(r, field, field, dst)
	}
	items, err := d.list(r, field)
	if err != nil {
		return err
	}
	var problem error
	for i, it := range items {
		problem = cmp.Or(problem, d.thresholdMap(it, indexPath(field, i), field, dst))
	}
	return problem
}

// thresholdMap decodes metric → expressions; inside a list each map must
// hold exactly one metric.
func (d *decoder) thresholdMap(n *yaml.Node, path, listField string, dst *[]Threshold) error {
	es, problem := d.entries(n, path)
	if problem == nil && path != listField && len(es) != 1 {
		return d.errorf(n, path, "a threshold is one metric and its expression, e.g. - %s: \"p(99)<400ms\"", MetricDuration)
	}
	for _, e := range es {
		problem = cmp.Or(problem, d.metricThresholds(e, joinPath(path, e.key), dst))
	}
	return problem
}

// metricThresholds decodes the expressions of one metric's entry.
func (d *decoder) metricThresholds(e entry, mpath string, dst *[]Threshold) error {
	d.lines[mpath] = e.keyAt.Line
	if !isThresholdMetric(e.key) {
		if s := suggest(e.key, thresholdMetrics); s != "" {
			return d.errorf(e.keyAt, mpath, "unknown metric (did you mean %q?)", s)
		}
		return d.errorf(e.keyAt, mpath, "unknown metric (use %s)", strings.Join(thresholdMetrics, ", "))
	}
	v, err := d.resolve(e.value, mpath)
	if err != nil {
		return err
	}
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	if isNull(v) || len(items) == 0 {
		return d.errorf(e.keyAt, mpath, "needs an expression, e.g. \"p(99)<400ms\"")
	}
	var problem error
	for i, it := range items {
		ipath := mpath
		if v.Kind == yaml.SequenceNode {
			ipath = indexPath(mpath, i)
		}
		t, err := d.threshold(it, ipath, e.key)
		if err != nil {
			problem = cmp.Or(problem, err)
			continue
		}
		t.Line = e.keyAt.Line
		*dst = append(*dst, t)
	}
	return problem
}

// threshold decodes one expression: text, or k6's object form with
// threshold, abortOnFail and delayAbortEval.
func (d *decoder) threshold(n *yaml.Node, field, metric string) (Threshold, error) {
	r, err := d.resolve(n, field)
	if err != nil {
		return Threshold{}, err
	}
	var text string
	var abort bool
	var delay time.Duration
	if r.Kind == yaml.MappingNode {
		err = d.object(r, field, fields{
			"threshold":      func(n *yaml.Node, f string) error { return d.setString(n, f, &text) },
			"abortOnFail":    func(n *yaml.Node, f string) error { return d.setBool(n, f, &abort) },
			"delayAbortEval": func(n *yaml.Node, f string) error { return d.setDuration(n, f, &delay) },
		})
		if err == nil && text == "" {
			err = d.errorf(r, joinPath(field, "threshold"), "required, e.g. \"p(99)<400ms\"")
		}
	} else {
		err = d.setString(r, field, &text)
	}
	if err != nil {
		return Threshold{}, err
	}
	t, problem := parseThreshold(metric, text)
	if problem != "" {
		return Threshold{}, d.errorf(r, field, "%q: %s", text, problem)
	}
	t.AbortOnFail, t.DelayAbortEval = abort, delay
	return t, nil
}

func isThresholdMetric(m string) bool {
	for _, k := range thresholdMetrics {
		if m == k {
			return true
		}
	}
	return false
}

// parseThreshold parses one expression such as "p(99)<400ms", "rate<0.01"
// or "count>=1000"; problem says what is wrong with it.
func parseThreshold(metric, text string) (t Threshold, problem string) {
	t = Threshold{Metric: metric, Text: text}
	s := strings.TrimSpace(text)
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return t, "has no comparison (<, <=, > or >=)"
	}
	stat, rest := strings.TrimSpace(s[:i]), s[i:]
	for _, op := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(rest, op) && !strings.HasPrefix(rest[len(op):], "=") {
			t.Op = op
			break
		}
	}
	if t.Op == "" {
		end := strings.IndexFunc(rest, func(r rune) bool { return !strings.ContainsRune("<>=!", r) })
		if end < 0 {
			end = len(rest)
		}
		return t, fmt.Sprintf("operator %q is not supported (use <, <=, > or >=)", rest[:end])
	}
	value := strings.TrimSpace(rest[len(t.Op):])
	if stat == "" {
		return t, "has no statistic before " + t.Op
	}
	if value == "" {
		return t, "has no value after " + t.Op
	}
	switch metric {
	case MetricDuration:
		t.Stat, problem = durationStat(stat)
		if problem == "" {
			t.Value, problem = millis(value)
		}
	case MetricFailed:
		if stat != "rate" {
			return t, fmt.Sprintf("%s has the statistic rate, not %q", metric, stat)
		}
		t.Stat = stat
		t.Value, problem = thresholdFraction(value)
	case MetricRequests:
		if stat != "rate" && stat != "count" {
			return t, fmt.Sprintf("%s has the statistics rate and count, not %q", metric, stat)
		}
		t.Stat = stat
		t.Value, problem = thresholdCount(value)
	}
	return t, problem
}

// durationStat canonicalises p(N), avg, med, min and max.
func durationStat(stat string) (string, string) {
	switch stat {
	case "avg", "med", "min", "max":
		return stat, ""
	}
	inner, ok := strings.CutPrefix(stat, "p(")
	if ok {
		inner, ok = strings.CutSuffix(inner, ")")
	}
	if !ok {
		return "", fmt.Sprintf("unknown statistic %q (use p(N), avg, med, min or max)", stat)
	}
	q, isNum := parseNumber(inner)
	if !isNum || q <= 0 || q > 100 {
		return "", fmt.Sprintf("percentile %q must be a number above 0 and at most 100", inner)
	}
	return "p(" + strconv.FormatFloat(q, 'f', -1, 64) + ")", ""
}

// millis reads "400ms", "1.5s" or a bare number of milliseconds.
func millis(value string) (float64, string) {
	v, ok := parseNumber(value)
	if !ok {
		dur, err := time.ParseDuration(value)
		if err != nil {
			return 0, fmt.Sprintf("%q is not a duration or a number of milliseconds", value)
		}
		v = float64(dur) / float64(time.Millisecond)
	}
	if v < 0 {
		return 0, fmt.Sprintf("%s must not be negative", value)
	}
	return v, ""
}

// thresholdFraction reads "0.01" or "1%".
func thresholdFraction(value string) (float64, string) {
	num, percent := strings.CutSuffix(value, "%")
	v, ok := parseNumber(num)
	if !ok {
		return 0, fmt.Sprintf("%q is not a fraction", value)
	}
	if percent {
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, fmt.Sprintf("%s must be between 0 and 1", value)
	}
	return v, ""
}

// thresholdCount reads a non-negative number, allowing a "/s" suffix.
func thresholdCount(value string) (float64, string) {
	v, ok := parseNumber(strings.TrimSuffix(value, "/s"))
	if !ok {
		return 0, fmt.Sprintf("%q is not a number", value)
	}
	if v < 0 {
		return 0, fmt.Sprintf("%s must not be negative", value)
	}
	return v, ""
}
