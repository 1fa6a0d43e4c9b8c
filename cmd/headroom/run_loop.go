package main

import (
	"fmt"
	"io"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// runLoad is the load `headroom run` sends: the plan's, with a soak's hold
// or a spike's profile when the plan has one.
func runLoad(p *plan.Plan) plan.Load {
	switch {
	case p.Soak.Duration > 0:
		l, _, _, _ := p.SoakLoad()
		return l
	case p.Spike.Enabled():
		return capacity.NewSpikeProfile(p).Load(p.Load.Model, p.Load.MaxVUs)
	}
	return p.Load
}

// printLoop prints a soak's and a spike's verdicts under the summary.
func printLoop(w io.Writer, r *pipeline.RunResult) {
	if s := r.Soak; s != nil {
		fmt.Fprintf(w, "\nSoak: %s\n", s.Verdict)
		for _, sig := range s.Signals {
			fmt.Fprintf(w, "  %s\n", sig.Sentence())
		}
	}
	if s := r.Spike; s != nil {
		fmt.Fprintf(w, "\nSpike: %s\n  %s\n", s.Verdict, s.Statement)
	}
}
