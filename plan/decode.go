package plan

import (
	"cmp"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile plan from costing more than a small one.
const (
	maxPlanBytes = 4 << 20 // a plan larger than this is refused outright
	maxNodes     = 100_000 // values visited, aliases counted each time they are used
	maxDepth     = 64      // nesting of JSON bodies and merge keys
	maxProblems  = 100     // problems recorded before the reading stops
	maxQuoted    = 200     // bytes of a value quoted in a message
)

// decoder walks a yaml.Node tree into plan types. It records every
// problem as an *Error with file, line and field path, and goes on with the
// next field or item, so that one reading of a plan finds all its mistakes.
type decoder struct {
	file  string
	lines map[string]int // field path → line of its value, for later checks
	nodes int            // values visited so far, bounded by maxNodes

	problems
	// stop is the problem that ended the reading: the node budget blown,
	// or maxProblems found. From then on every value is refused and no
	// new problem is recorded.
	stop error

	// requestKey maps a step's path ("journeys[0].steps[1]") to the field
	// that holds its URL ("journeys[0].steps[1].get").
	requestKey map[string]string

	// expanding holds the anchors whose aliases are being expanded, to
	// catch an alias used inside its own anchor.
	expanding map[*yaml.Node]bool
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:       file,
		lines:      map[string]int{},
		problems:   newProblems(),
		requestKey: map[string]string{},
		expanding:  map[*yaml.Node]bool{},
	}
}

// errorf records and returns an *Error placed at n's line.
func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return d.errorAt(line, field, format, args...)
}

// errorAt records and returns an *Error placed at line. Text arguments
// are cut to maxQuoted bytes, so that a huge value used through many
// aliases cannot make the errors huge.
func (d *decoder) errorAt(line int, field, format string, args ...any) error {
	if d.stop != nil {
		return d.stop
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = shorten(s)
		}
	}
	e := &Error{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	d.add(e)
	if len(d.found) >= maxProblems {
		d.stop = &Error{File: d.file, Line: line, Msg: fmt.Sprintf("stopped reading after %d problems", maxProblems)}
		d.add(d.stop.(*Error))
	}
	return e
}

// shorten cuts s to about maxQuoted bytes, on a character boundary,
// marking the cut with "…".
func shorten(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// lineOf returns the line recorded for field, or for its nearest recorded
// parent, or 0.
func (d *decoder) lineOf(field string) int {
	for field != "" {
		if line, ok := d.lines[field]; ok {
			return line
		}
		field = parentPath(field)
	}
	return d.lines[""]
}

// resolve follows aliases and counts the value against the node budget, so
// that an alias bomb ends with an error instead of eating the machine.
func (d *decoder) resolve(n *yaml.Node, field string) (*yaml.Node, error) {
	if d.stop != nil {
		return nil, d.stop
	}
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > maxDepth {
			return nil, d.errorf(n, field, "alias *%s cannot be resolved", n.Value)
		}
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		err := d.errorf(n, field, "plan is too large after expanding aliases (more than %d values)", maxNodes)
		d.stop = cmp.Or(d.stop, err)
		return nil, err
	}
	return n, nil
}

// entry is one key of a YAML map.
type entry struct {
	key   string
	keyAt *yaml.Node
	value *yaml.Node
}

// entries returns the keys of the map n in file order. Merge keys (<<) are
// expanded; keys written in the map win over merged ones. A null value is
// an empty map. Duplicate keys are errors. When some keys cannot be read,
// it returns the others with the first problem.
func (d *decoder) entries(n *yaml.Node, field string) ([]entry, error) {
	return d.entriesAt(n, field, 0)
}

