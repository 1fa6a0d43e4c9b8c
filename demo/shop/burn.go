package shop

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"time"
)

// burnCPU hashes in a busy loop until the calling thread has used d of CPU
// time (wall time where the thread clock is not available). Under CPU
// contention it therefore takes longer than d, as real CPU-bound work does.
func burnCPU(d time.Duration) byte {
	if d <= 0 {
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := threadCPUClock()
	start := clock()
	sum := sha256.Sum256([]byte("headroom"))
	for clock()-start < d {
		for range 32 {
			sum = sha256.Sum256(sum[:])
		}
	}
	return sum[0]
}

// wallClock is the fallback clock of burnCPU.
func wallClock() func() time.Duration {
	t0 := time.Now()
	return func() time.Duration { return time.Since(t0) }
}

// allocKeep is how many requests' allocations stay reachable at once.
const allocKeep = 32

// allocator allocates per-request garbage and keeps the last allocKeep
// buffers reachable, so the heap grows and the GC has real work.
type allocator struct {
	mu   sync.Mutex
	ring [allocKeep][]byte
	next int
}

// alloc allocates n bytes, touches every page, and keeps the buffer.
func (a *allocator) alloc(n int) {
	if n <= 0 {
		return
	}
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = byte(i >> 12)
	}
	a.mu.Lock()
	a.ring[a.next] = b
	a.next = (a.next + 1) % allocKeep
	a.mu.Unlock()
}
