package profiles

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRealShopBurnTopsTheDiff runs the demo shop (a real process) with the
// cpu_burn fault and --pprof-addr on loopback, profiles it under a light
// load and then under a heavier one, and expects the burn function at the
// top of the diff. Precondition: the headroom binary builds and the shop
// starts; the test fails otherwise. Run it under flock
// /tmp/headroom-load.lock: it loads the machine for about 6 seconds.
func TestRealShopBurnTopsTheDiff(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "headroom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/headroom-sre/headroom/cmd/headroom").CombinedOutput(); err != nil {
		t.Fatalf("precondition: building headroom: %v\n%s", err, out)
	}
	api, pprofBase := startShop(t, bin, "--cpu-burn", "2ms")

	ctx := context.Background()
	f := Fetcher{Base: pprofBase}
	// Baseline: a request every 100 ms; loaded: 4 clients back to back.
	baseRaw, baseN := profileUnderLoad(t, ctx, f, api, 1, 100*time.Millisecond)
	degRaw, degN := profileUnderLoad(t, ctx, f, api, 4, 0)
	base, err := Summarize(baseRaw.Profile, CPU, float64(baseN))
	if err != nil {
		t.Fatal(err)
	}
	deg, err := Summarize(degRaw.Profile, CPU, float64(degN))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(base, deg)
	if err != nil {
		t.Fatal(err)
	}
	top := d.Top(3)
	for _, r := range top {
		t.Logf("%s (rise %.3f cores)", d.Sentence(r), r.Rise/1e9)
	}
	t.Logf("baseline %d requests, %.3f s of CPU; loaded %d requests, %.3f s of CPU", baseN, base.Total/1e9, degN, deg.Total/1e9)
	if len(top) == 0 || top[0].Name != "github.com/headroom-sre/headroom/demo/shop.burnCPU" {
		t.Fatalf("top of the diff %+v, want shop.burnCPU", top)
	}
	if !strings.HasPrefix(Short(top[0].Under), "shop.") {
		t.Errorf("burnCPU under %q, want a shop function", top[0].Under)
	}
	// 2 ms of burn a request, part of it spent reading the thread's CPU
	// clock (golang.org/x/sys/unix, charged to itself: it is not the
	// standard library): burnCPU's own share is more than half of it
	// (1.51 ms of 2 in the run that set this bound).
	if top[0].PerRequest < float64(time.Millisecond) {
		t.Errorf("burnCPU %.2f ms per request, want at least half the knob's 2 ms", top[0].PerRequest/1e6)
	}
}

// startShop starts `headroom demo shop` on loopback ports chosen by the
// system and returns its API and pprof base URLs.
func startShop(t *testing.T, bin string, args ...string) (api, pprofBase string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"demo", "shop", "--addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0",
		"--products", "200", "--users", "10"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("precondition: starting the shop: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	listening := regexp.MustCompile(`shop listening on (http://\S+)`)
	profiles := regexp.MustCompile(`shop profiles on (http://\S+)/debug/pprof/`)
	found := make(chan [2]string, 1)
	go func() {
		var a, p string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				a = m[1]
			}
			if m := profiles.FindStringSubmatch(sc.Text()); m != nil {
				p = m[1] + "/debug/pprof"
			}
			if a != "" && p != "" {
				found <- [2]string{a, p}
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u[0], u[1]
	case <-time.After(60 * time.Second):
		t.Fatalf("precondition: the shop did not say where it listens within 60 s; stderr: %s", stderr.String())
	}
	return "", ""
}

// profileUnderLoad fetches a 3-second CPU profile while clients send GET
// /v1/products/{id} to the loopback shop (each pausing pause between
// requests), bounded by the profile's span and 20 000 requests. It returns
// the profile and the requests answered 200 during it.
func profileUnderLoad(t *testing.T, ctx context.Context, f Fetcher, api string, clients int, pause time.Duration) (*Fetched, int64) {
	t.Helper()
	if !strings.HasPrefix(api, "http://127.0.0.1:") {
		t.Fatalf("load goes to loopback only, not %s", api)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ok, budget atomic.Int64
	budget.Store(20_000)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; budget.Add(-1) >= 0 && ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/products/"+strconv.Itoa(1+(c*1000+i)%200), nil)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
					}
				}
				if pause > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(pause):
					}
				}
			}
		}()
	}
	got, err := f.Fetch(ctx, CPU, 3*time.Second)
	n := ok.Load() // requests answered while the profile ran
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("fetching the CPU profile: %v", err)
	}
	if n == 0 {
		t.Fatalf("no request answered 200 during the profile")
	}
	return got, n
}
