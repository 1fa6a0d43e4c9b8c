package cpuquota

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeHost is a cgroup tree in a temporary folder. files are written
// relative to it; "self" is this process's cgroup file.
func fakeHost(t *testing.T, self string, files map[string]string) Host {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	selfFile := filepath.Join(t.TempDir(), "cgroup")
	if err := os.WriteFile(selfFile, []byte(self), 0o644); err != nil {
		t.Fatal(err)
	}
	return Host{Root: root, SelfCgroup: selfFile, RemoveDir: os.RemoveAll}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// A pid no process has: the fake cgroup's name carries it. The kernel
// creates a cgroup's control files with the folder; the fake tree has them
// ready in a folder of that name.
const fakePid = 4242

var fakeName = "headroom-test-" + strconv.Itoa(fakePid)

func TestCreateV1(t *testing.T) {
	h := fakeHost(t, "12:cpu,cpuacct:/jobs\n4:memory:/x\n0::/\n", map[string]string{
		"cpu,cpuacct/cpu.cfs_quota_us":                        "-1\n",
		"cpu,cpuacct/jobs/cgroup.procs":                       "1\n",
		"cpu,cpuacct/jobs/" + fakeName + "/cpu.cfs_quota_us":  "-1\n",
		"cpu,cpuacct/jobs/" + fakeName + "/cpu.cfs_period_us": "100000\n",
		"cpu,cpuacct/jobs/" + fakeName + "/cpu.stat":          "nr_periods 30\nnr_throttled 7\nthrottled_time 1500000000\nnr_bursts 0\nburst_time 0\n",
		// Left by a process that is gone: removed. One still in use stays.
		"cpu,cpuacct/jobs/headroom-test-999999999/cgroup.procs": "",
		"cpu,cpuacct/jobs/headroom-test-1/cgroup.procs":         "1\n",
		"unified/cgroup.controllers":                            "hugetlb\n",
	})
	g, err := Create(h, "headroom-test", fakePid)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(h.Root, "cpu,cpuacct/jobs", fakeName)
	if g.Version != V1 || g.Dir != dir || g.Path != "/jobs/"+fakeName {
		t.Errorf("Create = %s %s %s, want v1 %s /jobs/%s", g.Version, g.Dir, g.Path, dir, fakeName)
	}
	if got := read(t, filepath.Join(dir, "cgroup.procs")); got != strconv.Itoa(fakePid) {
		t.Errorf("cgroup.procs = %q, want the process moved in", got)
	}
	if _, err := os.Stat(filepath.Join(h.Root, "cpu,cpuacct/jobs/headroom-test-999999999")); !os.IsNotExist(err) {
		t.Errorf("a stale cgroup of a gone process was left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h.Root, "cpu,cpuacct/jobs/headroom-test-1")); err != nil {
		t.Errorf("the cgroup of a running process was removed: %v", err)
	}
	if err := g.SetLimit(0.5); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "cpu.cfs_quota_us")); got != "50000" {
		t.Errorf("cpu.cfs_quota_us = %q after SetLimit(0.5), want 50000", got)
	}
	if q, p, err := g.Limit(); err != nil || q != 50*time.Millisecond || p != 100*time.Millisecond {
		t.Errorf("Limit = %v, %v, %v; want 50ms per 100ms", q, p, err)
	}
	if err := g.SetLimit(0.001); err == nil {
		t.Errorf("SetLimit(0.001) accepted a limit below %g", MinLimit)
	}
	if err := g.SetLimit(0); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "cpu.cfs_quota_us")); got != "-1" {
		t.Errorf("cpu.cfs_quota_us = %q after SetLimit(0), want -1", got)
	}
	if q, _, _ := g.Limit(); q != 0 {
		t.Errorf("Limit quota = %v without a limit, want 0", q)
	}
	st, err := g.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stat{Periods: 30, ThrottledPeriods: 7, Throttled: 1500 * time.Millisecond}); st != want {
		t.Errorf("Stat = %+v, want %+v", st, want)
	}
	if err := g.Remove(fakePid); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(h.Root, "cpu,cpuacct/jobs/cgroup.procs")); got != strconv.Itoa(fakePid) {
		t.Errorf("home cgroup.procs = %q after Remove, want the process moved back", got)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cgroup folder still there after Remove: %v", err)
	}
}

