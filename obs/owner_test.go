package obs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/obs"
)

// ownerDirEnv tells the test binary, run again as a child, to start a stack
// in that folder and exit without stopping it.
const ownerDirEnv = "OBS_TEST_OWNER_DIR"

// TestStackStopsWhenItsOwnerExits runs a child process that starts a stack
// and exits without Stop (as a test killed by its timeout would), and checks
// that both servers are gone shortly after.
func TestStackStopsWhenItsOwnerExits(t *testing.T) {
	obs.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	t.Cleanup(func() { // only does something when the test failed
		if out, err := runScript(context.Background(), t, "obs-down", "OBS_DIR="+dir); err != nil {
			t.Errorf("obs-down: %v\n%s", err, out)
		}
	})
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperStartAndExit$", "-test.count=1")
	cmd.Env = append(os.Environ(), ownerDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var promPID, jaegerPID int
	for _, line := range strings.Split(string(out), "\n") {
		if _, err := fmt.Sscanf(line, "PIDS %d %d", &promPID, &jaegerPID); err == nil {
			break
		}
	}
	if promPID == 0 || jaegerPID == 0 {
		t.Fatalf("child printed no PIDs:\n%s", out)
	}
	for _, pid := range []int{promPID, jaegerPID} {
		for running(pid, dir) {
			select {
			case <-ctx.Done():
				t.Fatalf("PID %d still runs after its owner exited (watch log: %s)", pid, readFile(filepath.Join(dir, "watch.log")))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// TestHelperStartAndExit is the child of TestStackStopsWhenItsOwnerExits;
// it does nothing in a normal run.
func TestHelperStartAndExit(t *testing.T) {
	dir := os.Getenv(ownerDirEnv)
	if dir == "" {
		t.Skip("helper process for TestStackStopsWhenItsOwnerExits")
	}
	stack, err := obs.Start(context.Background(), obs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_ = stack
	fmt.Printf("PIDS %s %s\n", readFile(filepath.Join(dir, "prometheus.pid")), readFile(filepath.Join(dir, "jaeger.pid")))
	os.Exit(0)
}

// running reports whether pid runs a command that mentions dir.
func running(pid int, dir string) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.Contains(string(cmdline), dir)
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
