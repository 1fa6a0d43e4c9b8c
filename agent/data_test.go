package agent

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
)

// TestShardDataGivesEachRowToOneAgent: three shares of a data file hold
// every row exactly once, each with the header.
func TestShardDataGivesEachRowToOneAgent(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("email,password\n")
	for i := range 10 {
		b.WriteString("u" + string(rune('a'+i)) + "@x,pw\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &plan.Plan{File: filepath.Join(dir, "plan.yaml"), Data: map[string]plan.DataSource{"users": {CSV: "users.csv"}}}
	seen := map[string]int{}
	for i := range 3 {
		files, rows, err := shardData(p, i, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 || files[0].GetPath() != "users.csv" || rows == "" {
			t.Fatalf("share %d: %v %q", i, files, rows)
		}
		recs, err := csv.NewReader(strings.NewReader(string(files[0].GetCsv()))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if recs[0][0] != "email" {
			t.Fatalf("share %d lost the header: %v", i, recs[0])
		}
		for _, r := range recs[1:] {
			seen[r[0]]++
		}
		out := t.TempDir()
		if err := writeData(out, files); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "users.csv")); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 10 {
		t.Fatalf("%d distinct rows across the shares, want 10", len(seen))
	}
	for r, n := range seen {
		if n != 1 {
			t.Errorf("row %s went to %d agents", r, n)
		}
	}
}

func TestWriteDataRefusesPathsOutside(t *testing.T) {
	for _, path := range []string{"../evil.csv", "/etc/evil.csv"} {
		bad := []*agentv1.DataFile{{Path: path, Csv: []byte("a\n")}}
		if err := writeData(t.TempDir(), bad); err == nil {
			t.Errorf("data file %q outside the share's folder was written", path)
		}
	}
}

// TestCalibrateMeasuresACeiling: a short calibration offers load to its own
// loopback target and reports a positive rate.
func TestCalibrateMeasuresACeiling(t *testing.T) {
	rate, err := Calibrate(t.Context(), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if rate <= 0 {
		t.Fatalf("calibrated %g/s", rate)
	}
	t.Logf("calibrated at %.0f iterations/s", rate)
	if _, err := Calibrate(t.Context(), time.Millisecond); err == nil {
		t.Fatal("a 1ms calibration was accepted")
	}
}
