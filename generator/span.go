package generator

import "time"

// span is one window's harvest on its way to delivery: what the shards
// recorded between start and end, and what the collector sampled meanwhile.
type span struct {
	start, end time.Time
	names      []tally // per request name
	iterations int64
	dropped    int64
	inFlight   float64 // sum of the in-flight samples
	busy       float64 // sum of the busy-user samples
	samples    int
	users      int // virtual users at the last sample
}

func newSpan(names int) *span { return &span{names: make([]tally, names)} }

// duration is how long the span lasted.
func (s *span) duration() time.Duration { return s.end.Sub(s.start) }

// absorb appends the span that follows s to it: s then covers both, and
// keeps everything either recorded (counts, histograms, error classes,
// exemplars, dropped iterations, samples).
func (s *span) absorb(next *span) {
	s.end = next.end
	for i := range next.names {
		s.names[i].merge(&next.names[i])
	}
	s.iterations += next.iterations
	s.dropped += next.dropped
	s.inFlight += next.inFlight
	s.busy += next.busy
	s.samples += next.samples
	s.users = next.users
}

// reuse empties s (keeping its histograms) for the window starting at start.
func (s *span) reuse(start time.Time) {
	for i := range s.names {
		s.names[i].reset()
	}
	names := s.names
	*s = span{start: start, end: start, names: names}
}

// recorded reports whether t holds anything to show: requests, or requests
// cut off by the end of the run.
func recorded(t *tally) bool { return t.requests > 0 || t.classes[classCancelled] > 0 }
