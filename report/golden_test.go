package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/headroom-sre/headroom/internal/golden"
	"github.com/headroom-sre/headroom/pipeline"
)

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
			golden.Check(t, tc.name+".md", md)
			golden.Check(t, tc.name+".junit.xml", render(t, tc.a, Options{Format: JUnit, Plan: p}))
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
		golden.Check(t, name, append(b, '\n'))
	}
}
