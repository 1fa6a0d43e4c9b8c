package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"unicode/utf8"
)

// jsonPart is a piece of a JSON body: literal JSON, or a templated string
// value that is rendered and then encoded as a JSON string.
type jsonPart struct {
	lit []byte
	str text
}

// jsonBody is a JSON body compiled once: literal JSON between templated
// string values, so rendering is appending, and templated strings stay strings.
type jsonBody struct{ parts []jsonPart }

// compileJSON compiles a body given as a YAML value (maps, lists, strings,
// numbers, booleans, null).
func compileJSON(v any, sc scope) (jsonBody, error) {
	var b jsonBody
	var lit bytes.Buffer
	if err := b.add(&lit, v, sc, "json"); err != nil {
		return jsonBody{}, err
	}
	b.flush(&lit)
	return b, nil
}

func (b *jsonBody) flush(lit *bytes.Buffer) {
	if lit.Len() > 0 {
		b.parts = append(b.parts, jsonPart{lit: bytes.Clone(lit.Bytes())})
		lit.Reset()
	}
}

func (b *jsonBody) add(lit *bytes.Buffer, v any, sc scope, at string) error {
	switch v := v.(type) {
	case string:
		t, err := compileText(v, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		if t.static() {
			appendJSONString(lit, v)
			return nil
		}
		b.flush(lit)
		b.parts = append(b.parts, jsonPart{str: t})
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		lit.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				lit.WriteByte(',')
			}
			appendJSONString(lit, k)
			lit.WriteByte(':')
			if err := b.add(lit, v[k], sc, at+"."+k); err != nil {
				return err
			}
		}
		lit.WriteByte('}')
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = e
		}
		return b.add(lit, m, sc, at)
	case []any:
		lit.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				lit.WriteByte(',')
			}
			if err := b.add(lit, e, sc, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		lit.WriteByte(']')
	default:
		enc, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %v cannot be written as JSON: %w", at, v, err)
		}
		lit.Write(enc)
	}
	return nil
}

// static reports whether the body has no templates.
func (b jsonBody) static() bool {
	return len(b.parts) <= 1 && (len(b.parts) == 0 || b.parts[0].str.static())
}

// render appends the body to buf; scratch is a buffer for template output.
func (b jsonBody) render(buf, scratch *bytes.Buffer, data any) error {
	for _, p := range b.parts {
		if p.lit != nil {
			buf.Write(p.lit)
			continue
		}
		scratch.Reset()
		if err := p.str.render(scratch, data); err != nil {
			return err
		}
		appendJSONString(buf, scratch.String())
	}
	return nil
}

// appendJSONString writes s as a JSON string literal.
func appendJSONString(buf *bytes.Buffer, s string) {
	const hexd = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			buf.WriteByte(c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexd[c>>4])
				buf.WriteByte(hexd[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(`\ufffd`)
		} else {
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}

// pair is one templated key=value of a query string or form body.
type pair struct {
	key string
	val text
}

// compilePairs compiles a map of templated values in key order.
func compilePairs(m map[string]string, sc scope, field string) ([]pair, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]pair, 0, len(keys))
	for _, k := range keys {
		t, err := compileText(m[k], sc)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", field, k, err)
		}
		out = append(out, pair{key: k, val: t})
	}
	return out, nil
}

// renderPairs appends k=v&k=v (URL-encoded) to buf.
func renderPairs(buf, scratch *bytes.Buffer, ps []pair, data any) error {
	for i, p := range ps {
		if i > 0 {
			buf.WriteByte('&')
		}
		buf.WriteString(url.QueryEscape(p.key))
		buf.WriteByte('=')
		scratch.Reset()
		if err := p.val.render(scratch, data); err != nil {
			return err
		}
		buf.WriteString(url.QueryEscape(scratch.String()))
	}
	return nil
}

// staticPairs reports whether no value is templated.
func staticPairs(ps []pair) bool {
	for _, p := range ps {
		if !p.val.static() {
			return false
		}
	}
	return true
}
