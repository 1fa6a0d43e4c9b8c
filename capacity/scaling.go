package capacity

import (
	"fmt"
	"strings"
)

// subLinearAdvice ends the scaling note of a fleet that fell short until
// the study is told why (ExplainScaling).
const subLinearAdvice = "look for what the instances share (database, cache, balancer, network) or a generator limit"

// subLinearNote is the study's note when n instances carried ratio of
// n × the single-instance capacity.
func subLinearNote(n int, ratio float64) string {
	return fmt.Sprintf("scaling finding: %d instances carry %.0f%% of %d × single-instance capacity — sub-linear; %s", n, ratio*100, n, subLinearAdvice)
}

// SubLinear reports whether verification measured the fleet more than the
// tolerance below the prediction (a lower bound included).
func (p Prediction) SubLinear() bool {
	return p.Ratio != nil && *p.Ratio < 1-scalingTolerance
}

// ExplainScaling puts why the fleet fell short (its cause, in words) in
// place of the advice of the study's sub-linear scaling note, or adds it
// as a note of its own when there is none.
func (s *Study) ExplainScaling(cause string) {
	for i, n := range s.Notes {
		if strings.HasPrefix(n, "scaling finding:") && strings.HasSuffix(n, subLinearAdvice) {
			s.Notes[i] = strings.TrimSuffix(n, subLinearAdvice) + cause
			return
		}
	}
	s.Notes = append(s.Notes, "scaling finding: "+cause)
}
