package shop

import (
	"runtime"
	"testing"
	"time"
)

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestKnobLeakKeepsBytesPerRequest(t *testing.T) {
	ts := newTestShop(t, Config{})
	const n, size = 20, 1 << 20
	ts.load(t, 1, 2, "/v1/products/1") // warm up caches outside the measurement
	before := liveHeap()
	if err := ts.SetKnobs(Knobs{Pool: 10, Leak: size}); err != nil {
		t.Fatal(err)
	}
	ts.load(t, 2, n, "/v1/products/1")
	after := liveHeap()
	if after < before+n*size*9/10 {
		t.Errorf("live heap %d B → %d B after %d requests leaking %d B each; want ≥ %d B more", before, after, n, size, n*size*9/10)
	}
	if got := ts.gathered(t, "shop_leaked_bytes_total"); got != n*size {
		t.Errorf("shop_leaked_bytes_total = %v, want %d", got, n*size)
	}
	if got := ts.leaked.kept(); got != n*size {
		t.Errorf("kept %d B, want %d", got, n*size)
	}
}

func TestLeakStopsAtItsBound(t *testing.T) {
	l := leaker{total: maxLeaked - 10}
	if got := l.keep(100); got != 0 {
		t.Errorf("keep past the bound kept %d B, want 0", got)
	}
	if got := l.keep(10); got != 10 {
		t.Errorf("keep up to the bound kept %d B, want 10", got)
	}
}

func TestKnobLeakOutOfRangeIsRefused(t *testing.T) {
	for _, v := range []int{-1, maxLeak + 1} {
		if err := (Knobs{Pool: 1, Leak: v}).validate(); err == nil {
			t.Errorf("leak %d accepted", v)
		}
	}
}

// With capacity 2 and a 50 ms service time, 8 requests at once need four
// rounds of two: never less than 200 ms, whatever the machine.
func TestKnobServiceTimeHoldsTheSlot(t *testing.T) {
	ts := newTestShop(t, Config{Capacity: 2, ServiceTime: 50 * time.Millisecond})
	start := time.Now()
	ts.load(t, 8, 8, "/v1/products/1")
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("8 requests through 2 slots of 50 ms took %s, want ≥ 200ms", took)
	}
}
