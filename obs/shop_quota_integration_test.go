package obs_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/obs"
)

// TestShopCPULimitThrottlesForReal runs `headroom demo shop --cpu-limit
// 0.1` as its own process (as root), keeps it busy with requests that each
// burn 20 ms of CPU, and waits until its /metrics shows the kernel
// throttling it: far more CPU asked than 0.1 cores, whatever the machine's
// speed. Stopping the shop removes its cgroup.
func TestShopCPULimitThrottlesForReal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a CPU limit needs root to create a cgroup")
	}
	if os.Getenv("HEADROOM_SKIP_CGROUP") == "1" {
		t.Skip("HEADROOM_SKIP_CGROUP=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shop, err := obs.StartShop(ctx, obs.ShopConfig{Dir: t.TempDir(),
		Args: []string{"--cpu-limit", "0.1", "--cpu-burn", "20ms", "--products", "200", "--users", "20", "--service", "shop-quota"}})
	if err != nil {
		t.Fatal(err)
	}
	defer shop.Stop()

	metrics := func() map[string]float64 {
		_, body := httpGet(ctx, t, shop.URL+"/metrics")
		return cfsSeries(body)
	}
	first := metrics()
	if first["container_spec_cpu_quota"] != 10000 || first["container_spec_cpu_period"] != 100000 {
		t.Fatalf("quota and period = %v and %v µs, want 10000 of 100000 (0.1 cores)", first["container_spec_cpu_quota"], first["container_spec_cpu_period"])
	}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				req, _ := http.NewRequestWithContext(loadCtx, http.MethodGet, shop.URL+"/v1/products/1", nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	defer func() { stopLoad(); wg.Wait() }()

	deadline := time.Now().Add(time.Minute)
	var now map[string]float64
	for {
		now = metrics()
		if now["container_cpu_cfs_throttled_periods_total"] >= first["container_cpu_cfs_throttled_periods_total"]+5 &&
			now["container_cpu_cfs_throttled_seconds_total"] > first["container_cpu_cfs_throttled_seconds_total"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no throttling within a minute of load: %v (at the start %v)", now, first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if now["container_cpu_cfs_throttled_periods_total"] > now["container_cpu_cfs_periods_total"] {
		t.Errorf("more throttled periods than periods: %v", now)
	}
	t.Logf("under load: %v", now)
	stopLoad()
	wg.Wait()

	id := cgroupID(ctx, t, shop.URL)
	if err := shop.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, mount := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(mount, id)); err == nil {
			t.Errorf("the shop's cgroup %s is still there after it stopped", filepath.Join(mount, id))
		}
	}
}

func httpGet(ctx context.Context, t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var cfsLine = regexp.MustCompile(`(?m)^(container_(?:cpu_cfs_\w+|spec_cpu_quota|spec_cpu_period))\{[^}]*\} (\S+)$`)

// cfsSeries reads the container_* samples of a /metrics text by name.
func cfsSeries(text string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range cfsLine.FindAllStringSubmatch(text, -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			out[m[1]] = v
		}
	}
	return out
}

// cgroupID is the id label of the shop's throttling counters: its cgroup.
func cgroupID(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	_, body := httpGet(ctx, t, url+"/metrics")
	m := regexp.MustCompile(`container_cpu_cfs_periods_total\{[^}]*id="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(m[1], "headroom-shop-") {
		t.Fatalf("no id label naming the shop's cgroup on its counters: %v", m)
	}
	return m[1]
}
