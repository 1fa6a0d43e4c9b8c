package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadFileErrors proves that file problems are *Error values naming
// the file.
func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.yaml")
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte(minimal+"# "+strings.Repeat("x", maxPlanBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{missing, missing + ": open " + missing + ": no such file or directory"},
		{huge, huge + ": plan is larger than 4 MiB"},
	}
	for _, c := range cases {
		_, err := LoadFile(c.path)
		var pe *Error
		if !errors.As(err, &pe) || pe.File != c.path {
			t.Fatalf("LoadFile(%q) error = %#v, want a *plan.Error naming the file", c.path, err)
		}
		if err.Error() != c.want {
			t.Errorf("error\n got  %s\n want %s", err, c.want)
		}
	}
}

// TestErrorFormat proves how an *Error prints with and without line and
// field.
func TestErrorFormat(t *testing.T) {
	cases := []struct {
		err  Error
		want string
	}{
		{Error{File: "p.yaml", Line: 14, Field: "load.stages[1].duration", Msg: `"2x" is not a duration`},
			`p.yaml:14: load.stages[1].duration: "2x" is not a duration`},
		{Error{File: "p.yaml", Line: 3, Msg: "YAML syntax: bad"}, "p.yaml:3: YAML syntax: bad"},
		{Error{Field: "version", Msg: "required"}, "plan: version: required"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

// BenchmarkParseReference measures parsing the reference plan.
func BenchmarkParseReference(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "plan-v1.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("plan-v1.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
