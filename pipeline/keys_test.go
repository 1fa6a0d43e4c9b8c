package pipeline

import (
	"encoding/json"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
)

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// key is one JSON key of a document type and the Go type of its value.
type key struct {
	name string
	typ  reflect.Type
}

// latencyTypes are the Go types that hold latency statistics; in JSON
// each is latency_ms: {p50, p90, p95, p99, max, mean}.
var latencyTypes = []reflect.Type{reflect.TypeOf(generator.Latency{}), reflect.TypeOf(capacity.Latency{})}

func isLatency(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return slices.Contains(latencyTypes, t)
}

// documentKeys lists every key a value of t can have, by path.
func documentKeys(t reflect.Type) map[string]key {
	keys := map[string]key{}
	jsonKeys(t, t.Name(), map[reflect.Type]bool{}, keys)
	return keys
}

// jsonKeys lists every JSON key a value of type t can have, with its
// path, following struct fields, pointers, slices and maps.
func jsonKeys(t reflect.Type, path string, seen map[reflect.Type]bool, out map[string]key) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Map {
			path += ".*"
		} else if t.Kind() != reflect.Pointer {
			path += "[]"
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
		return
	}
	if seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			jsonKeys(f.Type, path, seen, out)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := out[path+"."+name]; dup { // encoding/json would drop or shadow one of them
			out["!"+path+"."+name] = key{name: "!duplicate " + name, typ: f.Type}
		}
		out[path+"."+name] = key{name: name, typ: f.Type}
		jsonKeys(f.Type, path+"."+name, seen, out)
	}
}

// TestEveryKeyOfBothDocumentTypesIsSnakeCase walks the Go types of
// run.json and study.json, so keys that a given document leaves out
// (omitempty, nil) are checked too.
func TestEveryKeyOfBothDocumentTypesIsSnakeCase(t *testing.T) {
	for _, v := range []any{RunResult{}, StudyResult{}} {
		keys := documentKeys(reflect.TypeOf(v))
		if len(keys) < 100 {
			t.Fatalf("%T: only %d keys found; the walk is broken", v, len(keys))
		}
		for path, k := range keys {
			if !snake.MatchString(k.name) {
				t.Errorf("%s: key %q is not snake_case", path, k.name)
			}
			switch {
			case isLatency(k.typ) && k.name != "latency_ms":
				t.Errorf("%s: latency statistics under %q, want latency_ms", path, k.name)
			case !isLatency(k.typ) && k.name == "latency_ms":
				t.Errorf("%s: latency_ms holds a %v, want the {p50,…} layout", path, k.typ)
			}
		}
	}
}

// TestOneLatencyLayout: both latency types encode as the same six keys.
func TestOneLatencyLayout(t *testing.T) {
	want := []string{"max", "mean", "p50", "p90", "p95", "p99"}
	for _, v := range []any{generator.Latency{}, capacity.Latency{}} {
		b, _ := json.Marshal(v)
		var m map[string]float64
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
			t.Errorf("%T encodes as %v, want %v", v, got, want)
		}
	}
}

// walkDocument checks every key of a decoded JSON document: snake_case,
// and latency statistics only as latency_ms: {p50,p90,p95,p99,max,mean}.
// It returns how many keys it saw.
func walkDocument(errorf func(format string, args ...any), path string, v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		if isLatencyObject(v) && !strings.HasSuffix(path, ".latency_ms") {
			errorf("%s: latency statistics outside latency_ms", path)
		}
		for k, child := range v {
			n++
			p := path + "." + k
			if !snake.MatchString(k) {
				errorf("%s: key %q is not snake_case", p, k)
			}
			if k == "latency_ms" && !hasLatencyLayout(child) {
				errorf("%s: %v is not {p50,p90,p95,p99,max,mean}", p, child)
			}
			n += walkDocument(errorf, p, child)
		}
	case []any:
		for _, child := range v {
			n += walkDocument(errorf, path+"[]", child)
		}
	}
	return n
}

var percentileKey = regexp.MustCompile(`^p[0-9]+(_ms)?$`)

// isLatencyObject reports whether an object holds percentiles (p50,
// p99_ms, …), which makes it latency statistics.
func isLatencyObject(m map[string]any) bool {
	for k := range m {
		if percentileKey.MatchString(k) {
			return true
		}
	}
	return false
}

func hasLatencyLayout(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 6 {
		return false
	}
	for _, k := range []string{"p50", "p90", "p95", "p99", "max", "mean"} {
		if _, ok := m[k].(float64); !ok {
			return false
		}
	}
	return true
}

// checkDocument marshals doc and walks every key of its JSON.
func checkDocument(t *testing.T, doc any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if n := walkDocument(t.Errorf, "", v); n < 50 {
		t.Errorf("only %d keys in the document; want a full one", n)
	}
	return b
}

func TestWalkDocumentCatchesBadKeys(t *testing.T) {
	bad := []string{
		`{"Found": true}`,
		`{"steps": [{"latency": {"p50_ms": 1, "p99_ms": 2}}]}`,
		`{"latency_ms": 3}`,
		`{"latency_ms": {"p50": 1}}`,
	}
	for _, doc := range bad {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		failed := false
		walkDocument(func(string, ...any) { failed = true }, "", v)
		if !failed {
			t.Errorf("%s passed the walk", doc)
		}
	}
}
