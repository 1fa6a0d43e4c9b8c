package plan

import (
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
	for i, it := range items {
		path := indexPath(field, i)
		d.lines[path] = it.Line
		j := Journey{Weight: 1}
		err := d.object(it, path, fields{
			"name":   func(n *yaml.Node, f string) error { return d.setString(n, f, &j.Name) },
			"weight": func(n *yaml.Node, f string) error { return d.setInt(n, f, &j.Weight, atLeastOne) },
			"steps":  func(n *yaml.Node, f string) error { return d.steps(n, f, &j.Steps) },
		})
		if err != nil {
			return err
		}
		if j.Name == "" {
			j.Name = fmt.Sprintf("journey %d", i+1)
		}
		if first, dup := names[j.Name]; dup {
			return d.errorAt(d.lineOf(joinPath(path, "name")), joinPath(path, "name"),
				"journey name %q is already used by journeys[%d]", j.Name, first)
		}
		names[j.Name] = i
		journeys = append(journeys, j)
	}
	*dst = journeys
	return nil
}

func (d *decoder) steps(n *yaml.Node, field string, dst *[]Step) error {
	items, err := d.list(n, field)
	if err != nil {
		return err
	}
	steps := make([]Step, 0, len(items))
	for i, it := range items {
		s, err := d.step(it, indexPath(field, i))
		if err != nil {
			return err
		}
		steps = append(steps, s)
	}
	*dst = steps
	return nil
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
	for i, it := range items {
		path := field
		if r.Kind == yaml.SequenceNode {
			path = indexPath(field, i)
		}
		code := 0
		if err := d.setInt(it, path, &code, inRange); err != nil {
			return err
		}
		if code != 0 {
			out = append(out, code)
		}
	}
	*dst = out
	return nil
}

// expectJSON decodes path → expected value (as text) or "exists".
func (d *decoder) expectJSON(n *yaml.Node, field string, dst *map[string]string) error {
	es, err := d.entries(n, field)
	if err != nil {
		return err
	}
	out := make(map[string]string, len(es))
	for _, e := range es {
		path := joinPath(field, e.key)
		d.lines[path] = e.keyAt.Line
		v, err := d.resolve(e.value, path)
		if err != nil {
			return err
		}
		switch {
		case isNull(v):
			out[e.key] = "null"
		case v.Kind == yaml.ScalarNode:
			out[e.key] = v.Value
		default:
			return d.errorf(v, path, "expected a value or \"exists\", got %s", describe(v))
		}
	}
	*dst = out
	return nil
}

// extractions decodes var → gjson path, keeping file order.
func (d *decoder) extractions(n *yaml.Node, field string, dst *[]Extraction) error {
	es, err := d.entries(n, field)
	if err != nil {
		return err
	}
	out := make([]Extraction, 0, len(es))
	for _, e := range es {
		path := joinPath(field, e.key)
		d.lines[path] = e.keyAt.Line
		if !isIdentifier(e.key) {
			return d.errorf(e.keyAt, path, "a variable name must be letters, digits and _ (templates read it as .vars.%s)", e.key)
		}
		x := Extraction{Var: e.key}
		if err := d.setString(e.value, path, &x.Path); err != nil {
			return err
		}
		if x.Path == "" {
			return d.errorf(e.keyAt, path, "needs a JSON path, e.g. %s: data.id", e.key)
		}
		out = append(out, x)
	}
	*dst = out
	return nil
}
