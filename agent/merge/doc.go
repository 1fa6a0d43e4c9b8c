// Package merge joins the per-second windows of many load agents into one
// fleet-wide generator.Second per second, exactly: every request name's HDR
// histogram is merged bucket by bucket (never an average of percentiles),
// counts are summed, latency statistics are recomputed from the merged
// histograms and the slowest exemplars are kept across agents.
//
// An agent turns each closed generator.Second into a Window inside its
// OnSecond callback (the histograms are valid only there), and sends it:
//
//	OnSecond: func(s generator.Second) {
//		w, err := merge.FromSecond("agent-3", merge.Index(start, s.Start), seq, s)
//		...
//		seq++
//		send(w)
//	}
//
// The server feeds every window it receives to one Merger per job, and takes
// out the merged seconds in order as they become complete:
//
//	m, err := merge.New(merge.Options{Agents: ids, Start: agreedStart})
//	...
//	status, err := m.Add(w) // Duplicate and Late windows are counted, not merged
//	for _, sec := range m.Ready(time.Now()) {
//		// sec.Second is the fleet's second; sec.Missing names agents that
//		// did not report before the deadline; sec.Outliers flags agents
//		// whose latency departs from the rest of the fleet.
//	}
//
// A second is complete when every expected agent has sent its window; after
// Options.Grace past the second's end on the agreed clock it is emitted
// short, naming the agents that are missing. Windows arriving after their
// second was emitted are counted as late and left out, never merged into a
// second that was already judged.
package merge
