package soak

import (
	"runtime/metrics"
	"sync"
	"time"
)

// maxSelfPoints bounds what a SelfSampler keeps: when full it drops every
// other point and samples half as often, so its memory stays flat however
// long the soak.
const maxSelfPoints = 1024

// SelfSampler samples Headroom's own memory at a steady interval until
// Stop: the Go runtime's mapped memory less what it gave back to the OS
// (close to resident memory) and the live heap after the last GC.
type SelfSampler struct {
	mu    sync.Mutex
	every time.Duration
	mem   []Point
	heap  []Point
	stop  chan struct{}
	done  chan struct{}
}

// SampleSelf starts sampling every interval (default 1 s).
func SampleSelf(every time.Duration) *SelfSampler {
	if every <= 0 {
		every = time.Second
	}
	s := &SelfSampler{every: every, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *SelfSampler) loop() {
	defer close(s.done)
	s.sample()
	t := time.NewTimer(s.every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			s.sample()
			return
		case <-t.C:
			s.sample()
			s.mu.Lock()
			every := s.every
			s.mu.Unlock()
			t.Reset(every)
		}
	}
}

var selfMetrics = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/heap/live:bytes",
}

func (s *SelfSampler) sample() {
	samples := make([]metrics.Sample, len(selfMetrics))
	for i, n := range selfMetrics {
		samples[i].Name = n
	}
	metrics.Read(samples)
	val := func(i int) float64 {
		if samples[i].Value.Kind() == metrics.KindUint64 {
			return float64(samples[i].Value.Uint64())
		}
		return 0
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mem = append(s.mem, Point{T: now, V: val(0) - val(1)})
	s.heap = append(s.heap, Point{T: now, V: val(2)})
	if len(s.mem) >= maxSelfPoints {
		s.mem, s.heap = halve(s.mem), halve(s.heap)
		s.every *= 2
	}
}

// halve keeps every other point, in place.
func halve(pts []Point) []Point {
	n := 0
	for i := 0; i < len(pts); i += 2 {
		pts[n] = pts[i]
		n++
	}
	return pts[:n]
}

// Stop ends the sampling and returns the memory and live-heap samples.
func (s *SelfSampler) Stop() (mem, heap []Point) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Point(nil), s.mem...), append([]Point(nil), s.heap...)
}
