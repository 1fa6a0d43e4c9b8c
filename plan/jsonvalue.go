package plan

import (
	"cmp"
	"math"

	"go.yaml.in/yaml/v3"
)

// jsonValue turns a YAML value into the Go value encoding/json would
// produce it from: map[string]any, []any, string, int64, float64, bool or
// nil. Strings keep their templates for the generator to compile.
func (d *decoder) jsonValue(n *yaml.Node, field string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errorf(n, field, "nested more than %d levels deep", maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		if d.expanding[n.Alias] {
			return nil, d.errorf(n, field, "alias *%s is used inside its own anchor", n.Value)
		}
		d.expanding[n.Alias] = true
		defer delete(d.expanding, n.Alias)
	}
	n, err := d.resolve(n, field)
	if err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.MappingNode:
		es, problem := d.entriesAt(n, field, depth)
		m := make(map[string]any, len(es))
		for _, e := range es {
			v, err := d.jsonValue(e.value, joinPath(field, e.key), depth+1)
			problem = cmp.Or(problem, err)
			m[e.key] = v
		}
		return m, problem
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		var problem error
		for i, it := range n.Content {
			v, err := d.jsonValue(it, indexPath(field, i), depth+1)
			problem = cmp.Or(problem, err)
			list = append(list, v)
		}
		return list, problem
	case yaml.ScalarNode:
		return d.jsonScalar(n, field)
	}
	return nil, d.errorf(n, field, "expected a JSON value, got %s", describe(n))
}

// jsonScalar converts a scalar by its YAML type; anything that is not a
// null, bool, int or float is kept as text.
func (d *decoder) jsonScalar(n *yaml.Node, field string) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, nil
		}
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, nil
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f, nil
		}
	case "!!float":
		var f float64
		if err := n.Decode(&f); err == nil {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, d.errorf(n, field, "%s cannot be sent as JSON (quote it to send text)", n.Value)
			}
			return f, nil
		}
	}
	if err := d.template(n, field, n.Value); err != nil {
		return nil, err
	}
	return n.Value, nil
}
