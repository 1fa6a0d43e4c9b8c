package shop

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/demo/internal/cpuquota"
)

// fakeCgroupV1 is a cgroup v1 tree in a temporary folder with the cgroup
// the shop will create already there, as the kernel would make it: its
// quota, period and cpu.stat files. It returns the host and that folder.
func fakeCgroupV1(t *testing.T) (cpuquota.Host, string) {
	t.Helper()
	root := t.TempDir()
	child := filepath.Join(root, "cpu", cgroupName+"-"+strconv.Itoa(os.Getpid()))
	files := map[string]string{
		"cpu/cpu.cfs_quota_us": "-1\n",
		"cpu/cgroup.procs":     "1\n",
	}
	if err := os.MkdirAll(child, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"cpu.cfs_quota_us": "-1\n", "cpu.cfs_period_us": "100000\n",
		"cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
	} {
		files[filepath.Join("cpu", filepath.Base(child), name)] = content
	}
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	self := filepath.Join(t.TempDir(), "cgroup")
	if err := os.WriteFile(self, []byte("1:cpu:/\n0::/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cpuquota.Host{Root: root, SelfCgroup: self, RemoveDir: os.RemoveAll}, child
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// scrape returns the shop's /metrics text.
func (ts *testShop) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

func TestCPULimitFlagRunsTheProcessUnderAQuota(t *testing.T) {
	host, child := fakeCgroupV1(t)
	ts := newTestShop(t, Config{CPULimit: 0.5, cgroups: host, ServiceName: "shop-q"})
	if got := fileText(t, filepath.Join(child, "cgroup.procs")); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("the cgroup's cgroup.procs = %q, want this process (%d)", got, os.Getpid())
	}
	if got := fileText(t, filepath.Join(child, "cpu.cfs_quota_us")); got != "50000" {
		t.Errorf("cpu.cfs_quota_us = %q, want 50000 (0.5 of a 100 ms period)", got)
	}
	// The kernel counts; the shop exports what it counted, under cAdvisor's names.
	if err := os.WriteFile(filepath.Join(child, "cpu.stat"),
		[]byte("nr_periods 120\nnr_throttled 45\nthrottled_time 2500000000\nnr_bursts 0\nburst_time 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	labels := `{container="shop-q",id="/` + filepath.Base(child) + `"}`
	text := ts.scrape(t)
	for _, want := range []string{
		"container_cpu_cfs_periods_total" + labels + " 120",
		"container_cpu_cfs_throttled_periods_total" + labels + " 45",
		"container_cpu_cfs_throttled_seconds_total" + labels + " 2.5",
		"container_spec_cpu_quota" + labels + " 50000",
		"container_spec_cpu_period" + labels + " 100000",
		`shop_knob{knob="cpu_limit"} 0.5`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := ts.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fileText(t, filepath.Join(host.Root, "cpu", "cgroup.procs")); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("after Shutdown the home cgroup.procs = %q, want this process moved back", got)
	}
	if _, err := os.Stat(child); !os.IsNotExist(err) {
		t.Errorf("the cgroup is still there after Shutdown: %v", err)
	}
}

func TestCPULimitKnobAtRunTime(t *testing.T) {
	host, child := fakeCgroupV1(t)
	ts := newTestShop(t, Config{cgroups: host})
	if _, err := os.Stat(filepath.Join(child, "cgroup.procs")); !os.IsNotExist(err) {
		t.Fatalf("a cgroup was joined without a limit: %v", err)
	}
	if text := ts.scrape(t); strings.Contains(text, "container_cpu_cfs") {
		t.Errorf("throttling counters exported without a limit")
	}
	code, out := ts.call(t, "POST", "/admin/knobs", `{"cpu_limit": 0.25}`, nil)
	if code != http.StatusOK || out["cpu_limit"] != 0.25 {
		t.Fatalf("POST cpu_limit 0.25: %d %v", code, out)
	}
	if got := fileText(t, filepath.Join(child, "cpu.cfs_quota_us")); got != "25000" {
		t.Errorf("cpu.cfs_quota_us = %q, want 25000", got)
	}
	if text := ts.scrape(t); !strings.Contains(text, "container_cpu_cfs_periods_total{") {
		t.Errorf("no throttling counters once a limit is set")
	}
	if code, out := ts.call(t, "POST", "/admin/knobs", `{"cpu_limit": 0}`, nil); code != http.StatusOK || out["cpu_limit"] != 0.0 {
		t.Fatalf("POST cpu_limit 0: %d %v", code, out)
	}
	if got := fileText(t, filepath.Join(child, "cpu.cfs_quota_us")); got != "-1" {
		t.Errorf("cpu.cfs_quota_us = %q after lifting the limit, want -1", got)
	}
	text := ts.scrape(t)
	if !strings.Contains(text, "container_cpu_cfs_periods_total{") || strings.Contains(text, "container_spec_cpu_quota{") {
		t.Errorf("without a limit: want the counters kept and no quota gauge:\n%s", text)
	}
	for _, bad := range []string{`{"cpu_limit": -1}`, `{"cpu_limit": 0.001}`, `{"cpu_limit": 5000}`, `{"cpu_limit": "half"}`} {
		if code, out := ts.call(t, "POST", "/admin/knobs", bad, nil); code != http.StatusBadRequest {
			t.Errorf("POST %s: %d %v, want 400", bad, code, out)
		}
	}
}

func TestCPULimitWithoutACgroupSaysWhy(t *testing.T) {
	root := t.TempDir() // no cgroup hierarchy at all
	self := filepath.Join(root, "self")
	if err := os.WriteFile(self, []byte("0::/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := cpuquota.Host{Root: root, SelfCgroup: self}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := New(ctx, Config{Products: 10, Users: 2, CPULimit: 0.5, cgroups: host})
	if err == nil || !strings.Contains(err.Error(), "cpu_limit") || !strings.Contains(err.Error(), "no writable cgroup cpu controller") {
		t.Fatalf("New with a CPU limit and no cgroups: %v, want an error saying why", err)
	}
	ts := newTestShop(t, Config{cgroups: host})
	code, out := ts.call(t, "POST", "/admin/knobs", `{"cpu_limit": 0.5, "pool": 3}`, nil)
	if code != http.StatusBadRequest || !strings.Contains(out["error"].(string), "needs root") {
		t.Errorf("POST cpu_limit without cgroups: %d %v, want 400 saying why", code, out)
	}
	if k := ts.Knobs(); k.CPULimit != 0 || k.Pool != 10 {
		t.Errorf("a refused update changed the knobs: %+v", k)
	}
}
