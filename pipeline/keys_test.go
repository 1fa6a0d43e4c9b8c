package pipeline

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"regexp"
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
