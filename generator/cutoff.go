package generator

// Requests the run itself cuts off (an abort rule fired, the caller
// cancelled, or the drain after the profile ran out of time) are not the
// service's doing: they are counted per request name under the class
// cancelled, in the window they ended in, and in neither the requests nor
// the errors of a window or summary, so they move no error rate.
//
// engine.cutoffs holds one counter per request name; the collector moves
// them into the window at each harvest. Only cut-off requests touch them.

// cutOff counts the user's request for st, which the end of the run cut
// off. It also marks the run as stopping: the requests' context ends
// before the load's (its child) while the cancellation spreads, and in that
// gap a user would otherwise start iterations whose requests fail at once.
func (v *vu) cutOff(st *step) {
	v.e.stopping.Store(true)
	v.e.cutoffs[st.nameID].Add(1)
}
