package correlate

import (
	"fmt"
	"strings"
)

// Matcher is one label matcher of a PromQL selector, such as job="shop".
type Matcher struct {
	Label string // label name
	Op    string // =, !=, =~ or !~
	Value string // the quoted value as written, quotes included
}

func (m Matcher) String() string { return m.Label + m.Op + m.Value }

// ParseSelector reads a plan's observe.selector, such as {job="shop",env=~"prod.*"}
// (the braces are optional), into its matchers. An empty selector has none.
func ParseSelector(sel string) ([]Matcher, error) {
	s := strings.TrimSpace(sel)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "{") {
		if !strings.HasSuffix(s, "}") {
			return nil, fmt.Errorf("observe.selector %q: missing closing brace", sel)
		}
		s = s[1 : len(s)-1]
	}
	ms, err := parseMatchers(s)
	if err != nil {
		return nil, fmt.Errorf("observe.selector %q: %w", sel, err)
	}
	return ms, nil
}

// InjectSelector adds the matchers to every vector selector of a PromQL
// expression: rate(x[1m]) becomes rate(x{job="shop"}[1m]). A selector that
// already constrains a label keeps its own matcher for that label, so
// injecting twice changes nothing. Label lists of by, without, on,
// ignoring and group_left/right, strings, ranges and numbers are left alone.
func InjectSelector(expr string, ms []Matcher) (string, error) {
	if len(ms) == 0 {
		return expr, nil
	}
	in := injector{src: expr, ms: ms}
	if err := in.run(); err != nil {
		return "", fmt.Errorf("promql %q: %w", expr, err)
	}
	return in.out.String(), nil
}

// keywords are identifiers that are not metric names wherever they appear.
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "inf": true, "nan": true,
	"start": true, "end": true,
	// aggregation operators, which may come before their by/without clause
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true,
	"stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true,
	"quantile": true, "limitk": true, "limit_ratio": true,
}

// labelListKeywords are followed by a parenthesised list of label names.
var labelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true,
}

type injector struct {
	src string
	i   int
	ms  []Matcher
	out strings.Builder
}

func (in *injector) run() error {
	in.out.Grow(len(in.src) + 32)
	for in.i < len(in.src) {
		c := in.src[in.i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(in.src, in.i)
			if err != nil {
				return err
			}
			in.copyTo(end)
		case c == '#':
			end := strings.IndexByte(in.src[in.i:], '\n')
			if end < 0 {
				end = len(in.src) - in.i
			}
			in.copyTo(in.i + end)
		case c == '[':
			end := strings.IndexByte(in.src[in.i:], ']')
			if end < 0 {
				return fmt.Errorf("unclosed [ at offset %d", in.i)
			}
			in.copyTo(in.i + end + 1)
		case c == '{':
			if err := in.block(); err != nil {
				return err
			}
		case isDigit(c) || (c == '.' && in.i+1 < len(in.src) && isDigit(in.src[in.i+1])):
			in.copyTo(numberEnd(in.src, in.i))
		case isIdentStart(c):
			if err := in.ident(); err != nil {
				return err
			}
		default:
			in.out.WriteByte(c)
			in.i++
		}
	}
	return nil
}

func (in *injector) copyTo(end int) {
	in.out.WriteString(in.src[in.i:end])
	in.i = end
}

// ident handles a metric name, function, aggregation or keyword.
func (in *injector) ident() error {
	start := in.i
	for in.i < len(in.src) && isIdentChar(in.src[in.i]) {
		in.i++
	}
	name := in.src[start:in.i]
	in.out.WriteString(name)
	next := skipSpace(in.src, in.i)
	lower := strings.ToLower(name)
	switch {
	case labelListKeywords[lower]:
		if next < len(in.src) && in.src[next] == '(' {
			end := strings.IndexByte(in.src[next:], ')')
			if end < 0 {
				return fmt.Errorf("unclosed label list after %s", name)
			}
			in.copyTo(next + end + 1)
		}
		return nil
	case keywords[lower]:
		return nil
	case next < len(in.src) && in.src[next] == '(':
		return nil // a function or an aggregation
	}
	if next < len(in.src) && in.src[next] == '{' {
		in.copyTo(next)
		return in.block()
	}
	in.out.WriteByte('{')
	in.writeMatchers(nil)
	in.out.WriteByte('}')
	return nil
}

