package shop

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

func TestKnobMutexHoldSerialisesRequestsOnOneGoLock(t *testing.T) {
	ts := newTestShop(t, Config{})
	in := knobsJSON{MutexHold: new(string)}
	*in.MutexHold = "20ms"
	k, err := in.patch(ts.Knobs())
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.SetKnobs(k); err != nil {
		t.Fatal(err)
	}
	if got := *ts.Knobs().wire().MutexHold; got != "20ms" {
		t.Fatalf("mutex_hold reads back %q, want 20ms", got)
	}
	defer runtime.SetMutexProfileFraction(runtime.SetMutexProfileFraction(1))
	const n = 6
	start := time.Now()
	ts.load(t, n, n, "/v1/products/1")
	// One lock held 20 ms by each request: six take at least 120 ms
	// however many run at once.
	if took := time.Since(start); took < n*20*time.Millisecond {
		t.Errorf("%d concurrent requests took %s, want ≥ %s: they did not queue on the lock", n, took, n*20*time.Millisecond)
	}
	var buf bytes.Buffer
	if err := pprof.Lookup("mutex").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "shop.(*sharedLock).hold") {
		t.Errorf("the mutex profile does not name the holder shop.(*sharedLock).hold:\n%.2000s", buf.String())
	}

	bad := knobsJSON{MutexHold: new(string)}
	*bad.MutexHold = "soon"
	if _, err := bad.patch(ts.Knobs()); err == nil || !strings.Contains(err.Error(), "mutex_hold") {
		t.Errorf("a bad mutex_hold: %v, want an error naming it", err)
	}
	if err := ts.SetKnobs(Knobs{Pool: 10, MutexHold: -time.Second}); err == nil || !strings.Contains(err.Error(), "mutex_hold") {
		t.Errorf("a negative mutex_hold: %v, want an error naming it", err)
	}
}
