package plan

import (
	"cmp"
	"fmt"

	"go.yaml.in/yaml/v3"
)

func (d *decoder) journeys(n *yaml.Node, field string, dst *[]Journey) error {
	items, err := d.list(n, field)
	if err != nil {
		return err
	}
	journeys := make([]Journey, 0, len(items))
	names := map[string]int{}
	var problem error
	for i, it := range items {
		path := indexPath(field, i)
		d.lines[path] = it.Line
		j := Journey{Weight: 1}
		problem = cmp.Or(problem, d.object(it, path, fields{
			"name":   func(n *yaml.Node, f string) error { return d.setString(n, f, &j.Name) },
			"weight": func(n *yaml.Node, f string) error { return d.setInt(n, f, &j.Weight, atLeastOne, maxUsers) },
			"steps":  func(n *yaml.Node, f string) error { return d.steps(n, f, &j.Steps) },
		}))
		if j.Name == "" {
			j.Name = fmt.Sprintf("journey %d", i+1)
		}
		if name := joinPath(path, "name"); d.settled(name) {
			if first, dup := names[j.Name]; dup {
				problem = cmp.Or(problem, d.errorAt(d.lineOf(name), name,
					"journey name %q is already used by journeys[%d]", j.Name, first))
			} else {
				names[j.Name] = i
			}
		}
		journeys = append(journeys, j) // kept when broken, so indexes match the file
	}
	*dst = journeys
	return problem
}

func (d *decoder) steps(n *yaml.Node, field string, dst *[]Step) error {
	items, err := d.list(n, field)
	if err != nil {
		return err
	}
	steps := make([]Step, 0, len(items))
	var problem error
	for i, it := range items {
		s, err := d.step(it, indexPath(field, i))
		problem = cmp.Or(problem, err)
		steps = append(steps, s) // kept when broken, so indexes match the file
	}
	*dst = steps
	return problem
}

// expect decodes a step's checks.
func (d *decoder) expect(n *yaml.Node, field string, e *Expect) error {
	return d.object(n, field, fields{
		"status":   func(n *yaml.Node, f string) error { return d.statuses(n, f, &e.Status) },
		"json":     func(n *yaml.Node, f string) error { return d.expectJSON(n, f, &e.JSON) },
		"contains": func(n *yaml.Node, f string) error { return d.setString(n, f, &e.Contains) },
	})
}

// statuses decodes "200" or "[200, 201]".
func (d *decoder) statuses(n *yaml.Node, field string, dst *[]int) error {
	r, err := d.resolve(n, field)
	if err != nil {
		return err
	}
	items := []*yaml.Node{r}
	if r.Kind == yaml.SequenceNode {
		items = r.Content
	}
	inRange := rule{func(v float64) bool { return v >= 100 && v <= 599 }, "an HTTP status must be between 100 and 599"}
	out := make([]int, 0, len(items))
	var problem error
	for i, it := range items {
		path := field
		if r.Kind == yaml.SequenceNode {
			path = indexPath(field, i)
		}
		code := 0
		problem = cmp.Or(problem, d.setInt(it, path, &code, inRange))
		if code != 0 {
			out = append(out, code)
		}
	}
	*dst = out
	return problem
}

// expectJSON decodes path → expected value (as text) or "exists".
func (d *decoder) expectJSON(n *yaml.Node, field string, dst *map[string]string) error {
	es, problem := d.entries(n, field)
	out := make(map[string]string, len(es))
	for _, e := range es {
		path := joinPath(field, e.key)
		d.lines[path] = e.keyAt.Line
		v, err := d.resolve(e.value, path)
		switch {
		case err != nil:
			problem = cmp.Or(problem, err)
		case isNull(v):
			out[e.key] = "null"
		case v.Kind == yaml.ScalarNode:
			out[e.key] = v.Value
		default:
			problem = cmp.Or(problem, d.errorf(v, path, "expected a value or \"exists\", got %s", describe(v)))
		}
	}
	*dst = out
	return problem
}

// extractions decodes var → gjson path, keeping file order.
func (d *decoder) extractions(n *yaml.Node, field string, dst *[]Extraction) error {
	es, problem := d.entries(n, field)
	out := make([]Extraction, 0, len(es))
	for _, e := range es {
		path := joinPath(field, e.key)
		d.lines[path] = e.keyAt.Line
		if !isIdentifier(e.key) {
			problem = cmp.Or(problem, d.errorf(e.keyAt, path,
				"a variable name must be letters, digits and _ (templates read it as .vars.%s)", e.key))
			continue
		}
		x := Extraction{Var: e.key}
		if err := d.setString(e.value, path, &x.Path); err != nil {
			problem = cmp.Or(problem, err)
			continue
		}
		if x.Path == "" {
			problem = cmp.Or(problem, d.errorf(e.keyAt, path, "needs a JSON path, e.g. %s: data.id", e.key))
			continue
		}
		out = append(out, x)
	}
	*dst = out
	return problem
}
