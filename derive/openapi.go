package derive

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpenAPIOptions shape the plan FromOpenAPI writes.
type OpenAPIOptions struct {
	Name    string // plan name; default the document's title
	BaseURL string // target.base_url; default the first absolute server URL
	Command string // how the plan was made, for its first comment
}

// LoadOpenAPI parses and validates an OpenAPI 3 document (YAML or JSON).
func LoadOpenAPI(ctx context.Context, data []byte) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.Context = ctx
	doc, err := l.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("not an OpenAPI 3 document: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	return doc, nil
}

// FromOpenAPI writes a skeleton plan: one journey per operation, its path
// and query parameters filled from their examples, bounds or formats, its
// JSON body built from the schema, its expected status the first 2xx, and
// the credentials its security scheme needs as environment variables.
// Weights are all 1: a document does not know the mix (logs do).
func FromOpenAPI(w io.Writer, doc *openapi3.T, opts OpenAPIOptions) error {
	if opts.Name == "" {
		opts.Name = "openapi"
		if doc.Info != nil && doc.Info.Title != "" {
			opts.Name = doc.Info.Title
		}
	}
	base := opts.BaseURL
	if base == "" {
		for _, s := range doc.Servers {
			if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
				base = strings.TrimSuffix(s.URL, "/")
				break
			}
		}
	}
	placeholder := ""
	if base == "" {
		base, placeholder = "http://127.0.0.1:8080", "   # PLACEHOLDER: the service under test"
	}
	prefix := ""
	if len(doc.Servers) > 0 { // a relative or absolute server URL's path prefixes every path
		if u, err := url.Parse(doc.Servers[0].URL); err == nil && opts.BaseURL != "" {
			prefix = strings.TrimSuffix(u.Path, "/")
		}
	}
	var env []string
	addEnv := func(n string) string {
		for _, e := range env {
			if e == n {
				return n
			}
		}
		env = append(env, n)
		return n
	}
	type op struct {
		method, path string
		o            *openapi3.Operation
		item         *openapi3.PathItem
	}
	var ops []op
	if doc.Paths != nil {
		for _, p := range doc.Paths.InMatchingOrder() {
			item := doc.Paths.Find(p)
			for m, o := range item.Operations() {
				ops = append(ops, op{strings.ToUpper(m), p, o, item})
			}
		}
	}
	if len(ops) == 0 {
		return fmt.Errorf("paths: the document has no operations")
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return methodRank(ops[i].method) < methodRank(ops[j].method)
	})
	var body strings.Builder
	names := map[string]bool{}
	kept := 0
	for _, x := range ops {
		if methodRank(x.method) > 4 { // HEAD, OPTIONS, TRACE, QUERY: not journeys
			continue
		}
		kept++
		name := x.o.OperationID
		if name == "" {
			name = x.method + " " + x.path
		}
		for n := 2; names[name]; n++ {
			name = fmt.Sprintf("%s-%d", x.o.OperationID, n)
		}
		names[name] = true
		params := append(openapi3.Parameters{}, x.item.Parameters...)
		params = append(params, x.o.Parameters...)
		path := prefix + x.path
		var query []string
		headers := map[string]string{}
		for _, pr := range params {
			if pr.Value == nil {
				continue
			}
			p := pr.Value
			v := paramValue(p)
			switch p.In {
			case openapi3.ParameterInPath:
				path = strings.ReplaceAll(path, "{"+p.Name+"}", v)
			case openapi3.ParameterInQuery:
				if p.Required {
					query = append(query, url.QueryEscape(p.Name)+"="+v)
				}
			case openapi3.ParameterInHeader:
				if p.Required {
					headers[p.Name] = v
				}
			}
		}
		if len(query) > 0 {
			path += "?" + strings.Join(query, "&")
		}
		sec := doc.Security
		if x.o.Security != nil {
			sec = *x.o.Security
		}
		for _, req := range sec {
			for schemeName := range req {
				ref := doc.Components.SecuritySchemes[schemeName]
				if ref == nil || ref.Value == nil {
					continue
				}
				s := ref.Value
				envName := "API_" + strings.ToUpper(strings.Map(envRune, schemeName))
				switch {
				case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
					headers["Authorization"] = "Bearer {{ .env." + addEnv(envName) + " }}"
				case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
					headers["Authorization"] = "Basic {{ .env." + addEnv(envName) + " }}"
				case s.Type == "apiKey" && s.In == "header":
					headers[s.Name] = "{{ .env." + addEnv(envName) + " }}"
				}
			}
			break // the first alternative is enough
		}
		fmt.Fprintf(&body, "  - name: %s\n", yq(name))
		if x.o.Summary != "" {
			fmt.Fprintf(&body, "    # %s\n", oneLine(x.o.Summary))
		}
		fmt.Fprintf(&body, "    weight: 1   # PLACEHOLDER: the document does not know the mix; take it from logs\n")
		fmt.Fprintf(&body, "    steps:\n      - name: %s\n        %s: %s\n", yq(x.method+" "+x.path), strings.ToLower(x.method), yq(path))
		if len(headers) > 0 {
			keys := make([]string, 0, len(headers))
			for k := range headers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, yq(k)+": "+yq(headers[k]))
			}
			fmt.Fprintf(&body, "        headers: { %s }\n", strings.Join(parts, ", "))
		}
		if rb := x.o.RequestBody; rb != nil && rb.Value != nil {
			if mt := rb.Value.Content.Get("application/json"); mt != nil {
				var v any
				switch {
				case mt.Example != nil:
					v = mt.Example
				case mt.Schema != nil:
					v = sample(mt.Schema, 0)
				}
				if v != nil {
					b, err := json.Marshal(v)
					if err != nil {
						return fmt.Errorf("%s %s: request body example: %w", x.method, x.path, err)
					}
					fmt.Fprintf(&body, "        json: %s   # from the schema's examples and types: check the values\n", b)
				}
			}
		}
		if st := firstSuccess(x.o.Responses); st > 0 {
			fmt.Fprintf(&body, "        expect: { status: %d }\n", st)
		}
	}
	b := bufio.NewWriter(w)
	if opts.Command != "" {
		fmt.Fprintf(b, "# Derived by `%s`\n", opts.Command)
	}
	title, version := "", ""
	if doc.Info != nil {
		title, version = doc.Info.Title, doc.Info.Version
	}
	fmt.Fprintf(b, "# A skeleton from the OpenAPI document %q %s: one journey per operation (%d).\n", title, version, kept)
	fmt.Fprintf(b, "# Fill in the mix (weights), the load and values the document could not give.\n")
	fmt.Fprintf(b, "version: 1\nname: %s\ndescription: %s\n\n", yq(opts.Name), yq("One journey per operation of "+title+"."))
	fmt.Fprintf(b, "target:\n  base_url: %s%s\n  timeout: 10s\n", yq(base), placeholder)
	if len(env) > 0 {
		fmt.Fprintf(b, "  env: [%s]   # the credentials the security schemes need\n", strings.Join(env, ", "))
	}
	fmt.Fprintf(b, "\n# PLACEHOLDER: the load.\nload:\n  model: open\n  max_vus: 50\n  stages:\n    - { duration: 30s, target: 1 }\n\njourneys:\n")
	b.WriteString(body.String())
	return b.Flush()
}

