package cpuquota

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// burnEnv makes the test binary a CPU burner: it spins on every CPU until
// its standard input closes (when the test, or its process, ends).
const burnEnv = "HEADROOM_CPUQUOTA_BURN"

// SkipEnv set to "1" skips the tests on the real cgroup filesystem when
// this process is root but cannot create cgroups (an unprivileged
// container); without root they skip anyway.
const SkipEnv = "HEADROOM_SKIP_CGROUP"

func TestMain(m *testing.M) {
	if os.Getenv(burnEnv) == "1" {
		for range runtime.GOMAXPROCS(0) {
			go func() {
				for x := 0; ; x++ {
					_ = x * x
				}
			}()
		}
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// requireRealCgroups skips unless the test can change the host's cgroups.
func requireRealCgroups(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1", SkipEnv)
	}
}

// TestQuotaThrottlesABusyProcess puts a process that spins on every CPU
// under a quota of 0.05 cores and waits until the kernel's counters show
// it throttled: however fast the machine, a spinning process uses its 5 ms
// in each 100 ms period and is held back for the rest.
func TestQuotaThrottlesABusyProcess(t *testing.T) {
	requireRealCgroups(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), burnEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stdin.Close()
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	defer stop()
	g, err := Create(Host{}, "headroom-cpuquota-test", pid)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop() // an empty cgroup can be removed
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(g.Dir); !os.IsNotExist(err) {
			t.Errorf("%s still there after Remove: %v", g.Dir, err)
		}
	}()
	if !strings.Contains(cgroupOf(t, pid), g.Path) {
		t.Fatalf("process %d is in %q, not %s", pid, cgroupOf(t, pid), g.Path)
	}
	if err := g.SetLimit(0.05); err != nil {
		t.Fatal(err)
	}
	quota, period, err := g.Limit()
	if err != nil || quota != 5*time.Millisecond || period != 100*time.Millisecond {
		t.Fatalf("Limit = %v per %v (%v), want 5ms per 100ms", quota, period, err)
	}
	first, err := g.Stat()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	var st Stat
	for {
		if st, err = g.Stat(); err != nil {
			t.Fatal(err)
		}
		if st.ThrottledPeriods >= first.ThrottledPeriods+5 && st.Throttled > first.Throttled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no throttling within a minute: %+v (at the start %+v)", st, first)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.ThrottledPeriods > st.Periods {
		t.Errorf("%d throttled periods of %d", st.ThrottledPeriods, st.Periods)
	}
	t.Logf("after the quota: %+v", st)
}

// TestThisProcessMovesInAndBack is what the shop does with itself: into a
// cgroup of its own, and back to where it was before the cgroup is removed.
func TestThisProcessMovesInAndBack(t *testing.T) {
	requireRealCgroups(t)
	pid := os.Getpid()
	before := cgroupOf(t, pid)
	g, err := Create(Host{}, "headroom-cpuquota-test", pid)
	if err != nil {
		t.Fatal(err)
	}
	if got := cgroupOf(t, pid); !strings.Contains(got, g.Path) {
		t.Errorf("after Create this process is in %q, want %s", got, g.Path)
	}
	if err := g.Remove(pid); err != nil {
		t.Fatal(err)
	}
	if got := cgroupOf(t, pid); got != before {
		t.Errorf("after Remove this process is in %q, want %q as before", got, before)
	}
	if _, err := os.Stat(g.Dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Remove: %v", g.Dir, err)
	}
}

// cgroupOf is the process's cpu cgroup line(s) from /proc/<pid>/cgroup.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); strings.Contains(l, ":cpu") || strings.HasPrefix(l, "0::") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