func TestCreateV2(t *testing.T) {
	h := fakeHost(t, "0::/user.slice/session-1.scope\n", map[string]string{
		"cgroup.controllers":                      "cpuset cpu io memory pids\n",
		"cgroup.subtree_control":                  "memory\n",
		"user.slice/session-1.scope/cgroup.procs": "1\n",
		fakeName + "/cpu.max":                     "max 100000\n",
		fakeName + "/cpu.stat":                    "usage_usec 99\nnr_periods 10\nnr_throttled 4\nthrottled_usec 250000\n",
	})
	g, err := Create(h, "headroom-test", fakePid)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(h.Root, fakeName)
	if g.Version != V2 || g.Dir != dir || g.Path != "/"+fakeName {
		t.Errorf("Create = %s %s %s, want v2 %s /%s", g.Version, g.Dir, g.Path, dir, fakeName)
	}
	if got := read(t, filepath.Join(h.Root, "cgroup.subtree_control")); got != "+cpu" {
		t.Errorf("cgroup.subtree_control written %q, want +cpu (the cpu controller enabled for children)", got)
	}
	if err := g.SetLimit(0.25); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "cpu.max")); got != "25000 100000" {
		t.Errorf("cpu.max = %q after SetLimit(0.25), want \"25000 100000\"", got)
	}
	if q, p, err := g.Limit(); err != nil || q != 25*time.Millisecond || p != 100*time.Millisecond {
		t.Errorf("Limit = %v, %v, %v; want 25ms per 100ms", q, p, err)
	}
	if err := g.SetLimit(0); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "cpu.max")); got != "max 100000" {
		t.Errorf("cpu.max = %q after SetLimit(0), want \"max 100000\"", got)
	}
	st, err := g.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stat{Periods: 10, ThrottledPeriods: 4, Throttled: 250 * time.Millisecond}); st != want {
		t.Errorf("Stat = %+v, want %+v", st, want)
	}
	if err := g.Remove(fakePid); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(h.Root, "user.slice/session-1.scope/cgroup.procs")); got != strconv.Itoa(fakePid) {
		t.Errorf("home cgroup.procs = %q after Remove, want the process moved back", got)
	}
}

func TestCreateV2InHybridMode(t *testing.T) {
	h := fakeHost(t, "0::/\n", map[string]string{
		"unified/cgroup.controllers":     "cpu memory\n",
		"unified/cgroup.subtree_control": "cpu\n",
		"unified/cgroup.procs":           "1\n",
	})
	g, err := Create(h, "headroom-test", fakePid)
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != V2 || g.Dir != filepath.Join(h.Root, "unified", fakeName) {
		t.Errorf("Create = %s %s, want v2 under unified/", g.Version, g.Dir)
	}
	if got := read(t, filepath.Join(h.Root, "unified/cgroup.subtree_control")); got != "cpu" {
		t.Errorf("cgroup.subtree_control = %q, want it left as it was (cpu already enabled)", got)
	}
}

// TestCreateSaysWhyNeitherVersionWorks: a v1 cpu hierarchy that cannot be
// written and a v2 one without the cpu controller (this machine's shape
// without root).
func TestCreateSaysWhyNeitherVersionWorks(t *testing.T) {
	h := fakeHost(t, "1:cpu:/\n0::/\n", map[string]string{
		"cpu/cpu.cfs_quota_us":       "-1\n",
		"cpu/" + fakeName:            "not a folder: the cgroup cannot be made\n",
		"unified/cgroup.controllers": "hugetlb\n",
	})
	_, err := Create(h, "headroom-test", fakePid)
	if err == nil {
		t.Fatal("Create succeeded")
	}
	for _, want := range []string{"no writable cgroup cpu controller", "needs root", "v1: moving process", "v2:", `does not offer the cpu controller (cgroup.controllers: "hugetlb")`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	h = fakeHost(t, "0::/\n", nil)
	_, err = Create(h, "headroom-test", fakePid)
	for _, want := range []string{"v1: no cpu hierarchy", "v2: no cgroup2 hierarchy"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v on an empty tree does not say %q", err, want)
		}
	}
}

func TestCreateRefusesANameThatIsAPath(t *testing.T) {
	for _, name := range []string{"", "../x", "a/b", "."} {
		if _, err := Create(Host{}, name, fakePid); err == nil || !strings.Contains(err.Error(), "plain name") {
			t.Errorf("Create(%q) error = %v, want a refusal", name, err)
		}
	}
}