// block rewrites a {…} matcher list at in.i, adding the missing matchers.
func (in *injector) block() error {
	end, err := blockEnd(in.src, in.i)
	if err != nil {
		return err
	}
	inner := in.src[in.i+1 : end]
	have, err := parseMatchers(inner)
	if err != nil {
		return fmt.Errorf("matchers at offset %d: %w", in.i, err)
	}
	in.out.WriteByte('{')
	body := strings.TrimRight(strings.TrimSpace(inner), ",")
	in.out.WriteString(body)
	in.writeMatchers(have)
	in.out.WriteByte('}')
	in.i = end + 1
	return nil
}

// writeMatchers appends the injected matchers whose label is not in have.
func (in *injector) writeMatchers(have []Matcher) {
	wrote := len(have) > 0
	for _, m := range in.ms {
		if hasLabel(have, m.Label) {
			continue
		}
		if wrote {
			in.out.WriteByte(',')
		}
		in.out.WriteString(m.String())
		wrote = true
	}
}

func hasLabel(ms []Matcher, label string) bool {
	for _, m := range ms {
		if m.Label == label {
			return true
		}
	}
	return false
}

// parseMatchers reads `a="x", b=~"y"` (no braces). A bare quoted string is
// the metric name form {"name"} and is kept as a __name__ matcher.
func parseMatchers(s string) ([]Matcher, error) {
	var ms []Matcher
	i := 0
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return ms, nil
		}
		var m Matcher
		if s[i] == '"' || s[i] == '\'' || s[i] == '`' {
			end, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			m = Matcher{Label: "__name__", Op: "=", Value: s[i:end]}
			i = end
		} else {
			start := i
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			if start == i || !isIdentStart(s[start]) {
				return nil, fmt.Errorf("expected a label name at %q", s[start:])
			}
			m.Label = s[start:i]
			i = skipSpace(s, i)
			m.Op = matcherOp(s[i:])
			if m.Op == "" {
				return nil, fmt.Errorf("label %s: expected =, !=, =~ or !~", m.Label)
			}
			i = skipSpace(s, i+len(m.Op))
			if i >= len(s) || (s[i] != '"' && s[i] != '\'' && s[i] != '`') {
				return nil, fmt.Errorf("label %s: expected a quoted value", m.Label)
			}
			end, err := skipString(s, i)
			if err != nil {
				return nil, err
			}
			m.Value = s[i:end]
			i = end
		}
		ms = append(ms, m)
		i = skipSpace(s, i)
		if i < len(s) {
			if s[i] != ',' {
				return nil, fmt.Errorf("expected , between matchers at %q", s[i:])
			}
			i++
		}
	}
}

func matcherOp(s string) string {
	for _, op := range []string{"=~", "!~", "!=", "="} {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// skipString returns the offset just past the string literal starting at i.
func skipString(s string, i int) (int, error) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("unterminated string at offset %d", i)
}

// blockEnd returns the offset of the } closing the { at i.
func blockEnd(s string, i int) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '"', '\'', '`':
			end, err := skipString(s, j)
			if err != nil {
				return 0, err
			}
			j = end - 1
		case '}':
			return j, nil
		case '{':
			return 0, fmt.Errorf("nested { at offset %d", j)
		}
	}
	return 0, fmt.Errorf("unclosed { at offset %d", i)
}

// numberEnd returns the end of a number or duration literal (1e-3, 0x1f, 5m30s).
func numberEnd(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		if isIdentChar(c) || c == '.' {
			j++
			continue
		}
		if (c == '+' || c == '-') && j > i && (s[j-1] == 'e' || s[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(s[i:]), "0x") {
			j++
			continue
		}
		break
	}
	return j
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