func envRune(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
		return r
	}
	return '_'
}

func methodRank(m string) int {
	for i, x := range methods {
		if x == m {
			return i
		}
	}
	return len(methods)
}

func oneLine(s string) string { return shorten(strings.Join(strings.Fields(s), " ")) }

func firstSuccess(rs *openapi3.Responses) int {
	if rs == nil {
		return 0
	}
	best := 0
	for k := range rs.Map() {
		if n, err := strconv.Atoi(k); err == nil && n >= 200 && n < 300 && (best == 0 || n < best) {
			best = n
		}
	}
	return best
}

// paramValue is a template for one parameter's value.
func paramValue(p *openapi3.Parameter) string {
	if p.Example != nil {
		return url.PathEscape(fmt.Sprint(p.Example))
	}
	for _, ex := range p.Examples {
		if ex != nil && ex.Value != nil && ex.Value.Value != nil {
			return url.PathEscape(fmt.Sprint(ex.Value.Value))
		}
	}
	if p.Schema == nil || p.Schema.Value == nil {
		return "PLACEHOLDER"
	}
	s := p.Schema.Value
	switch {
	case s.Example != nil:
		return url.PathEscape(fmt.Sprint(s.Example))
	case len(s.Enum) > 0:
		return url.PathEscape(fmt.Sprint(s.Enum[0]))
	case s.Type.Is("integer") || s.Type.Is("number"):
		lo, hi := 1.0, 1000.0
		if s.Min != nil {
			lo = *s.Min
		}
		if s.Max != nil {
			hi = *s.Max
		}
		if hi < lo {
			hi = lo
		}
		return fmt.Sprintf("{{ randInt %d %d }}", int64(lo), int64(hi))
	case s.Format == "uuid":
		return "{{ uuid }}"
	case s.Default != nil:
		return url.PathEscape(fmt.Sprint(s.Default))
	}
	return "PLACEHOLDER"
}

// sample builds a JSON value from a schema: examples first, then types.
func sample(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil || depth > 6 {
		return nil
	}
	s := ref.Value
	if s.Example != nil {
		return s.Example
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Default != nil {
		return s.Default
	}
	switch {
	case len(s.AllOf) > 0:
		out := map[string]any{}
		for _, a := range s.AllOf {
			if m, ok := sample(a, depth+1).(map[string]any); ok {
				for k, v := range m {
					out[k] = v
				}
			}
		}
		return out
	case len(s.OneOf) > 0:
		return sample(s.OneOf[0], depth+1)
	case len(s.AnyOf) > 0:
		return sample(s.AnyOf[0], depth+1)
	case s.Type.Is("object") || len(s.Properties) > 0:
		out := map[string]any{}
		for k, p := range s.Properties {
			out[k] = sample(p, depth+1)
		}
		return out
	case s.Type.Is("array"):
		return []any{sample(s.Items, depth+1)}
	case s.Type.Is("integer"):
		if s.Min != nil {
			return int64(*s.Min)
		}
		return 1
	case s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min
		}
		return 1.0
	case s.Type.Is("boolean"):
		return true
	case s.Format == "uuid":
		return "{{ uuid }}"
	case s.Format == "email":
		return "user@example.com"
	case s.Format == "date-time":
		return "2026-01-01T00:00:00Z"
	case s.Type.Is("string"):
		return "PLACEHOLDER"
	}
	return nil
}
