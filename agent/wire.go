package agent

import (
	"time"

	"github.com/headroom-sre/headroom/agent/merge"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
)

// windowToWire is w in the protocol's form.
func windowToWire(w merge.Window, start time.Time) *agentv1.Window {
	out := &agentv1.Window{
		Seq:         w.Second,
		StartUnixNs: start.Add(time.Duration(w.Second) * time.Second).UnixNano(),
		DurationNs:  int64(w.Duration),
		Offered:     w.Offered,
		Iterations:  w.Iterations,
		Dropped:     w.Dropped,
		InFlight:    w.InFlight,
		Busy:        w.Busy,
		Vus:         int64(w.VUs),
		Total:       nameToWire(w.Total),
	}
	for _, n := range w.ByName {
		out.ByName = append(out.ByName, nameToWire(n))
	}
	return out
}

func nameToWire(n merge.Name) *agentv1.NameWindow {
	out := &agentv1.NameWindow{Name: n.Name, Requests: n.Requests, Errors: n.Errors, Bytes: n.Bytes, Classes: n.Classes, Hdr: n.HDR}
	for _, e := range n.Exemplars {
		out.Exemplars = append(out.Exemplars, &agentv1.Exemplar{TraceId: e.TraceID, Name: e.Name, LatencyMs: e.LatencyMs,
			Status: int32(e.Status), Error: e.Error, AtUnixNs: e.At.UnixNano()})
	}
	return out
}

// windowFromWire is the merge form of a window agent sent.
func windowFromWire(agent string, w *agentv1.Window) merge.Window {
	out := merge.Window{
		Agent:      agent,
		Second:     w.GetSeq(),
		Seq:        uint64(max(w.GetSeq(), 0)),
		Duration:   time.Duration(w.GetDurationNs()),
		Offered:    w.GetOffered(),
		Iterations: w.GetIterations(),
		Dropped:    w.GetDropped(),
		InFlight:   w.GetInFlight(),
		Busy:       w.GetBusy(),
		VUs:        int(w.GetVus()),
		Total:      nameFromWire(w.GetTotal()),
	}
	for _, n := range w.GetByName() {
		out.ByName = append(out.ByName, nameFromWire(n))
	}
	return out
}

func nameFromWire(n *agentv1.NameWindow) merge.Name {
	out := merge.Name{Name: n.GetName(), Requests: n.GetRequests(), Errors: n.GetErrors(), Bytes: n.GetBytes(), Classes: n.GetClasses(), HDR: n.GetHdr()}
	for _, e := range n.GetExemplars() {
		out.Exemplars = append(out.Exemplars, generator.Exemplar{TraceID: e.GetTraceId(), Name: e.GetName(), LatencyMs: e.GetLatencyMs(),
			Status: int(e.GetStatus()), Error: e.GetError(), At: time.Unix(0, e.GetAtUnixNs())})
	}
	return out
}

// loadToWire is a load profile in the protocol's form; nil stays nil.
func loadToWire(l *plan.Load) *agentv1.Load {
	if l == nil {
		return nil
	}
	out := &agentv1.Load{Model: string(l.Model), Start: l.Start, MaxVus: int32(l.MaxVUs)}
	for _, s := range l.Stages {
		out.Stages = append(out.Stages, &agentv1.Stage{DurationNs: int64(s.Duration), Target: s.Target})
	}
	return out
}

// loadFromWire is the plan form of a wire load profile; nil stays nil.
func loadFromWire(l *agentv1.Load) *plan.Load {
	if l == nil {
		return nil
	}
	out := &plan.Load{Model: plan.Model(l.GetModel()), Start: l.GetStart(), MaxVUs: int(l.GetMaxVus())}
	for _, s := range l.GetStages() {
		out.Stages = append(out.Stages, plan.Stage{Duration: time.Duration(s.GetDurationNs()), Target: s.GetTarget()})
	}
	return out
}
