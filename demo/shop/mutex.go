package shop

import (
	"sync"
	"time"
)

// sharedLock is the one mutex every /v1 request takes under the
// mutex_hold knob.
type sharedLock struct {
	mu sync.Mutex
}

// hold takes the lock, keeps it d (waiting, no CPU) and lets it go: the
// mutex profile charges the others' wait to this function (the holder),
// the block profile to where they waited.
func (l *sharedLock) hold(d time.Duration) {
	l.mu.Lock()
	time.Sleep(d)
	l.mu.Unlock()
}
