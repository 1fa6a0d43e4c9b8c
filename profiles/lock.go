package profiles

import (
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
)

// Lock-wait rules: a lock finding needs the degraded steps' requests to
// have waited at least minLockShare of their mean latency, and at least
// minLockWait, on one function's lock.
const (
	minLockShare = 0.10
	minLockWait  = 100 * time.Microsecond
)

// LockFinding reads the degraded steps' mutex profile against the
// baseline's: when requests waited on one function's Go lock for a good
// part of their latency, it is a finding naming the lock's holder (the
// mutex profile charges the wait to the function that held the lock), the
// block profile's top function saying where they waited. ok is false when
// the profiles are missing or the waits are too small to matter.
func (r *Recorder) LockFinding(st capacity.Study) (f correlate.Finding, ok bool, err error) {
	d, ok, err := r.KindDiff(st, Mutex)
	if err != nil || !ok {
		return correlate.Finding{}, false, err
	}
	top := d.Top(1)
	if len(top) == 0 || top[0].Rise <= 0 || !(top[0].PerRequest >= float64(minLockWait)) {
		return correlate.Finding{}, false, nil
	}
	hold := top[0]
	meanMs := degradedMeanLatency(st)
	share := 0.0
	if meanMs > 0 {
		share = hold.PerRequest / 1e6 / meanMs
	}
	if meanMs > 0 && share < minLockShare {
		return correlate.Finding{}, false, nil
	}
	f = correlate.Finding{
		Kind:  KindLockWait,
		Title: fmt.Sprintf("Requests queue on a Go lock held in %s", Short(hold.Name)),
		Score: min(share, 1),
	}
	wait := fmt.Sprintf("In the degraded steps each request waited %s on average for a lock %s held",
		FormatValue(hold.PerRequest, d.Unit), Short(hold.Name))
	if meanMs > 0 {
		wait += fmt.Sprintf(", %.0f%% of their mean latency (%.1f ms)", 100*share, meanMs)
	}
	f.Evidence.Facts = append(f.Evidence.Facts, wait+".")
	for _, row := range d.Top(3) {
		f.Evidence.Facts = append(f.Evidence.Facts, Mutex.label()+": "+d.Sentence(row)+".")
	}
	if bd, bok, berr := r.KindDiff(st, Block); berr == nil && bok {
		for _, row := range bd.Top(1) {
			f.Evidence.Facts = append(f.Evidence.Facts, Block.label()+": "+bd.Sentence(row)+".")
		}
	}
	f.Recommendation = fmt.Sprintf("Shorten what %s does while it holds the lock (no I/O or sleeping inside it), split the lock by key, "+
		"or use a read-write lock or a lock-free structure; the mutex and block profiles are kept with the job (go tool pprof).", Short(hold.Name))
	return f, true, nil
}

// degradedMeanLatency is the mean latency (ms) of the study's degraded
// steps (those after the first whose verdict is not acceptable), weighted
// by their requests; 0 when there are none.
func degradedMeanLatency(st capacity.Study) float64 {
	var sum, n float64
	for i, s := range st.Steps {
		if i == 0 || s.Verdict == capacity.Acceptable {
			continue
		}
		req := s.Throughput * s.Seconds
		sum += s.Latency.Mean * req
		n += req
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// AddFinding puts f among findings by its score (after those that score
// as much) and numbers the ranks again.
func AddFinding(findings []correlate.Finding, f correlate.Finding) []correlate.Finding {
	at := len(findings)
	for i, x := range findings {
		if f.Score > x.Score {
			at = i
			break
		}
	}
	out := append(findings[:at:at], f)
	out = append(out, findings[at:]...)
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}
