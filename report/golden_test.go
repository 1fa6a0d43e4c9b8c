package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/headroom-sre/headroom/pipeline"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Errorf("%s differs from the golden file (go test -update rewrites it) at line %d:\ngot:  %.300s\nwant: %.300s", name, i+1, g, w)
				return
			}
		}
	}
}

func render(t *testing.T, a pipeline.Artifact, o Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, a, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGoldenMarkdownAndJUnit(t *testing.T) {
	p := loadPlan(t)
	for _, tc := range []struct {
		name string
		a    pipeline.Artifact
	}{
		{"study", fixedStudy(t, 1)},
		{"run", fixedRun(t, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			md := render(t, tc.a, Options{Format: Markdown, Plan: p, ChartDir: dir, ChartLink: tc.name + "-charts"})
			golden(t, tc.name+".md", md)
			golden(t, tc.name+".junit.xml", render(t, tc.a, Options{Format: JUnit, Plan: p}))
			pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
			if len(pngs) < 3 {
				t.Errorf("charts written: %v, want at least latency, throughput and errors", pngs)
			}
			for _, f := range pngs {
				b, _ := os.ReadFile(f)
				if !bytes.HasPrefix(b, []byte("\x89PNG")) {
					t.Errorf("%s is not a PNG", f)
				}
			}
		})
	}
}

// The fixtures as documents, for the command's tests (cmd/headroom reads
// them): a study and the same service 30% slower.
func TestFixtureDocuments(t *testing.T) {
	for name, a := range map[string]pipeline.Artifact{
		"study.json":      fixedStudy(t, 1),
		"study-slow.json": fixedStudy(t, 0.7),
	} {
		b, err := json.Marshal(a.Study)
		if err != nil {
			t.Fatal(err)
		}
		back, err := pipeline.Decode(b)
		if err != nil || back.Kind != a.Kind {
			t.Fatalf("%s does not decode: %v", name, err)
		}
		golden(t, name, append(b, '\n'))
	}
}
