package shop

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// gathered returns the value of the first sample of a metric family in the
// shop's registry.
func (ts *testShop) gathered(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := ts.metrics.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not exported", name)
	return 0
}

// load sends n requests to path from workers goroutines at once.
func (ts *testShop) load(t *testing.T, workers, n int, path string) {
	t.Helper()
	var wg sync.WaitGroup
	var failed atomic.Int64
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	for range workers {
		wg.Go(func() {
			for range jobs {
				resp, err := http.Get(ts.URL + path)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				if err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Errorf("%d of %d requests to %s failed", f, n, path) // Errorf: load may run off the test goroutine
	}
}

func TestKnobPoolMakesRequestsWaitForConnections(t *testing.T) {
	ts := newTestShop(t, Config{Pool: 100})
	ts.load(t, 16, 160, "/v1/products?per_page=50")
	if w := ts.gathered(t, "go_sql_wait_count_total"); w != 0 {
		t.Fatalf("pool 100, 16 concurrent requests: %v waits, want 0", w)
	}
	if err := ts.SetKnobs(Knobs{Pool: 2}); err != nil {
		t.Fatal(err)
	}
	if got := ts.gathered(t, "go_sql_max_open_connections"); got != 2 {
		t.Errorf("go_sql_max_open_connections = %v, want 2", got)
	}
	// Hold both connections of the pool, so the requests must wait for one
	// however fast the machine is; release them after a while.
	ctx := context.Background()
	var held []interface{ Close() error }
	for range 2 {
		c, err := ts.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	release := time.AfterFunc(300*time.Millisecond, func() {
		for _, c := range held {
			c.Close()
		}
	})
	defer release.Stop()
	start := time.Now()
	ts.load(t, 4, 4, "/v1/products?per_page=50")
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("pool 2 with both connections held: requests finished after %v, want them to wait for a connection", waited)
	}
	if w := ts.gathered(t, "go_sql_wait_count_total"); w == 0 {
		t.Errorf("pool 2 with both connections held, 4 concurrent requests: no connection waits recorded")
	}
}

func TestKnobNPlusOneQueriesOncePerProduct(t *testing.T) {
	ts := newTestShop(t, Config{})
	count := func(traceID string) int {
		if code, _ := ts.call(t, "GET", "/v1/products?per_page=20&page=3", nil, traceparent(traceID)); code != http.StatusOK {
			t.Fatalf("list: %d", code)
		}
		_, all := ts.traceSpans(t, traceID, "GET /v1/products")
		return len(dbStatements(all))
	}
	normal := count("11111111111111111111111111111111")
	if err := ts.SetKnobs(Knobs{Pool: 10, NPlusOne: true}); err != nil {
		t.Fatal(err)
	}
	nPlusOne := count("22222222222222222222222222222222")
	if normal > 2 || nPlusOne < 20+1 {
		t.Errorf("DB spans per listing of 20: %d normally, %d with n_plus_one; want ≤ 2 and ≥ 21", normal, nPlusOne)
	}
}

func TestKnobMissingIndexMakesCheckoutLookupScan(t *testing.T) {
	ts := newTestShop(t, Config{})
	plan := func() string {
		var parts []string
		rows, err := ts.db.Query("EXPLAIN QUERY PLAN "+recentOrdersQuery, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, detail)
		}
		return strings.Join(parts, "; ")
	}
	if p := plan(); !strings.Contains(p, ordersByUserIndex) {
		t.Fatalf("with the index the lookup's plan is %q, want it to use %s", p, ordersByUserIndex)
	}
	if err := ts.SetKnobs(Knobs{Pool: 10, MissingIndex: true}); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, "SCAN orders") || strings.Contains(p, ordersByUserIndex) {
		t.Errorf("with missing_index the plan is %q, want a full SCAN of orders", p)
	}
	auth := ts.login(t, 2)
	_, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 9}, auth)
	if code, out := ts.call(t, "POST", "/v1/checkout", validCheckout(cart["cart_id"].(string)), auth); code != http.StatusOK {
		t.Errorf("checkout without the index: %d %v", code, out)
	}
	if err := ts.SetKnobs(Knobs{Pool: 10}); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, ordersByUserIndex) {
		t.Errorf("after turning missing_index off the plan is %q, want the index back", p)
	}
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestKnobCPUBurnSpendsCPUPerRequest(t *testing.T) {
	ts := newTestShop(t, Config{})
	const n, burn = 10, 20 * time.Millisecond
	measure := func() time.Duration {
		before := processCPU(t)
		ts.load(t, 1, n, "/v1/products/1")
		return processCPU(t) - before
	}
	base := measure()
	if err := ts.SetKnobs(Knobs{Pool: 10, CPUBurn: burn}); err != nil {
		t.Fatal(err)
	}
	burning := measure()
	if extra := burning - base; extra < n*burn*3/4 {
		t.Errorf("CPU for %d requests: %s without cpu_burn, %s with %s each; want ≥ %s more",
			n, base, burning, burn, n*burn*3/4)
	}
}

// heapAllocs is the total bytes the Go runtime has allocated on the heap.
func heapAllocs() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

