package report

import (
	"fmt"
	"strings"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/soak"
)

// loop holds the rest of the loop a document may carry: a soak's trends,
// a spike's recovery, an assessment of the autoscaled fleet.
type loop struct {
	soak   *soak.Result
	spike  *capacity.Spike
	assess *capacity.Assessment
}

// addLoop puts each part's verdict in the executive summary's checks and
// its arithmetic in a section of its own.
func (v *view) addLoop(l loop) {
	if r := l.soak; r != nil {
		c := check{Group: "soak", Name: "soak", Threshold: "no resource grows without levelling off",
			Measured: string(r.Verdict), Status: statusPass}
		sec := section{Title: fmt.Sprintf("Soak: trends over %s at %s", r.To.Sub(r.From).Round(1e9), fmtFloat(r.Target))}
		var leaks []string
		for _, s := range r.Signals {
			sec.Lines = append(sec.Lines, s.Sentence())
			if s.Resource && s.Verdict == soak.Leak {
				leaks = append(leaks, s.Name)
			}
		}
		switch r.Verdict {
		case soak.Leak:
			c.Status, c.Measured = statusFail, "a leak: "+strings.Join(leaks, ", ")+" grow"
			c.Note = "a leak: the 95% interval of the slope above zero, the growth material, still growing in the last half"
		case soak.NotAvailable:
			c.Status, c.Note = statusWarn, r.Note
		}
		sec.Lines = append(sec.Lines, "Slopes are Theil–Sen (the median of the slopes between every pair of samples) with Sen's 95% confidence interval; a leak's growth over the soak must exceed the larger of a floor and a share of its level, and it must still grow in the last half.")
		v.Checks = append(v.Checks, c)
		v.Arithmetic = append(v.Arithmetic, sec)
	}
	if s := l.spike; s != nil {
		c := check{Group: "spike", Name: fmt.Sprintf("spike ×%s: every SLO back within %s", fmtFloat(s.Profile.Peak/s.Profile.Baseline), s.Profile.After),
			Threshold: s.Criterion, Measured: s.Verdict, Status: statusPass}
		if s.Recovered {
			c.Measured = fmt.Sprintf("recovered %ds after the drop", *s.RecoveryS)
		} else {
			c.Status = statusFail
		}
		sec := section{Title: "Spike", Lines: []string{s.Statement,
			fmt.Sprintf("during the spike: %d errors of %d requests (%s), worst second p99 %s against the baseline's %s; throughput over the hold %s",
				s.Errors, s.Requests, fmtPct(s.ErrorRate), fmtMs(s.WorstP99), fmtMs(s.BaselineP99), fmtRPS(s.Throughput))}}
		if r := s.Scaling; r != nil && r.DecidedS != nil {
			line := fmt.Sprintf("autoscaler: %.0f serving before; more wanted %.0fs after the jump", r.Before, *r.DecidedS)
			if r.ServingS != nil {
				line += fmt.Sprintf(", more serving %.0fs after it", *r.ServingS)
			}
			sec.Lines = append(sec.Lines, line+fmt.Sprintf("; most serving %.0f", r.Most))
		}
		v.Checks = append(v.Checks, c)
		v.Arithmetic = append(v.Arithmetic, sec)
	}
	if a := l.assess; a != nil {
		c := check{Group: "assess", Name: fmt.Sprintf("assess: the fleet keeps its SLOs from %s to %s it/s", fmtFloat(a.Input.From), fmtFloat(a.Input.To)),
			Threshold: a.Criterion + ", every second", Measured: fmt.Sprintf("%d of %d seconds missed", a.MissCount, a.Seconds), Status: statusPass}
		if !a.Held {
			c.Status = statusFail
		}
		if a.Corrected != nil {
			c.Note = a.Corrected.Reason
		}
		sec := section{Title: "Assess: the autoscaled fleet", Lines: append([]string{a.Statement}, a.Arithmetic...)}
		for _, m := range a.Misses {
			sec.Lines = append(sec.Lines, fmt.Sprintf("missed at %.0fs: %s it/s on %.0f serving: %s", m.AtS, fmtFloat(m.Offered), m.Serving, m.Why))
		}
		v.Checks = append(v.Checks, c)
		v.Arithmetic = append(v.Arithmetic, sec)
	}
}
