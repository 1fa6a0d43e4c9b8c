package generator

import "encoding/hex"

// Requests the run itself cuts off (an abort rule fired, the caller
// cancelled, or the drain after the profile ran out of time) are not the
// service's doing: they are counted per request name under the class
// cancelled, in the window they ended in, and in neither the requests nor
// the errors of a window or summary, so they move no error rate.
//
// cutoffs holds one counter per request name, and one more for a request
// whose name could not be told; the collector moves them into the window
// at each harvest. Only cut-off requests touch them.

// noteCutOff counts the user's last request if the end of the run cut it
// off. send leaves such a request unrecorded, its outcome started (at set)
// but with neither a latency nor a class; every recorded outcome has one
// or the other. Marking the outcome counted makes a second call a no-op.
//
// A cut-off request also marks the run as stopping: the requests' context
// ends before the load's (its child) while the cancellation spreads, and
// in that gap a user would otherwise start iterations whose requests fail
// at once.
func (v *vu) noteCutOff() {
	o := &v.o
	if o.at == 0 || o.us != 0 || o.class != classNone || v.e.reqCtx.Err() == nil {
		return
	}
	v.e.stopping.Store(true)
	v.e.cutoffs[v.nameOfTrace(&o.trace)].Add(1)
	o.us = -1
}

// nameOfTrace is the request name index of the user's step whose last
// traceparent carried trace, or len(names) when no step did.
func (v *vu) nameOfTrace(trace *[16]byte) int {
	var id [32]byte
	hex.Encode(id[:], trace[:])
	for _, j := range v.e.journeys {
		for _, st := range j.steps {
			if st.method == "" {
				continue
			}
			tp := v.states[st.idx].tp
			if len(tp) == 1 && len(tp[0]) == traceparentLen && tp[0][3:35] == string(id[:]) {
				return st.nameID
			}
		}
	}
	return len(v.e.names)
}
