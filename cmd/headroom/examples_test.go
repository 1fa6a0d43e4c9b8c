package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/headroom-sre/headroom/plan"
)

// TestShippedExamplesParse proves every plan in examples/ is valid in the
// reference syntax, and that the data files they name exist.
func TestShippedExamplesParse(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("found %d example plans, want the quickstart and the shop plan", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := plan.LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Journeys) == 0 {
				t.Fatal("no journeys")
			}
			for name := range p.Data {
				if _, err := os.Stat(p.DataPath(name)); err != nil {
					t.Errorf("data.%s: %v", name, err)
				}
			}
		})
	}
}
