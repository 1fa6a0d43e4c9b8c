package plan

import (
	"cmp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// methodKeys are the step keys that name a request by its method.
var methodKeys = []string{"get", "post", "put", "patch", "delete", "head", "options"}

// requestOnly are the step keys that make sense only on a request.
var requestOnly = []string{"headers", "query", "json", "form", "body", "timeout", "chance", "extract", "expect"}

// step decodes one journey step: a request, or a pause made of think alone.
func (d *decoder) step(n *yaml.Node, field string) (Step, error) {
	s := Step{Chance: 1}
	r, err := d.resolve(n, field)
	if err != nil {
		return s, err
	}
	s.Line = r.Line
	d.lines[field] = r.Line

	var method string
	fs := fields{
		"name":    func(n *yaml.Node, f string) error { return d.setString(n, f, &s.Name) },
		"method":  func(n *yaml.Node, f string) error { return d.setString(n, f, &method) },
		"path":    func(n *yaml.Node, f string) error { return d.setString(n, f, &s.Path) },
		"headers": func(n *yaml.Node, f string) error { return d.setStringMap(n, f, &s.Headers) },
		"query":   func(n *yaml.Node, f string) error { return d.setStringMap(n, f, &s.Query) },
		"json":    func(n *yaml.Node, f string) (err error) { s.JSON, err = d.jsonValue(n, f, 0); return err },
		"form":    func(n *yaml.Node, f string) error { return d.setStringMap(n, f, &s.Form) },
		"body":    func(n *yaml.Node, f string) error { return d.bodyText(n, f, &s.Body) },
		"timeout": func(n *yaml.Node, f string) error { return d.setDuration(n, f, &s.Timeout, positive, maxTimeout) },
		"think":   func(n *yaml.Node, f string) error { return d.setRange(n, f, &s.Think) },
		"chance":  func(n *yaml.Node, f string) error { return d.setFloat(n, f, &s.Chance, zeroToOne) },
		"extract": func(n *yaml.Node, f string) error { return d.extractions(n, f, &s.Extract) },
		"expect":  func(n *yaml.Node, f string) error { return d.expect(n, f, &s.Expect) },
	}
	for _, m := range methodKeys {
		fs[m] = func(n *yaml.Node, f string) error {
			s.Method = strings.ToUpper(m)
			return d.setString(n, f, &s.Path)
		}
	}
	present := map[string]bool{}
	var order []string
	for k, decode := range fs {
		fs[k] = func(n *yaml.Node, f string) error {
			present[k] = true
			order = append(order, k)
			return decode(n, f)
		}
	}
	problem := d.object(r, field, fs)
	return s, cmp.Or(problem, d.request(r, field, &s, method, present, order))
}

// request checks that a step names exactly one request (or is a pause)
// and fills in the method, the path and the default name. Checks whose
// input could not be read are left out: their cause is already reported.
func (d *decoder) request(at *yaml.Node, field string, s *Step, method string, present map[string]bool, order []string) error {
	var named []string // keys that name the request
	for _, k := range order {
		if k == "method" || k == "path" || isMethodKey(k) {
			named = append(named, k)
		}
	}
	if len(named) == 0 {
		return d.pause(at, field, s, present, order)
	}
	urlField, problem := d.requestField(field, s, method, named, present)
	if urlField != "" {
		d.requestKey[field] = urlField
		if d.settled(urlField) {
			problem = cmp.Or(problem, d.checkPath(d.lineOf(urlField), urlField, s.Path))
		}
	}
	var bodies []string
	for _, k := range order {
		if k == "json" || k == "form" || k == "body" {
			bodies = append(bodies, k)
		}
	}
	if len(bodies) > 1 {
		problem = cmp.Or(problem, d.errorAt(d.lineOf(joinPath(field, bodies[1])), joinPath(field, bodies[1]),
			"a step has one body: %s and %s cannot be used together", bodies[0], bodies[1]))
	}
	if s.Name == "" {
		s.Name = s.Method + " " + s.Path
	}
	return problem
}

// requestField checks how the step at field names its request (get: /x,
// or method: + path:) and returns the field that holds its URL; "" when
// the request is not named right.
func (d *decoder) requestField(field string, s *Step, method string, named []string, present map[string]bool) (string, error) {
	if len(named) > 1 && !present["method"] && !present["path"] {
		return "", d.errorAt(d.lineOf(joinPath(field, named[1])), field,
			"a step makes one request, found %s and %s", named[0], named[1])
	}
	if !present["method"] && !present["path"] {
		return joinPath(field, named[0]), nil
	}
	for _, k := range named {
		if isMethodKey(k) {
			return "", d.errorAt(d.lineOf(joinPath(field, k)), joinPath(field, k),
				"a step names its request once: use %s: <path> or method: + path:, not both", k)
		}
	}
	methodAt, pathAt := joinPath(field, "method"), joinPath(field, "path")
	if !d.settled(methodAt) || !d.settled(pathAt) {
		return "", nil // unreadable, or an unknown key near it says what was meant
	}
	if !present["method"] {
		return "", d.errorAt(d.lineOf(pathAt), methodAt, "required with path")
	}
	if !present["path"] {
		return "", d.errorAt(d.lineOf(methodAt), pathAt, "required with method")
	}
	m := strings.ToLower(method)
	if !isMethodKey(m) {
		return "", d.errorAt(d.lineOf(methodAt), methodAt,
			"%q is not a supported method (%s)", method, strings.ToUpper(strings.Join(methodKeys, ", ")))
	}
	s.Method = strings.ToUpper(m)
	return joinPath(field, "path"), nil
}

// pause checks a step without a request: it must be think alone (and a
// name). When the step's keys could not all be read, or one of its unknown
// keys looks like a method or think, the step may well have meant to be
// something else, so nothing more is said.
func (d *decoder) pause(at *yaml.Node, field string, s *Step, present map[string]bool, order []string) error {
	for _, k := range append([]string{"method", "path", "think"}, methodKeys...) {
		if !d.settled(joinPath(field, k)) {
			return nil
		}
	}
	for _, k := range order {
		for _, ro := range requestOnly {
			if k == ro {
				return d.errorAt(d.lineOf(joinPath(field, k)), joinPath(field, k),
					"only a request step can have %s (add get:, post:, ... to this step)", k)
			}
		}
	}
	if !present["think"] {
		return d.errorf(at, field, "a step needs a request (get:, post:, put:, patch:, delete:, head:, options:) or a think time")
	}
	s.Chance = 1
	return nil
}

// checkPath accepts a path relative to the base URL ("/v1/x"), an absolute
// http(s) URL, or a template that produces one of those.
func (d *decoder) checkPath(line int, field, path string) error {
	if err := d.template(&yaml.Node{Line: line}, field, path); err != nil {
		return err
	}
	switch {
	case path == "":
		return d.errorAt(line, field, "needs a path, e.g. /v1/products")
	case strings.HasPrefix(path, "/"), strings.HasPrefix(path, "{{"):
		return nil
	case strings.HasPrefix(path, "http://"), strings.HasPrefix(path, "https://"):
		return nil
	}
	return d.errorAt(line, field, "path %q must start with \"/\" or be an absolute http(s) URL", path)
}

// bodyText decodes a raw body; it may hold templates.
func (d *decoder) bodyText(n *yaml.Node, field string, dst *string) error {
	if err := d.setString(n, field, dst); err != nil {
		return err
	}
	return d.template(n, field, *dst)
}

func isMethodKey(k string) bool {
	for _, m := range methodKeys {
		if k == m {
			return true
		}
	}
	return false
}
