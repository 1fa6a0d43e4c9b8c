package generator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJSONBodyKeepsTemplatedStringsAsStrings(t *testing.T) {
	body, err := compileJSON(map[string]any{
		"product_id": "{{ randInt 7 7 }}",
		"quantity":   1,
		"note":       `say "hi"`,
		"address":    map[string]any{"zip": "12345", "lines": []any{"{{ .vars.street }}", nil, true}},
	}, scope{vars: map[string]bool{"street": true}})
	if err != nil {
		t.Fatal(err)
	}
	if body.static() {
		t.Error("a body with templates reports static")
	}
	var buf, scratch bytes.Buffer
	data := map[string]any{"vars": map[string]string{"street": "1 \"Main\" St\n"}}
	if err := body.render(&buf, &scratch, data); err != nil {
		t.Fatal(err)
	}
	want := `{"address":{"lines":["1 \"Main\" St\n",null,true],"zip":"12345"},"note":"say \"hi\"","product_id":"7","quantity":1}`
	if buf.String() != want {
		t.Errorf("body\n got %s\nwant %s", buf.String(), want)
	}
	if !json.Valid(buf.Bytes()) {
		t.Error("the body is not valid JSON")
	}
}

func TestStaticBodiesAreBuiltOnce(t *testing.T) {
	body, err := compileJSON(map[string]any{"code": "SAVE10"}, scope{})
	if err != nil || !body.static() {
		t.Fatalf("static = %v, err = %v; want a static body", body.static(), err)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnew\nline", "\x00\x1f", "é✓", "\xff\xfe bad utf8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		appendJSONString(&buf, s)
		var back string
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, buf.String(), err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = strings.ToValidUTF8(s, "\uFFFD")
			// Each invalid byte becomes one replacement character.
			if utf8.RuneCountInString(back) < utf8.RuneCountInString(want) {
				t.Fatalf("%q decoded to %q", s, back)
			}
			return
		}
		if back != want {
			t.Fatalf("%q decoded to %q", s, back)
		}
	})
}
