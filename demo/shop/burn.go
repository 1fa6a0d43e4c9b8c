package shop

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"time"
	"unsafe"
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

// node is one object of the alloc knob's garbage: 16 bytes (one size
// class) holding one pointer, so for every node kept the GC has an object
// to mark and a pointer to follow. Marking costs about the same per object
// whatever its size, allocating (under the race detector especially) grows
// with the size: small nodes make the GC the larger part of the cost, as
// in services whose heaps are many small structs.
type node struct {
	next *node
	_    [8]byte
}

// nodeSize is the bytes of one node.
const nodeSize = int(unsafe.Sizeof(node{}))

// allocator allocates per-request pointer-rich garbage and keeps the last
// allocKeep requests' lists reachable, so the heap grows and each GC cycle
// has to mark them object by object, as it would a real service's
// per-request structures (a []byte, holding no pointers, is never scanned).
type allocator struct {
	mu   sync.Mutex
	ring [allocKeep]*node
	next int
}

// alloc allocates about n bytes as a linked list of nodes (see list) and
// keeps the list until allocKeep more requests have allocated theirs.
func (a *allocator) alloc(n int) {
	if n <= 0 {
		return
	}
	head := list(n)
	a.mu.Lock()
	a.ring[a.next] = head
	a.next = (a.next + 1) % allocKeep
	a.mu.Unlock()
}

// list allocates about n bytes as k 16-byte nodes plus the k-pointer index
// used to link them, and links the nodes in a scattered order (a stride of
// about 0.62·k, coprime with k, visits every index once), so marking the
// list jumps across memory as a real heap's pointers do instead of walking
// it in allocation order.
//
// The race detector is off here: its per-access cost would otherwise
// dwarf the GC work this exists to cause (the allocations still go
// through the runtime, GC and race bookkeeping as any other).
//
//go:norace
func list(n int) *node {
	k := max(1, n/(nodeSize+8))
	idx := make([]*node, k)
	for i := range idx {
		idx[i] = new(node)
	}
	stride := max(1, k*618/1000)
	for gcd(stride, k) != 1 {
		stride++
	}
	j := 0
	for range k - 1 {
		next := (j + stride) % k
		idx[j].next = idx[next]
		j = next
	}
	return idx[0]
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
