package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/profiles"
)

// demoShop starts `headroom demo shop` in-process on loopback port 0 with
// its profiles on a listener of their own; it returns the API's and the
// pprof base URLs.
func demoShop(t *testing.T, flags ...string) (api, pprof string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDemo(ctx, append([]string{"shop", "--addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0",
			"--products", "20", "--users", "2"}, flags...), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("demo shop exited %d: %s", code, stderr.String())
		}
	})
	apiRe := regexp.MustCompile(`shop listening on (http://\S+)`)
	profRe := regexp.MustCompile(`shop profiles on (http://\S+/debug/pprof)/`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, p := apiRe.FindStringSubmatch(stdout.String()), profRe.FindStringSubmatch(stdout.String())
		if a != nil && p != nil {
			return a[1], p[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("precondition: the demo shop did not say where it listens: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const profiledPlan = `version: 1
name: profiled
target: { base_url: BASE, timeout: 5s }
slo: { p99: 500ms, error_rate: 1% }
load:
  model: open
  max_vus: 200
  stages: [ { duration: 1s, target: 1 } ]
journeys:
  - name: browse
    steps: [ { name: list, get: /v1/products } ]
abort:
  max_rate: 60/s
observe:
  pprof: PPROF
capacity:
  start_rate: 15
  step_duration: 2s
  precision: 25%
  cooldown: 1s
`

// headroom capacity keeps the profiles observe.pprof gives beside its
// --out, one .pb.gz each, listed with their top functions in the study.
// It studies the demo shop (2 ms of CPU a request) from 15 to 60 it/s
// (abort.max_rate), about 15 s of light load.
func TestCapacityCommandKeepsTheProfilesBesideItsOutput(t *testing.T) {
	api, pprofURL := demoShop(t, "--cpu-burn", "2ms")
	path := writePlan(t, strings.NewReplacer("BASE", api, "PPROF", pprofURL).Replace(profiledPlan), "")
	out := filepath.Join(t.TempDir(), "study.json")
	code, stdout, stderr := runCapacity(path, "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if testing.Verbose() {
		t.Logf("headroom capacity --out study.json:\n%s", stdout)
	}
	dir := filepath.Join(filepath.Dir(out), "study-profiles")
	if !strings.Contains(stdout, "Profiles: ") || !strings.Contains(stdout, "kept in "+dir) {
		t.Errorf("stdout does not say where the profiles are:\n%s", stdout)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	a, err := pipeline.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	st := a.Study
	if len(st.Steps) < 2 {
		t.Fatalf("precondition: %d steps, want a baseline and more", len(st.Steps))
	}
	listed := map[string]pipeline.ProfileFile{}
	cpuSteps := map[int]bool{}
	burn := false
	for _, f := range st.Profiles {
		listed[f.File] = f
		b, err := os.ReadFile(filepath.Join(filepath.Dir(out), f.File))
		if err != nil {
			t.Errorf("listed profile %s: %v", f.File, err)
			continue
		}
		if len(b) != f.Bytes {
			t.Errorf("%s: %d bytes on disk, %d listed", f.File, len(b), f.Bytes)
		}
		p, err := profiles.Parse(b)
		if err != nil || len(p.Sample) == 0 {
			t.Errorf("%s does not parse as a profile with samples (err %v)", f.File, err)
			continue
		}
		if f.Problem != "" {
			t.Errorf("%s: not summed up: %s", f.File, f.Problem)
		}
		if f.Kind != "cpu" {
			continue // a mutex or block profile may hold only the profiler's own stacks, never ranked
		}
		if len(f.Top) == 0 {
			t.Errorf("%s: no top functions", f.File)
		}
		cpuSteps[f.Step] = true
		if testing.Verbose() && len(f.Top) > 0 {
			t.Logf("%s (%d bytes): %s", f.File, f.Bytes, f.Top[0].Sentence)
		}
		if want := fmt.Sprintf("%s-%d-cpu.pb.gz", f.Phase, f.Step); filepath.Base(f.File) != want {
			t.Errorf("CPU profile file %s, want %s", f.File, want)
		}
		for _, top := range f.Top {
			burn = burn || strings.Contains(top.Function, "burnCPU")
			if hasDelta := top.DeltaPoints != nil; hasDelta != (f.Phase != "baseline") {
				t.Errorf("%s: %s has points against the baseline: %v; want them on every step but the baseline's", f.File, top.Function, hasDelta)
			}
			if top.PerRequestMS == nil || top.Sentence == "" {
				t.Errorf("%s: %s lacks its ms per request or sentence", f.File, top.Function)
			}
		}
	}
	for _, s := range st.Steps {
		if s.Seconds >= 1 && !cpuSteps[s.Index] {
			t.Errorf("step %d (%s at %g it/s) has no CPU profile listed; listed: %v", s.Index, s.Phase, s.Rate, keys(listed))
		}
	}
	if !burn {
		t.Errorf("no CPU profile's top names the shop's burnCPU (2 ms a request): %+v", st.Profiles)
	}
	onDisk, _ := filepath.Glob(filepath.Join(dir, "*.pb.gz"))
	if len(onDisk) != len(st.Profiles) {
		t.Errorf("%d files in %s, %d listed in the study", len(onDisk), dir, len(st.Profiles))
	}
}

func keys(m map[string]pipeline.ProfileFile) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCapacityCommandRefusesProfilesItCannotKeep(t *testing.T) {
	plan := writePlan(t, strings.NewReplacer("BASE", "http://127.0.0.1:1", "\nobserve:\n  pprof: PPROF", "").Replace(profiledPlan), "")
	code, _, stderr := runCapacity(plan, "--profiles-dir", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "--profiles-dir: no profiles to keep: the plan names no observe.pprof") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	plan = writePlan(t, strings.NewReplacer("BASE", "http://127.0.0.1:1", "PPROF", "http://127.0.0.1:1/debug/pprof").Replace(profiledPlan), "")
	code, _, stderr = runCapacity(plan, "--profiles-dir", filepath.Join(blocked, "profiles"))
	if code != exitUsage || !strings.Contains(stderr, "--profiles-dir:") {
		t.Errorf("a folder that cannot be made: exit %d, stderr %q", code, stderr)
	}
}