func TestKnobAllocAllocatesPerRequest(t *testing.T) {
	ts := newTestShop(t, Config{})
	const n, size = 10, 4 << 20
	measure := func() uint64 {
		before := heapAllocs()
		ts.load(t, 1, n, "/v1/products/1")
		return heapAllocs() - before
	}
	base := measure()
	if err := ts.SetKnobs(Knobs{Pool: 10, Alloc: size}); err != nil {
		t.Fatal(err)
	}
	allocating := measure()
	if allocating < base+n*size*9/10 {
		t.Errorf("heap allocated by %d requests: %d B without alloc, %d B with %d B each", n, base, allocating, size)
	}
	if got := ts.gathered(t, "shop_alloc_bytes_total"); got != n*size {
		t.Errorf("shop_alloc_bytes_total = %v, want %d", got, n*size)
	}
}

// scannableHeap is the heap the GC had to scan for pointers in its last
// cycle (each object up to its last pointer word), after a full collection
// now.
func scannableHeap() uint64 {
	runtime.GC()
	s := []rtmetrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// The alloc knob's garbage is pointer-rich and the last allocKeep requests'
// worth stays reachable, so the GC has to scan it: every kept node adds its
// pointer word to the scannable heap, where a pointer-free []byte would add
// nothing.
func TestAllocatorKeepsPointerRichGarbageReachable(t *testing.T) {
	const size = 1 << 20
	var a allocator
	before := scannableHeap()
	for range allocKeep + 8 {
		a.alloc(size)
	}
	after := scannableHeap()
	nodes := size / (nodeSize + 8) // per request
	if want := uint64(allocKeep * nodes * 8 * 3 / 4); after < before+want {
		t.Errorf("scannable heap %d B → %d B after %d allocations of %d B; want ≥ %d B more (a pointer of each node of the last %d kept)",
			before, after, allocKeep+8, size, want, allocKeep)
	}
	// Every node of the newest request's list is reachable from its head,
	// once each.
	head := a.ring[(a.next+allocKeep-1)%allocKeep]
	seen := map[*node]bool{}
	for n := head; n != nil; n = n.next {
		if seen[n] {
			t.Fatal("the list has a cycle")
		}
		seen[n] = true
	}
	if len(seen) != nodes {
		t.Errorf("list of %d nodes, want %d", len(seen), nodes)
	}
	runtime.KeepAlive(&a)
}

func TestKnobDownstreamLatencyDelaysPayment(t *testing.T) {
	ts := newTestShop(t, Config{})
	auth := ts.login(t, 4)
	payment := func(traceID string) time.Duration {
		_, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 77}, auth)
		h := traceparent(traceID)
		h["Authorization"] = auth["Authorization"]
		if code, out := ts.call(t, "POST", "/v1/checkout", validCheckout(cart["cart_id"].(string)), h); code != http.StatusOK {
			t.Fatalf("checkout: %d %v", code, out)
		}
		_, all := ts.traceSpans(t, traceID, "POST /v1/checkout")
		for _, s := range all {
			if s.Name == "payment" {
				return s.EndTime.Sub(s.StartTime)
			}
		}
		t.Fatalf("no payment span in trace %s", traceID)
		return 0
	}
	const latency = 80 * time.Millisecond
	if d := payment("33333333333333333333333333333333"); d >= latency {
		t.Fatalf("payment span took %s without the knob", d)
	}
	if err := ts.SetKnobs(Knobs{Pool: 10, DownstreamLatency: latency}); err != nil {
		t.Fatal(err)
	}
	if d := payment("44444444444444444444444444444444"); d < latency {
		t.Errorf("payment span took %s with downstream_latency %s", d, latency)
	}
}

func TestKnobCapacityCapsConcurrentRequests(t *testing.T) {
	for _, capacity := range []int{0, 2} {
		t.Run(fmt.Sprint("capacity=", capacity), func(t *testing.T) {
			const clients = 6
			var inside, most atomic.Int64
			release := make(chan struct{})
			ts := newTestShopWith(t, Config{Capacity: capacity}, func(s *Server) {
				s.inHandler = func(ctx context.Context) {
					n := inside.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					select {
					case <-release:
					case <-ctx.Done():
					}
					inside.Add(-1)
				}
			})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			t.Cleanup(unblock) // a failed wait must not leave requests blocked
			done := make(chan struct{})
			go func() {
				defer close(done)
				ts.load(t, clients, clients, "/v1/products/1")
			}()
			want, queued := int64(clients), 0.0
			if capacity > 0 {
				want, queued = int64(capacity), clients-float64(capacity)
			}
			waitFor(t, "requests to arrive", func() bool {
				return inside.Load() == want && ts.gathered(t, "shop_capacity_queue_length") == queued
			})
			unblock()
			<-done
			if got := most.Load(); got != want {
				t.Errorf("at most %d requests were in their handler at once, want %d", got, want)
			}
		})
	}
}

func TestGCCPUShareIsExported(t *testing.T) {
	ts := newTestShop(t, Config{})
	for _, name := range []string{"go_cpu_classes_gc_total_cpu_seconds_total", "go_cpu_classes_total_cpu_seconds_total"} {
		ts.gathered(t, name) // fails when not exported
	}
}
