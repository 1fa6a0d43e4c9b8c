package plan

import (
	"cmp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ComponentKind is what part of the system a component is. The names are
// fixed: they appear in plans, findings and reports.
type ComponentKind string

// The component kinds a plan may name.
const (
	KindService    ComponentKind = "service"
	KindDatabase   ComponentKind = "database"
	KindPooler     ComponentKind = "pooler"
	KindHost       ComponentKind = "host"
	KindCache      ComponentKind = "cache"
	KindDownstream ComponentKind = "downstream"
)

// ComponentKinds lists the kinds in the order plans document them.
var ComponentKinds = []ComponentKind{KindService, KindDatabase, KindPooler, KindHost, KindCache, KindDownstream}

// Component is one part of the system under test beside the service
// (observe.components): its name (shown in findings: "database postgres:
// …"), its kind and the Prometheus label matchers that select its series.
type Component struct {
	Name     string
	Kind     ComponentKind
	Selector string // e.g. {job="postgres"}
}

// Database lets correlation ask the database itself (observe.database):
// EXPLAIN of the slow statements and hypothetical indexes. The DSN is read
// from the environment variable DSNEnv when a study runs; it is never
// stored in the plan, a result or a report.
type Database struct {
	Driver string // "postgres"
	DSNEnv string // e.g. HEADROOM_DB_DSN
}

// components decodes observe.components.
func (d *decoder) components(n *yaml.Node, field string, dst *[]Component) error {
	items, err := d.list(n, field)
	if err != nil {
		return err
	}
	out := make([]Component, 0, len(items))
	var problem error
	seen := map[string]string{}
	for i, it := range items {
		path := indexPath(field, i)
		d.lines[path] = it.Line
		var c Component
		problem = cmp.Or(problem, d.object(it, path, fields{
			"name":     func(n *yaml.Node, f string) error { return d.setString(n, f, &c.Name) },
			"kind":     func(n *yaml.Node, f string) error { return d.setString(n, f, (*string)(&c.Kind)) },
			"selector": func(n *yaml.Node, f string) error { return d.setString(n, f, &c.Selector) },
		}))
		if at := joinPath(path, "name"); d.settled(at) {
			switch prev, dup := seen[c.Name]; {
			case strings.TrimSpace(c.Name) == "":
				problem = cmp.Or(problem, d.errorAt(d.lineOf(at), at, "required (the name findings use, e.g. postgres)"))
			case dup:
				problem = cmp.Or(problem, d.errorAt(d.lineOf(at), at, "%q is already the name of %s", c.Name, prev))
			default:
				seen[c.Name] = path
			}
		}
		if at := joinPath(path, "kind"); d.settled(at) && !validKind(c.Kind) {
			msg := "required"
			if c.Kind != "" {
				msg = "\"" + string(c.Kind) + "\" is not a kind"
			}
			problem = cmp.Or(problem, d.errorAt(d.lineOf(at), at, "%s: want one of %s", msg, kindList()))
		}
		if at := joinPath(path, "selector"); d.settled(at) {
			if msg := checkSelector(c.Selector); msg != "" {
				problem = cmp.Or(problem, d.errorAt(d.lineOf(at), at, "%s", msg))
			}
		}
		out = append(out, c)
	}
	*dst = out
	return problem
}

// database decodes observe.database.
func (d *decoder) database(n *yaml.Node, field string, dst **Database) error {
	db := &Database{}
	problem := d.object(n, field, fields{
		"driver":  func(n *yaml.Node, f string) error { return d.setString(n, f, &db.Driver) },
		"dsn_env": func(n *yaml.Node, f string) error { return d.setString(n, f, &db.DSNEnv) },
	})
	if at := joinPath(field, "driver"); d.settled(at) && db.Driver != "postgres" {
		msg := "required"
		if db.Driver != "" {
			msg = "\"" + db.Driver + "\" is not supported"
		}
		problem = cmp.Or(problem, d.errorAt(d.lineOf(at), at, "%s: the driver is postgres", msg))
	}
	if at := joinPath(field, "dsn_env"); d.settled(at) && !isIdentifier(db.DSNEnv) {
		msg := "required: the environment variable holding the DSN (never the DSN itself), e.g. HEADROOM_DB_DSN"
		if db.DSNEnv != "" {
			// Not quoted: it may be the DSN itself, password included.
			msg = "is not an environment variable name: name the variable that holds the DSN (the DSN is never written in the plan)"
		}
		problem = cmp.Or(problem, d.errorAt(d.lineOf(at), at, "%s", msg))
	}
	*dst = db
	return problem
}

func validKind(k ComponentKind) bool {
	for _, c := range ComponentKinds {
		if c == k {
			return true
		}
	}
	return false
}

func kindList() string {
	names := make([]string, len(ComponentKinds))
	for i, k := range ComponentKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// checkSelector accepts a brace-enclosed list of label matchers, e.g.
// {job="postgres"} or {job=~"node|host",instance="db1"}.
func checkSelector(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return `required: label matchers in braces, e.g. {job="postgres"}`
	case !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}"):
		return "\"" + shorten(s) + `" is not label matchers in braces, e.g. {job="postgres"}`
	case strings.TrimSpace(s[1:len(s)-1]) == "":
		return `selects everything: name at least one label, e.g. {job="postgres"}`
	case strings.Count(s, `"`)%2 != 0:
		return "\"" + shorten(s) + "\" has an unclosed quote"
	}
	return ""
}
