package server

import "sync"

// hub tells the event streams of a job that it has something new: each job
// has a channel that is closed (and replaced) when an event is written.
// Streams of jobs run by another server poll instead.
type hub struct {
	mu   sync.Mutex
	jobs map[int64]chan struct{}
}

func newHub() *hub { return &hub{jobs: map[int64]chan struct{}{}} }

// wait returns a channel closed at the job's next event.
func (h *hub) wait(job int64) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.jobs[job]
	if ch == nil {
		ch = make(chan struct{})
		h.jobs[job] = ch
	}
	return ch
}

// notify wakes the job's waiting streams.
func (h *hub) notify(job int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch := h.jobs[job]; ch != nil {
		close(ch)
		delete(h.jobs, job)
	}
}