func (d *decoder) entriesAt(n *yaml.Node, field string, depth int) ([]entry, error) {
	if depth > maxDepth {
		return nil, d.errorf(n, field, "merge keys nested too deeply")
	}
	n, err := d.resolve(n, field)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errorf(n, field, "expected a map, got %s", describe(n))
	}
	var own, merged []entry
	var problem error
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := d.resolve(n.Content[i], field)
		if err != nil {
			problem = cmp.Or(problem, err)
			continue
		}
		v := n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			problem = cmp.Or(problem, d.errorf(k, field, "a key must be plain text, got %s", describe(k)))
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			m, err := d.merge(v, field, depth)
			problem = cmp.Or(problem, err)
			merged = append(merged, m...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			problem = cmp.Or(problem, d.errorf(k, joinPath(field, k.Value), "duplicate key (first at line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, entry{key: k.Value, keyAt: k, value: v})
	}
	for _, e := range merged {
		if _, ok := seen[e.key]; !ok {
			seen[e.key] = e.keyAt.Line
			own = append(own, e)
		}
	}
	return own, problem
}

// merge expands the value of a merge key: a map or a list of maps, earlier
// maps winning over later ones. It returns what it could read and the
// first problem.
func (d *decoder) merge(v *yaml.Node, field string, depth int) ([]entry, error) {
	if v.Kind == yaml.AliasNode {
		if d.expanding[v.Alias] {
			return nil, d.errorf(v, joinPath(field, "<<"), "alias *%s is merged into its own anchor", v.Value)
		}
		d.expanding[v.Alias] = true
		defer delete(d.expanding, v.Alias)
	}
	v, err := d.resolve(v, field)
	if err != nil {
		return nil, err
	}
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	} else if v.Kind != yaml.MappingNode {
		return nil, d.errorf(v, joinPath(field, "<<"), "can only merge a map or a list of maps, got %s", describe(v))
	}
	var out []entry
	var problem error
	seen := map[string]bool{}
	for _, s := range sources {
		es, err := d.entriesAt(s, field, depth+1)
		problem = cmp.Or(problem, err)
		for _, e := range es {
			if !seen[e.key] {
				seen[e.key] = true
				out = append(out, e)
			}
		}
	}
	return out, problem
}

// fields maps the known keys of one YAML map to the functions that decode
// their values; each function gets the value node and its field path.
type fields map[string]func(n *yaml.Node, field string) error

// object decodes the map n with fs; an unknown key is an error that
// suggests the nearest known one. A key that fails does not stop the
// others; object returns the first problem.
func (d *decoder) object(n *yaml.Node, field string, fs fields) error {
	es, problem := d.entries(n, field)
	for _, e := range es {
		path := joinPath(field, e.key)
		decode, ok := fs[e.key]
		if !ok && field == "" && strings.HasPrefix(e.key, "x-") {
			continue // extension key: a place for anchored snippets
		}
		if !ok {
			problem = cmp.Or(problem, d.unknownField(e.keyAt, field, e.key, fs))
			continue
		}
		d.lines[path] = e.keyAt.Line
		problem = cmp.Or(problem, decode(e.value, path))
	}
	return problem
}

// unknownField reports key as unknown in the map at field, with the known
// key it most likely means; that key is then marked as meant, so a check
// that it is missing stays quiet.
func (d *decoder) unknownField(at *yaml.Node, field, key string, fs fields) error {
	if d.stop != nil {
		return d.stop
	}
	known := make([]string, 0, len(fs))
	for k := range fs {
		known = append(known, k)
	}
	sort.Strings(known)
	path := joinPath(field, key)
	if s := suggest(key, known); s != "" {
		d.meant[joinPath(field, s)] = true
		return d.errorf(at, path, "unknown field (did you mean %q?)", s)
	}
	return d.errorf(at, path, "unknown field")
}

// list returns the items of the sequence n; null is an empty list.
func (d *decoder) list(n *yaml.Node, field string) ([]*yaml.Node, error) {
	n, err := d.resolve(n, field)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errorf(n, field, "expected a list, got %s", describe(n))
	}
	return n.Content, nil
}

// isNull reports whether n is a YAML null (~, null, or nothing at all).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the kind of n for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	default:
		return "nothing"
	}
}

// joinPath appends key to the dotted field path.
func joinPath(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// indexPath appends [i] to the field path.
func indexPath(field string, i int) string {
	return fmt.Sprintf("%s[%d]", field, i)
}

// parentPath drops the last key or index of a field path.
func parentPath(field string) string {
	for i := len(field) - 1; i >= 0; i-- {
		switch field[i] {
		case '.':
			return field[:i]
		case '[':
			if i > 0 {
				return field[:i]
			}
		}
	}
	return ""
}
