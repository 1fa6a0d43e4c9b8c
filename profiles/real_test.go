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

// TestRealShopProfilesNameTheCulprits runs the demo shop (a real process)
// with three faults at once — cpu_burn, alloc and mutex_hold — and
// --pprof-addr on loopback, profiles it under a light load and then under
// a heavier one (CPU, allocation, mutex and block profiles over the same
// 3 seconds), and expects each fault's function at the top of its
// profile's diff: the burn function for CPU, the allocating function for
// allocations, the lock's holder for mutex waits. Precondition: the
// headroom binary builds and the shop starts; the test fails otherwise.
// Run it under flock /tmp/headroom-load.lock: it loads the machine for
// about 6 seconds.
func TestRealShopProfilesNameTheCulprits(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "headroom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/headroom-sre/headroom/cmd/headroom").CombinedOutput(); err != nil {
		t.Fatalf("precondition: building headroom: %v\n%s", err, out)
	}
	const allocBytes = 64 << 10
	api, pprofBase := startShop(t, bin, "--cpu-burn", "2ms", "--alloc", strconv.Itoa(allocBytes), "--mutex-hold", "1ms")

	ctx := context.Background()
	f := Fetcher{Base: pprofBase}
	// Baseline: a request every 100 ms; loaded: 4 clients back to back.
	baseRaw, baseN := profileUnderLoad(t, ctx, f, api, 1, 100*time.Millisecond)
	degRaw, degN := profileUnderLoad(t, ctx, f, api, 4, 0)
	diff := func(kind Kind) Diff {
		t.Helper()
		base, err := Summarize(baseRaw[kind].Profile, kind, float64(baseN))
		if err != nil {
			t.Fatal(err)
		}
		deg, err := Summarize(degRaw[kind].Profile, kind, float64(degN))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Compare(base, deg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Top(3) {
			t.Logf("%s: %s (rise %.4g %s/s)", kind, d.Sentence(r), r.Rise, d.Unit)
		}
		t.Logf("%s: baseline %d requests, total %.4g %s; loaded %d requests, total %.4g", kind, baseN, base.Total, base.Unit, degN, deg.Total)
		return d
	}

	cpu := diff(CPU).Top(3)
	if len(cpu) == 0 || cpu[0].Name != "github.com/headroom-sre/headroom/demo/shop.burnCPU" {
		t.Errorf("top of the CPU diff %+v, want shop.burnCPU", cpu)
	} else {
		if !strings.HasPrefix(Short(cpu[0].Under), "shop.") {
			t.Errorf("burnCPU under %q, want a shop function", cpu[0].Under)
		}
		// 2 ms of burn a request, part of it spent reading the thread's CPU
		// clock (golang.org/x/sys/unix, charged to itself: it is not the
		// standard library): burnCPU's own share is more than half of it
		// (1.51 ms of 2 in the run that set this bound).
		if cpu[0].PerRequest < float64(time.Millisecond) {
			t.Errorf("burnCPU %.2f ms per request, want at least half the knob's 2 ms", cpu[0].PerRequest/1e6)
		}
	}

	allocs := diff(Allocs).Top(3)
	if len(allocs) == 0 || allocs[0].Name != "github.com/headroom-sre/headroom/demo/shop.list" ||
		Short(allocs[0].Under) != "shop.(*allocator).alloc" {
		t.Errorf("top of the allocation diff %+v, want shop.list under shop.(*allocator).alloc", allocs)
	} else if pr := allocs[0].PerRequest; pr < allocBytes/2 || pr > 4*allocBytes {
		// The runtime samples allocations (one per 512 KiB on average) and
		// scales them up: an estimate, near the knob's 64 KiB plus list's
		// index of pointers (about a third more).
		t.Errorf("shop.list allocated %.0f bytes per request, want about the knob's %d", pr, allocBytes)
	}

	mutex := diff(Mutex).Top(3)
	if len(mutex) == 0 || mutex[0].Name != "github.com/headroom-sre/headroom/demo/shop.(*sharedLock).hold" {
		t.Errorf("top of the mutex diff %+v, want the lock's holder shop.(*sharedLock).hold", mutex)
	}
	block := diff(Block).Top(3)
	if len(block) == 0 || block[0].Name != "github.com/headroom-sre/headroom/demo/shop.(*sharedLock).hold" {
		t.Errorf("top of the block diff %+v, want where the requests waited, shop.(*sharedLock).hold", block)
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

// profileUnderLoad fetches 3-second CPU, allocation, mutex and block
// profiles at once while clients send GET /v1/products/{id} to the
// loopback shop (each pausing pause between requests), bounded by the
// profiles' span and 20 000 requests. It returns the profiles and the
// requests answered 200 during them.
func profileUnderLoad(t *testing.T, ctx context.Context, f Fetcher, api string, clients int, pause time.Duration) (map[Kind]*Fetched, int64) {
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
	kinds := []Kind{CPU, Allocs, Mutex, Block}
	got := make([]*Fetched, len(kinds))
	errs := make([]error, len(kinds))
	var fetches sync.WaitGroup
	for i, k := range kinds {
		fetches.Go(func() { got[i], errs[i] = f.Fetch(ctx, k, 3*time.Second) })
	}
	fetches.Wait()
	n := ok.Load() // requests answered while the profiles ran
	cancel()
	wg.Wait()
	out := map[Kind]*Fetched{}
	for i, k := range kinds {
		if errs[i] != nil {
			t.Fatalf("fetching the %s profile: %v", k, errs[i])
		}
		out[k] = got[i]
	}
	if n == 0 {
		t.Fatalf("no request answered 200 during the profiles")
	}
	return out, n
}
